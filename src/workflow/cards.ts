// Turns a stored request into the neutral views the chat adapters draw (cards, summaries).
// Pure: the notifier decides when to draw, this file only what.
import type { Config } from '../config/schema.js';
import type { VmAddress, VmRequest } from '../domain/request.js';
import { PROGRESS_STEPS, type ProgressStep, type RequestState } from '../domain/states.js';
import { leaseSummary, type LeasePolicy } from '../domain/lease.js';
import { ACTION_WORDING } from './notices.js';
import { ACTIONS, type ActionKind, type CardAction, type ProgressItem, type RequestCardView, type VmSummaryView } from './views.js';

const STEP_LABELS: Record<ProgressStep, string> = {
  mac: 'MAC address',
  submitted: 'Job submitted',
  allocation_running: 'Allocation running',
  booting: 'Booting (console output seen)',
  address: 'Address',
};

/**
 * Why a member's VM is delayed, in member terms. The stored failure message is written for
 * the admins (what to check, "press Retry") and stays on the admin card; the member only
 * hears what happened and that the admins were told.
 */
const MEMBER_CAUSES: Record<string, string> = {
  pool_exhausted: 'there is no free network address for it right now',
  mac_in_use: 'its network address is already in use on the cluster',
  nomad_unreachable: 'the cluster could not be reached',
  nomad_rejected: 'the cluster refused to start it',
  nomad_error: 'the cluster reported an error while creating it',
  template_error: 'its VM definition could not be prepared',
  publish_failed: 'its first-boot settings could not be prepared',
  config_invalid: 'its distro or size is not available any more',
  name_taken: 'another machine on the cluster already uses its name',
  task_failed: 'it could not be started on the cluster',
  ip_timeout: 'it started but did not get a network address in time',
  store_unwritable: 'vmbot could not save its progress',
};

/** The `reason` of a member's `delayed` notice for a failure code: no admin instructions. */
export function memberFailureReason(code: string): string {
  const cause = MEMBER_CAUSES[code] ?? 'something went wrong while it was being created';
  return `${cause}. The admins have been told and will look into it; you do not need to do anything.`;
}

const PROVISIONING_LABELS: Record<ProgressStep | 'none', string> = {
  none: 'Preparing',
  mac: 'Preparing the job',
  submitted: 'Job submitted, waiting for Nomad',
  allocation_running: 'Starting the VM',
  booting: 'Booting',
  address: 'Running',
};

export function stateLabel(req: Pick<VmRequest, 'state' | 'progress'>): string {
  switch (req.state) {
    case 'pending':
      return 'Waiting for approval';
    case 'approved':
      return 'Approved, starting';
    case 'provisioning':
      return PROVISIONING_LABELS[req.progress ?? 'none'];
    case 'running':
      return 'Running';
    case 'stopped':
      return 'Stopped';
    case 'denied':
      return 'Denied';
    case 'cancelled':
      return 'Cancelled by the requester';
    case 'failed':
      return 'Failed';
    case 'deleting':
      return 'Deleting';
    case 'deleted':
      return 'Deleted';
    case 'lost':
      // Liveness and an expiry both land here: the job purged, or replaced by one vmbot did not make.
      return 'Lost (its job is gone from Nomad or is no longer vmbot’s)';
  }
}

/** `ssh LOGIN@ADDRESS`, IPv4 preferred (what the admins' grep gave members before). */
export function sshCommand(login: string, address: Pick<VmAddress, 'ipv4' | 'ipv6'>): string | undefined {
  const host = address.ipv4 ?? address.ipv6?.[0];
  return host ? `ssh ${login}@${host}` : undefined;
}

function stepDetail(req: VmRequest, step: ProgressStep): string | undefined {
  switch (step) {
    case 'mac':
      return req.mac ?? undefined;
    case 'submitted':
      return req.jobId ?? undefined;
    case 'allocation_running':
      return req.allocId ? req.allocId.slice(0, 8) : undefined;
    case 'booting':
      return undefined;
    case 'address':
      return req.address?.ipv4 ?? req.address?.ipv6?.[0];
  }
}

/** The five provisioning steps; empty before approval (nothing to show yet). */
export function progressItems(req: VmRequest): ProgressItem[] {
  if (req.state === 'pending' || req.state === 'denied' || req.state === 'cancelled') return [];
  const reached = req.progress ? PROGRESS_STEPS.indexOf(req.progress) : -1;
  const active = req.state === 'approved' || req.state === 'provisioning';
  return PROGRESS_STEPS.map((step, i) => {
    let status: ProgressItem['status'] = 'todo';
    if (i <= reached) status = 'done';
    else if (i === reached + 1 && active) status = 'current';
    else if (i === reached + 1 && req.state === 'failed') status = 'failed';
    const detail = stepDetail(req, step);
    return { step, label: STEP_LABELS[step], status, ...(detail !== undefined ? { detail } : {}) };
  });
}

/** A button of `kind` for request `requestId`: its style and needs (views.ts ACTIONS), its label (notices.ts). */
export function actionFor(kind: ActionKind, requestId: string, label: string = ACTION_WORDING[kind].label): CardAction {
  const spec = ACTIONS[kind];
  return { kind, requestId, label, style: spec.style, ...(spec.needs ? { needs: spec.needs } : {}) };
}

/** States in which the VM can be deleted from a card (the workflow decides again on the press). */
const LIVE: readonly RequestState[] = ['approved', 'provisioning', 'running', 'lost'];

/** What an admin may do from the card now. */
export function cardActions(req: VmRequest): CardAction[] {
  const id = req.id;
  // A renewal past the automatic ones waits for the admins here, before anything else.
  if (req.renewalRequestedAt && req.lease && LEASED_STATES.includes(req.state)) return [actionFor('approve_renewal', id), actionFor('deny_renewal', id), ...cardActionsByState(req)];
  return cardActionsByState(req);
}

function cardActionsByState(req: VmRequest): CardAction[] {
  const id = req.id;
  if (req.state === 'pending') return [actionFor('approve', id), actionFor('deny', id)];
  if (req.state === 'failed') return [actionFor('retry', id), actionFor('delete', id)];
  if (req.state === 'stopped') return [...(req.stopReason === 'lease' ? [] : [actionFor('start', id)]), actionFor('delete', id)];
  if (LIVE.includes(req.state)) return [actionFor('delete', id)];
  return [];
}

/** What the requester may do from their own view of the request now. */
export function ownerActions(req: VmRequest): CardAction[] {
  if (req.state === 'pending') return [actionFor('cancel', req.id)];
  // Stopped for its lease: Renew starts it again; a bare Start is refused (workflow.ts).
  if (req.state === 'stopped') {
    return [...(req.lease && !req.renewalRequestedAt ? [actionFor('renew', req.id)] : []), ...(req.stopReason === 'lease' ? [] : [actionFor('start', req.id)]), actionFor('delete', req.id)];
  }
  if (req.state === 'failed' || LIVE.includes(req.state)) return [...(req.lease && !req.renewalRequestedAt ? [actionFor('renew', req.id)] : []), actionFor('delete', req.id)];
  return [];
}

/** States whose VM holds a lease the scheduler follows (workflow/leases.ts): the VM or its job may exist. */
export const LEASED_STATES: readonly RequestState[] = ['approved', 'provisioning', 'running', 'stopped', 'failed', 'lost'];

/** The lease line of cards, `/vm list` and `/vm status`: when leases are on and the VM has one. */
export function leaseLine(policy: LeasePolicy | undefined, req: VmRequest, now: Date): string | undefined {
  if (!policy || !req.lease || !LEASED_STATES.includes(req.state)) return undefined;
  return leaseSummary(policy, req.lease, now);
}

function labelOf(list: ReadonlyArray<{ name: string; label: string }>, name: string): string {
  return list.find((item) => item.name === name)?.label ?? name;
}

/** `now` dates the lease line ("in 5 days"); without it the card has none. */
export function toCard(config: Config, req: VmRequest, version: number, now?: Date): RequestCardView {
  const ssh = req.address ? sshCommand(req.login, req.address) : undefined;
  const lease = now ? leaseLine(config.policy.lease, req, now) : undefined;
  return {
    requestId: req.id,
    name: req.name,
    requester: req.requester,
    distroLabel: labelOf(config.distros, req.distro),
    sizeLabel: labelOf(config.sizes, req.size),
    login: req.login,
    reason: req.reason,
    state: req.state,
    stateLabel: stateLabel(req),
    progress: progressItems(req),
    ...(req.address
      ? { address: { ...(req.address.ipv4 ? { ipv4: req.address.ipv4 } : {}), ...(req.address.ipv6?.length ? { ipv6: req.address.ipv6 } : {}), ssh: ssh ?? '' } }
      : {}),
    ...(req.failure ? { failure: req.failure } : {}),
    ...(req.decision ? { decision: req.decision } : {}),
    ...(lease ? { lease } : {}),
    ...(lease && req.renewalRequestedAt ? { renewalRequestedAt: req.renewalRequestedAt } : {}),
    actions: cardActions(req),
    ownerActions: ownerActions(req),
    version,
  };
}

/** `now` dates the lease line, as on the card; without it the summary has none. */
export function toSummary(config: Config, req: VmRequest, now?: Date): VmSummaryView {
  const ssh = req.address ? sshCommand(req.login, req.address) : undefined;
  const lease = now ? leaseLine(config.policy.lease, req, now) : undefined;
  return {
    requestId: req.id,
    name: req.name,
    owner: req.requester,
    state: req.state,
    stateLabel: stateLabel(req),
    distroLabel: labelOf(config.distros, req.distro),
    sizeLabel: labelOf(config.sizes, req.size),
    ...(req.address?.ipv4 ? { ipv4: req.address.ipv4 } : {}),
    ...(ssh ? { ssh } : {}),
    ...(req.failure ? { failure: req.failure.message } : {}),
    ...(lease ? { lease } : {}),
  };
}
