// Request states and their transitions (DESIGN §3). The store enforces them with
// conditional UPDATEs; this table is the single source of which moves are legal.

export const REQUEST_STATES = [
  'pending',
  'approved',
  'provisioning',
  'running',
  'stopped',
  'denied',
  'cancelled',
  'failed',
  'deleting',
  'deleted',
  'lost',
] as const;
export type RequestState = (typeof REQUEST_STATES)[number];

export const TRANSITIONS: Readonly<Record<RequestState, readonly RequestState[]>> = {
  pending: ['approved', 'denied', 'cancelled'],
  approved: ['provisioning', 'failed', 'deleting'],
  provisioning: ['running', 'failed', 'deleting'],
  // stopped: by the member, an admin or the lease; provisioning again: a rebuild.
  running: ['stopped', 'provisioning', 'deleting', 'lost'],
  // provisioning: start (and rebuild); lost: the stopped job vanished from the cluster.
  stopped: ['provisioning', 'deleting', 'lost'],
  failed: ['provisioning', 'deleting'],
  deleting: ['deleted'],
  lost: ['deleting'],
  denied: [],
  cancelled: [],
  deleted: [],
};

/** States whose VM name is still taken (names are reusable after these end). */
export const NAME_HOLDING_STATES: readonly RequestState[] = ['pending', 'approved', 'provisioning', 'running', 'stopped', 'failed', 'deleting', 'lost'];
/** States that vmbot resumes after a restart. */
export const RESUMABLE_STATES: readonly RequestState[] = ['approved', 'provisioning', 'deleting'];
/** States in which a VM (or its job) may exist on the cluster. A stopped VM's job stays registered (not purged). */
export const LIVE_STATES: readonly RequestState[] = ['approved', 'provisioning', 'running', 'stopped', 'failed', 'deleting', 'lost'];

export function canTransition(from: RequestState, to: RequestState): boolean {
  return TRANSITIONS[from].includes(to);
}

/** Provisioning progress, in order; shown on the request card. */
export const PROGRESS_STEPS = ['mac', 'submitted', 'allocation_running', 'booting', 'address'] as const;
export type ProgressStep = (typeof PROGRESS_STEPS)[number];
