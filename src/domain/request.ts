// The request/VM record as the workflow sees it. One row per request; a request that
// is approved becomes a VM and keeps the same id for its whole life.
import type { HostKeyFingerprint } from './hostkeys.js';
import type { LeaseRecord } from './lease.js';
import type { ProgressStep, RequestState } from './states.js';

/**
 * Members are identified per platform: a Slack user and a Discord user are different members.
 * A chat platform's name (src/chat/platforms.ts: 'slack', 'discord', ...), or the built-in
 * 'web' (the console) and 'cli' (commands run on the server).
 */
export type Platform = string;

export interface MemberRef {
  platform: Platform;
  userId: string;
  /** For display only; never used for decisions. */
  displayName?: string;
}

/** Who is acting, as the adapter saw them. Groups are Slack user-group IDs or Discord role IDs. */
export interface Actor extends MemberRef {
  groups: readonly string[];
}

/** What a member fills in (already-validated form; see domain/validation). */
export interface RequestInput {
  name: string;
  distro: string;
  size: string;
  login: string;
  /** Raw text of one or more OpenSSH public keys, one per line. */
  sshKeys: string;
  reason: string;
}

export interface VmAddress {
  ipv4?: string;
  ipv6?: string[];
  /** ISO time the watcher saw it. */
  seenAt: string;
}

export interface Decision {
  by: MemberRef;
  at: string;
  verb: 'approved' | 'denied' | 'cancelled';
  reason?: string;
}

/** A request's details once validated: what the job and the cloud-init files are made from. */
export interface RequestDetails {
  name: string;
  distro: string;
  size: string;
  login: string;
  /** Normalised public keys (`type base64 [comment]`), one per entry. */
  sshKeys: string[];
  reason: string;
}

export interface VmRequest extends RequestDetails {
  /** Random, stable, short (e.g. "k3x9q2m7bz"); goes into job meta vmbot_request and button IDs. */
  id: string;
  requester: MemberRef;
  /**
   * The requester's groups (Actor.groups) when they asked: their quota's group overrides
   * (policy.quota.groups), for the admin card. Rows from before migration 5 have none.
   */
  requesterGroups?: string[];
  state: RequestState;
  /** Set once a MAC is taken; kept across Retry. */
  mac: string | null;
  /** jobPrefix + name; fixed at approval so Retry resubmits the same job. */
  jobId: string | null;
  /**
   * The Nomad cluster (`nomad.clusters[].name`) chosen at approval; everything done to the
   * job afterwards goes there. null: not approved yet, or a row from before clusters existed
   * (those live on the default cluster, the first one configured).
   */
  cluster: string | null;
  /** Token of the built-in NoCloud path (>= 128 bits), fixed at approval. */
  seedToken: string | null;
  evalId: string | null;
  allocId: string | null;
  /** Byte offset into the current allocation's stdout already read by the watcher. */
  logOffset: number;
  progress: ProgressStep | null;
  address: VmAddress | null;
  decision: Decision | null;
  failure: { code: string; message: string; consoleTail?: string[] } | null;
  createdAt: string;
  updatedAt: string;
  approvedAt: string | null;
  /** Why the VM is stopped; set with the move to 'stopped' (null otherwise, or never stopped). */
  stopReason: StopReason | null;
  /** Rebuilds done so far; the cloud-init instance-id changes with each (0: never rebuilt). */
  rebuilds: number;
  /** The SSH host key fingerprints the console printed; null until seen (cleared by a rebuild). */
  hostKeys: HostKeyFingerprint[] | null;
  /** The lease; null when the VM never expires (or was approved before leases existed). */
  lease: LeaseRecord | null;
  /** When the member asked the admins for a renewal that is still undecided; null: none pending. */
  renewalRequestedAt: string | null;
  /** Why a VM that ran is booting again (a fresh disk: new host keys); null once it runs, or on its first boot. */
  bootCause: BootCause | null;
}

/** start: started again after a stop; rebuild: a fresh disk asked for; moved: Nomad rescheduled it to another node. */
export type BootCause = 'start' | 'rebuild' | 'moved';

/** Who stopped a VM: its owner, an admin, or the lease scheduler at expiry. */
export type StopReason = 'member' | 'admin' | 'lease';
