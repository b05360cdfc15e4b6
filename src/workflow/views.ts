// The neutral outbound views (DESIGN §3): the workflow's outbound port. What it wants to
// say, drawn by each chat adapter (Slack blocks, Discord embeds + components, the web
// console's HTML).
// Adapters draw; they decide nothing. All text fields hold raw member text: each adapter
// escapes it for its own platform (DESIGN §4).
import type { BootCause, MemberRef, Platform } from '../domain/request.js';
import type { Problem } from '../domain/problem.js';
import type { ProgressStep, RequestState } from '../domain/states.js';

/**
 * Every button vmbot draws, in one list. Adding a kind = a line here and in ACTIONS, its
 * wording in notices.ts (ACTION_WORDING) and its use case in Workflow.act: the adapters
 * (Slack, Discord, web console) encode, decode and route every kind from this list alone.
 */
export const ACTION_KINDS = ['approve', 'deny', 'retry', 'delete', 'cancel', 'renew', 'approve_renewal', 'deny_renewal', 'stop', 'start', 'reboot', 'rebuild'] as const;
export type ActionKind = (typeof ACTION_KINDS)[number];

export function isActionKind(value: string): value is ActionKind {
  return (ACTION_KINDS as readonly string[]).includes(value);
}

export type ActionStyle = 'primary' | 'danger' | 'default';
/** What a press needs before the workflow acts: a reason (a modal/form) or a confirmation. */
export type ActionNeeds = 'reason' | 'confirmation';

export interface ActionSpec {
  style: ActionStyle;
  needs?: ActionNeeds;
}

/** How each kind is drawn and what a press asks for first (exhaustive: a new kind must say). */
export const ACTIONS: Readonly<Record<ActionKind, ActionSpec>> = {
  approve: { style: 'primary' },
  deny: { style: 'danger', needs: 'reason' },
  retry: { style: 'primary' },
  delete: { style: 'danger', needs: 'confirmation' },
  cancel: { style: 'default' },
  // Leases (workflow/leases.ts): the owner's Renew; the admins' decision on a renewal past autoRenewals.
  renew: { style: 'primary' },
  approve_renewal: { style: 'primary' },
  deny_renewal: { style: 'danger' },
  // Power (workflow/power.ts), owner or admin. A rebuild wipes the disk: it asks first.
  stop: { style: 'default' },
  start: { style: 'primary' },
  reboot: { style: 'default' },
  rebuild: { style: 'danger', needs: 'confirmation' },
};

/** One button as drawn: the kind's spec, its label (notices.ts) and the request it acts on. */
export interface CardAction {
  kind: ActionKind;
  requestId: string;
  label: string;
  style: ActionStyle;
  /** Deny asks for a reason (a modal), Delete for a confirmation. */
  needs?: ActionNeeds;
}

/** What an adapter hands the workflow after decoding a press (Workflow.act). */
export interface ActionCommand {
  kind: ActionKind;
  /** The request the button was drawn for. Delete and cancel also take a VM name (the commands pass one). */
  requestId: string;
  /** Required by kinds whose spec needs a reason. */
  reason?: string;
}

export interface ProgressItem {
  step: ProgressStep;
  label: string;
  status: 'done' | 'current' | 'todo' | 'failed';
  /** e.g. the MAC, the job ID, the allocation ID, the address. */
  detail?: string;
}

export interface RequestCardView {
  requestId: string;
  name: string;
  requester: MemberRef;
  distroLabel: string;
  sizeLabel: string;
  login: string;
  reason: string;
  state: RequestState;
  /** Human words for the state, e.g. "Waiting for approval", "Booting", "Running". */
  stateLabel: string;
  progress: ProgressItem[];
  address?: { ipv4?: string; ipv6?: string[]; ssh: string };
  failure?: { code: string; message: string; consoleTail?: string[] };
  decision?: { verb: 'approved' | 'denied' | 'cancelled'; by: MemberRef; at: string; reason?: string };
  /** What an admin may do from the card now (Approve/Deny while pending, Retry when failed, Delete when live). */
  actions: CardAction[];
  /** The lease, when leases are on (domain/lease.ts leaseSummary), e.g. "expires 2027-04-01 (in 5 days), 1 of 2 automatic renewals used". */
  lease?: string;
  /** The owner asked for a renewal past the automatic ones: Approve renewal / Deny renewal are in `actions`. */
  renewalRequestedAt?: string;
  /** What the requester may do from their own view of it (Cancel while pending, Delete when live); absent: nothing. */
  ownerActions?: CardAction[];
  /**
   * While pending, with quotas configured: the requester's use before this request against
   * their quota (workflow/quota.ts), e.g. "1 of 2 VMs, 6000/8000 MHz, 4096 MiB".
   */
  quota?: string;
  /** Monotonic per request: adapters may drop a view older than one they already drew. */
  version: number;
}

/**
 * The SSH host keys the guest printed on its console (cloud-init's keys_to_console), so
 * the member can check the first login instead of trusting it blindly.
 */
export interface HostKeysView {
  /** As ssh shows them when it asks: key type and `SHA256:…`. */
  fingerprints: Array<{ type: string; fingerprint: string }>;
  /** Lines for ~/.ssh/known_hosts (`10.10.0.5 ssh-ed25519 AAAA…`); empty when the keys block was not seen. */
  knownHosts: string[];
}

/** Its wording is notices.ts's (noticeWording); adapters only format it. */
export type MemberNotice = (
  | { kind: 'requested'; requestId: string; name: string }
  | { kind: 'approved'; requestId: string; name: string; by: MemberRef; /** ISO; with leases on. */ expiresAt?: string }
  | { kind: 'denied'; requestId: string; name: string; by: MemberRef; reason: string }
  | { kind: 'delayed'; requestId: string; name: string; reason: string }
  | {
      kind: 'up';
      requestId: string;
      name: string;
      ipv4?: string;
      ipv6?: string[];
      ssh: string;
      hostKeys?: HostKeysView;
      /** Why a VM that ran before booted again on a fresh disk (so its host keys changed); absent on its first boot. */
      after?: BootCause;
    }
  /** The host keys of a VM whose up notice went out without them (cloud-init's final stage printed them later). */
  | { kind: 'host_keys'; requestId: string; name: string; hostKeys: HostKeysView }
  | { kind: 'deleted'; requestId: string; name: string }
  | { kind: 'lost'; requestId: string; name: string }
  // Power (workflow/power.ts): Nomad replaced a running VM's allocation on another node (a fresh disk).
  | { kind: 'moved'; requestId: string; name: string }
  // Leases (workflow/leases.ts); expiresAt/deleteAt are ISO times.
  | { kind: 'lease_reminder'; requestId: string; name: string; expiresAt: string }
  | { kind: 'lease_stopped'; requestId: string; name: string; deleteAt: string }
  /** The lease ended, but the VM's job under its job id is not vmbot's (replaced by hand): left running, the VM lost. */
  | { kind: 'lease_job_kept'; requestId: string; name: string; deleteAt: string }
  | { kind: 'lease_deleting'; requestId: string; name: string; expiresAt: string }
  | { kind: 'renewed'; requestId: string; name: string; expiresAt: string; by?: MemberRef; /** Stopped for its lease and could not be started again: why. */ notStarted?: string }
  | { kind: 'renewal_requested'; requestId: string; name: string; expiresAt: string }
  | { kind: 'renewal_denied'; requestId: string; name: string; by: MemberRef; expiresAt: string }
  | { kind: 'expiry_set'; requestId: string; name: string; by: MemberRef; expiresAt: string }
) & {
  /** Buttons offered with the notice (e.g. Renew in a lease reminder); pressed like a card's. */
  actions?: CardAction[];
};

/** One VM as listed by `/vm list` or shown by `/vm status`. */
export interface VmSummaryView {
  requestId: string;
  name: string;
  owner: MemberRef;
  state: RequestState;
  stateLabel: string;
  distroLabel: string;
  sizeLabel: string;
  ipv4?: string;
  ssh?: string;
  failure?: string;
  /** The lease line, as on the card (leases on only). */
  lease?: string;
}

/** The request form, prefilled from the member's last request. */
export interface RequestFormView {
  distros: Array<{ value: string; label: string }>;
  sizes: Array<{ value: string; label: string }>;
  prefill: { login?: string; sshKeys?: string };
}

/** A reply to the actor only (ephemeral on Slack/Discord). */
export type Reply =
  | { kind: 'text'; text: string }
  | { kind: 'problems'; problems: Problem[] }
  | { kind: 'vm'; vm: VmSummaryView }
  | { kind: 'list'; vms: VmSummaryView[]; scope: 'mine' | 'all' }
  | { kind: 'logs'; log: ConsoleLogView };

/**
 * The last lines of a VM's console (`/vm logs NAME`), already fit to show: terminal controls
 * stripped, private keys and the seed token removed (domain/console-text.ts). Adapters show
 * the lines verbatim as a code block or a file, escaped for their platform.
 */
export interface ConsoleLogView {
  requestId: string;
  name: string;
  /** The allocation the lines come from (its first 8 characters, as Nomad's CLI shows it). */
  allocation: string;
  /** Oldest first; empty when the guest has printed nothing yet. */
  lines: string[];
}

/**
 * Implemented by each chat adapter; the workflow's notifier calls it. Errors thrown here are
 * logged by the workflow and never fail a request.
 */
export interface ChatSurface {
  readonly platform: Platform;
  /** Posts the card in the platform's admin channel (ref undefined) or edits it in place; returns the ref to store. */
  drawCard(card: RequestCardView, ref: string | undefined): Promise<string>;
  /** A direct message to the member (Discord falls back to a mention in fallbackChannel). */
  notifyMember(member: MemberRef, notice: MemberNotice): Promise<void>;
}
