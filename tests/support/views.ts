// Neutral views (src/workflow/views.ts) as the workflow hands them to a chat adapter, for the
// tests and benches that draw them. Each builder takes overrides; the buttons of a card are
// keyed by its requestId, so overriding the id keeps them consistent.
import type { Result } from '../../src/domain/problem.js';
import type { Actor } from '../../src/domain/request.js';
import type { VmWorkflow } from '../../src/workflow/api.js';
import type { ActionCommand, ActionKind, CardAction, RequestCardView, VmSummaryView } from '../../src/workflow/views.js';

/** Approve and Deny, as a pending card offers them to admins. */
export function decisionActions(requestId: string): CardAction[] {
  return [
    { kind: 'approve', requestId, label: 'Approve', style: 'primary' },
    { kind: 'deny', requestId, label: 'Deny', style: 'danger', needs: 'reason' },
  ];
}

/** A request waiting for approval (Discord member by default). */
export function pendingCard(over: Partial<RequestCardView> = {}): RequestCardView {
  const requestId = over.requestId ?? 'k3x9q2m7bz';
  return {
    requestId,
    name: 'web1',
    requester: { platform: 'discord', userId: '300000000000000011' },
    distroLabel: 'Debian 12',
    sizeLabel: '2 CPU GHz, 2 GB',
    login: 'alice',
    reason: 'course work',
    state: 'pending',
    stateLabel: 'Waiting for approval',
    progress: [],
    actions: decisionActions(requestId),
    version: 1,
    ...over,
  };
}

/** An approved request half-way through provisioning: the typical card of a redraw. */
export function bootingCard(over: Partial<RequestCardView> = {}): RequestCardView {
  const requestId = over.requestId ?? 'k3x9q2m7bz';
  return pendingCard({
    requestId,
    name: 'web-1',
    reason: 'course work for the distributed systems module',
    state: 'provisioning',
    stateLabel: 'Booting',
    progress: [
      { step: 'mac', label: 'MAC allocated', status: 'done', detail: '52:54:84:ba:49:03' },
      { step: 'submitted', label: 'Job submitted', status: 'done', detail: 'uservm-web-1' },
      { step: 'allocation_running', label: 'Allocation running', status: 'done', detail: 'f9cb2c73' },
      { step: 'booting', label: 'Booting', status: 'current' },
      { step: 'address', label: 'Address', status: 'todo' },
    ],
    decision: { verb: 'approved', by: { platform: 'discord', userId: '300000000000000021' }, at: '2026-12-01T08:00:00.000Z' },
    actions: [{ kind: 'delete', requestId, label: 'Delete', style: 'danger', needs: 'confirmation' }],
    version: 4,
    ...over,
  });
}

/** A running VM as `/vm list` and `/vm status` show it. */
export function vmSummary(over: Partial<VmSummaryView> = {}): VmSummaryView {
  return {
    requestId: 'k3x9q2m7bz',
    name: 'web1',
    owner: { platform: 'discord', userId: '300000000000000011' },
    state: 'running',
    stateLabel: 'Running',
    distroLabel: 'Debian 12',
    sizeLabel: '2 GB',
    ipv4: '10.10.0.42',
    ssh: 'ssh alice@10.10.0.42',
    ...over,
  };
}

/**
 * Workflow.act for test doubles of VmWorkflow: each kind runs the double's method of the same
 * use case (so their call records stay per use case). Exhaustive over ACTION_KINDS.
 */
export function actThrough(
  target: Pick<VmWorkflow, 'approve' | 'deny' | 'retry' | 'delete' | 'cancel' | 'renew' | 'decideRenewal' | 'stop' | 'start' | 'reboot' | 'rebuild'>,
  actor: Actor,
  command: ActionCommand,
): Promise<Result<VmSummaryView>> {
  const run: Record<ActionKind, () => Promise<Result<VmSummaryView>>> = {
    approve: () => target.approve(actor, command.requestId),
    deny: () => target.deny(actor, command.requestId, command.reason ?? ''),
    retry: () => target.retry(actor, command.requestId),
    delete: () => target.delete(actor, command.requestId),
    cancel: () => target.cancel(actor, command.requestId),
    renew: () => target.renew(actor, command.requestId),
    approve_renewal: () => target.decideRenewal(actor, command.requestId, 'approve'),
    deny_renewal: () => target.decideRenewal(actor, command.requestId, 'deny'),
    stop: () => target.stop(actor, command.requestId),
    start: () => target.start(actor, command.requestId),
    reboot: () => target.reboot(actor, command.requestId),
    rebuild: () => target.rebuild(actor, command.requestId),
  };
  return run[command.kind]();
}
