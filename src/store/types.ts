// What the workflow needs from persistence. The SQLite implementation lives beside
// this file; the workflow depends on these interfaces only.
import type { Decision, MemberRef, RequestDetails, VmAddress, VmRequest } from '../domain/request.js';
import type { ProgressStep, RequestState } from '../domain/states.js';

export interface AuditEntry {
  /** Who did it: a member, or `{ platform: 'cli', userId: 'system' }` for vmbot itself. */
  actor: MemberRef;
  /** e.g. "request", "approve", "deny", "approve_refused", "state:provisioning->running", "mac_allocated". */
  action: string;
  requestId?: string | null;
  vmName?: string | null;
  /** Why: the reason given, the error message, the refused check. */
  detail?: string | null;
}

export interface AuditRow extends Required<Omit<AuditEntry, 'actor'>> {
  id: number;
  at: string;
  actor: MemberRef;
}

export interface NewRequest extends RequestDetails {
  requester: MemberRef;
  /** The requester's groups as the chat platform reported them (Actor.groups); default none. */
  requesterGroups?: readonly string[];
}

/** Fields a transition may set along with the state (everything else is left alone). */
export type RequestPatch = Partial<
  Pick<
    VmRequest,
    | 'mac' | 'jobId' | 'cluster' | 'seedToken' | 'evalId' | 'allocId' | 'logOffset' | 'progress' | 'address' | 'decision' | 'failure' | 'approvedAt'
    | 'stopReason' | 'rebuilds' | 'hostKeys' | 'lease' | 'renewalRequestedAt' | 'bootCause'
  >
>;

export interface RequestStore {
  /** Inserts a pending request; throws VmbotError('name_taken') if a live request holds the name. */
  create(input: NewRequest, audit: Omit<AuditEntry, 'requestId' | 'vmName'>): Promise<VmRequest>;
  get(id: string): Promise<VmRequest | undefined>;
  /** The request holding this name now (states in NAME_HOLDING_STATES), if any. */
  findLiveByName(name: string): Promise<VmRequest | undefined>;
  list(filter?: { requester?: MemberRef; states?: readonly RequestState[] }): Promise<VmRequest[]>;
  /**
   * One conditional UPDATE (`WHERE id = ? AND state IN (from)`) plus its audit row, in
   * one transaction. Returns the updated request, or undefined if the state did not match
   * (someone else got there first) — nothing is written then.
   */
  transition(
    id: string,
    from: RequestState | readonly RequestState[],
    to: RequestState,
    patch: RequestPatch,
    audit: Omit<AuditEntry, 'requestId' | 'vmName'>,
  ): Promise<VmRequest | undefined>;
  /** Updates non-state fields while the request is in one of `inStates`; undefined if not. */
  update(id: string, inStates: readonly RequestState[], patch: RequestPatch): Promise<VmRequest | undefined>;
  /**
   * Calls `listener` with the new row after each committed create, transition or update
   * that changed what the request's card shows. The watcher's bookkeeping (logOffset, and
   * allocId written again unchanged) emits nothing: it moves on every console read.
   * Listeners run synchronously and must not throw. Returns the unsubscribe function.
   */
  onChange(listener: (request: VmRequest) => void): () => void;
}

export type MacHolder =
  | { kind: 'request'; requestId: string; vmName: string; state: RequestState }
  | { kind: 'reserved'; note: string }
  | { kind: 'external'; jobId: string };

export interface MacUsage {
  total: number;
  used: number;
  reserved: number;
  external: number;
  free: number;
  holders: Array<{ mac: string; holder: MacHolder }>;
}

export interface MacStore {
  /**
   * Takes the lowest free MAC of the pool for a request in one atomic statement.
   * Idempotent: a request that already holds a MAC gets the same one back.
   * Throws VmbotError('pool_exhausted') and changes nothing when none is free.
   */
  allocate(requestId: string): Promise<string>;
  /** The MAC that allocate() would take next, without taking it (for `vmbot render`). */
  peekNext(): Promise<string | null>;
  /**
   * Frees the MAC held by a request (no-op if none). `keptByJob`: a hand-made job still uses
   * it, so it is handed to that job (kind `external`, as pool sync would mark it) in the same
   * statement instead of going back to the pool.
   */
  releaseForRequest(requestId: string, opts?: { keptByJob?: string }): Promise<void>;
  /** Admin tools. `force` frees a MAC held by a live VM. */
  reserve(mac: string, note: string): Promise<void>;
  release(mac: string, opts?: { force?: boolean }): Promise<void>;
  /** Pool sync: mark MACs used by hand-made jobs; free external MACs whose job is gone. */
  syncExternal(found: Array<{ mac: string; jobId: string }>): Promise<{ added: string[]; freed: string[]; conflicts: Array<{ mac: string; jobId: string; requestId: string }> }>;
  usage(): Promise<MacUsage>;
}

export interface MemberProfile {
  login: string;
  sshKeys: string[];
}

export interface MemberStore {
  getProfile(member: MemberRef): Promise<MemberProfile | undefined>;
  saveProfile(member: MemberRef, profile: MemberProfile): Promise<void>;
}

export interface AuditStore {
  append(entry: AuditEntry): Promise<void>;
  list(filter?: { requestId?: string; vmName?: string; limit?: number }): Promise<AuditRow[]>;
}

/** Where each platform drew a request's card (channel + message id), so it can be edited later. */
export interface CardStore {
  get(requestId: string, platform: string): Promise<string | undefined>;
  set(requestId: string, platform: string, ref: string): Promise<void>;
}

export interface Store {
  requests: RequestStore;
  macs: MacStore;
  members: MemberStore;
  audit: AuditStore;
  cards: CardStore;
  close(): Promise<void>;
}

export type { Decision, VmAddress, ProgressStep };
