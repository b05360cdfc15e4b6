// Leases (issue 12): the expiry set at approval, the scheduler that reminds, stops and
// deletes, Renew (the first policy.lease.autoRenewals at once, later ones a renewal card for
// the admins) and an admin setting any VM's expiry. The rules are src/domain/lease.ts's;
// this module does what they say and records it.
//
// The schedule lives in the store, never only in memory: every lease change and every
// restart recomputes one timer from the leased VMs' records (the earliest `nextAt`, capped
// at MAX_WAIT_MS so a clock change or a long sleep costs at most that much). Each thing done
// is recorded in the request row before the member is told (a reminder) or right after the
// stop, which is checked again on the next tick; so a restart never repeats a reminder, and
// a stop cut short by a crash is finished, and told, once.
import { fail, ok, problem, type Problem, type Result } from '../domain/problem.js';
import type { Actor, MemberRef, VmRequest } from '../domain/request.js';
import type { RequestState } from '../domain/states.js';
import { DAY_MS, leaseAtApproval, leaseSchedule, recordDone, renewalIsAutomatic, renewLease, setLeaseExpiry, termEnd, type LeaseDue, type LeasePolicy, type LeaseRecord } from '../domain/lease.js';
import type { JobInfo } from '../nomad/port.js';
import type { RequestPatch } from '../store/types.js';
import { sameMember } from './authz.js';
import { actionFor, LEASED_STATES, stateLabel } from './cards.js';
import { SYSTEM, type WorkflowContext } from './context.js';
import { notOursDetail, ownedBy } from './deploy-policy.js';
import { nomadTarget } from './nomad-target.js';
import type { CardAction } from './views.js';

/** The longest the scheduler sleeps before looking at the store again. */
export const MAX_WAIT_MS = 3_600_000;
/** A due action that could not be done now (Nomad down, the VM still provisioning) is tried again after this. */
export const RETRY_MS = 60_000;

/**
 * The failure code of a VM whose lease ended while its job under its job id was not vmbot's
 * (replaced by hand): the expiry left the job running and moved the VM to `lost`.
 */
export const JOB_NOT_OURS = 'job_not_ours';

/** States a lease's grace deletion moves to `deleting` from (everything leased but a VM still being made). */
const GRACE_DELETABLE: readonly RequestState[] = ['running', 'stopped', 'failed', 'lost'];

/** The lease kinds of views.ts ACTION_KINDS, checked and run here. */
export type LeaseActionKind = 'renew' | 'approve_renewal' | 'deny_renewal';

/** What the scheduler needs from the rest of the workflow (power.ts and the deletion path). */
export interface LeaseOps {
  /** running → stopped (job stopped, not purged), audited; what power.ts's stopVm does. */
  stopVm(requestId: string, opts: { by: MemberRef; reason: 'lease' }): Promise<unknown>;
  /** stopped → provisioning, the same job again; power.ts's startVm. */
  startVm(requestId: string, opts: { by: MemberRef }): Promise<Result<unknown>>;
  /** Moves the request to `deleting` (audited as `audit`) and starts the existing deletion; undefined if its state did not allow it. */
  startDeletion(req: VmRequest, from: readonly RequestState[], audit: { actor: MemberRef; action: string; detail: string }): Promise<VmRequest | undefined>;
}

const day = (iso: string): string => iso.slice(0, 10);
const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

function memberOf(actor: Actor): MemberRef {
  return { platform: actor.platform, userId: actor.userId, ...(actor.displayName ? { displayName: actor.displayName } : {}) };
}

/** Renew and Delete now, offered with every reminder and with the expiry notice. */
export function leaseNoticeActions(requestId: string): CardAction[] {
  return [actionFor('renew', requestId), actionFor('delete', requestId, 'Delete now')];
}

export class Leases {
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  /** One tick at a time: the timer's and a test's call queue up. */
  private ticking: Promise<void> = Promise.resolve();
  /** Per request, lease changes one after another (a tick, a Renew, an admin's decision). */
  private readonly serial = new Map<string, Promise<unknown>>();

  constructor(
    private readonly ctx: WorkflowContext,
    private readonly ops: LeaseOps,
  ) {}

  get policy(): LeasePolicy | undefined {
    return this.ctx.config.policy.lease;
  }

  /** The patch fields approval sets: the lease record, when leases are on. */
  atApproval(approvedAt: Date): Pick<RequestPatch, 'lease'> {
    const lease = leaseAtApproval(this.policy, approvedAt);
    return lease ? { lease } : {};
  }

  // ---- the scheduler ------------------------------------------------------------------

  /**
   * Called at start (Workflow.resume) and after each lease change: one timer to the earliest
   * thing due. `afterTick`: anything still due could not be done just now (Nomad down, a VM
   * still being made), so it is looked at again after RETRY_MS rather than at once.
   */
  async schedule(opts: { afterTick?: boolean } = {}): Promise<void> {
    const policy = this.policy;
    if (!policy || this.closed) return;
    const now = this.ctx.now().getTime();
    let earliest = now + MAX_WAIT_MS;
    let leased: VmRequest[];
    try {
      leased = await this.ctx.store.requests.list({ states: LEASED_STATES });
    } catch (err) {
      // The store could not be read (e.g. shutting down): look again after a while rather than never.
      this.ctx.logger.warn({ err }, 'could not read the leases; the scheduler looks again later');
      this.arm(RETRY_MS);
      return;
    }
    for (const req of leased) {
      if (!req.lease) continue;
      const plan = leaseSchedule(policy, req.lease, new Date(now));
      const at = plan.due ? now + (opts.afterTick ? RETRY_MS : 0) : plan.nextAt ? Date.parse(plan.nextAt) : earliest;
      earliest = Math.min(earliest, at);
    }
    this.arm(earliest - now);
  }

  /** Does what is due for every leased VM now (the timer calls it; tests too, with their clock). */
  tick(): Promise<void> {
    const run = this.ticking.then(() => this.tickOnce());
    this.ticking = run.catch(() => undefined);
    return run;
  }

  /** No timer from now on; waits for a tick in flight. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.ticking;
  }

  private arm(delayMs: number): void {
    if (this.closed) return;
    if (this.timer) clearTimeout(this.timer);
    const delay = Math.min(Math.max(delayMs, 0), MAX_WAIT_MS);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.tick().catch((err: unknown) => this.ctx.logger.error({ err }, 'lease tick failed'));
    }, delay);
    // The lease timer alone never keeps the process alive.
    this.timer.unref();
  }

  private async tickOnce(): Promise<void> {
    const policy = this.policy;
    if (!policy || this.closed) return;
    try {
      for (const listed of await this.ctx.store.requests.list({ states: LEASED_STATES })) {
        if (!listed.lease || this.closed) continue;
        try {
          await this.inSeries(listed.id, () => this.doDue(policy, listed.id));
        } catch (err) {
          this.ctx.logger.warn({ err, requestId: listed.id }, 'lease action failed; will try again');
        }
      }
    } finally {
      // Whatever happened, the next look is set: the schedule never stops.
      await this.schedule({ afterTick: true });
    }
  }

  /**
   * What is due for one VM, done and recorded; repeated while something is due (a stop
   * with graceDays 0 is followed by the deletion) and done; stops when a due thing must wait.
   */
  private async doDue(policy: LeasePolicy, id: string): Promise<void> {
    for (let step = 0; step < 3; step++) {
      const req = await this.ctx.store.requests.get(id);
      if (!req?.lease || !LEASED_STATES.includes(req.state)) return;
      const now = this.ctx.now();
      const { due } = leaseSchedule(policy, req.lease, now);
      if (!due || !(await this.perform(policy, req, req.lease, due, now))) return;
    }
  }

  private async perform(policy: LeasePolicy, req: VmRequest, lease: LeaseRecord, due: LeaseDue, now: Date): Promise<boolean> {
    const { store, notifier } = this.ctx;
    switch (due.kind) {
      case 'remind': {
        // Recorded first: a crash after this line loses this reminder, never sends it twice.
        const recorded = await store.requests.update(req.id, [req.state], { lease: recordDone(lease, due, now) });
        if (!recorded) return false;
        await store.audit.append({ actor: SYSTEM, action: 'lease_reminder', requestId: req.id, vmName: req.name, detail: `expires ${lease.expiresAt}` });
        await notifier.notify(req.requester, { kind: 'lease_reminder', requestId: req.id, name: req.name, expiresAt: lease.expiresAt, actions: leaseNoticeActions(req.id) });
        return true;
      }
      case 'stop':
        return this.stopForLease(policy, req, lease, now);
      case 'delete': {
        const deleting = await this.ops.startDeletion(req, GRACE_DELETABLE, {
          actor: SYSTEM,
          action: 'lease_delete',
          detail: `lease expired ${lease.expiresAt}, stopped ${lease.stoppedAt ?? '?'}, ${policy.graceDays} grace days over`,
        });
        if (!deleting) return false;
        await notifier.notify(req.requester, { kind: 'lease_deleting', requestId: req.id, name: req.name, expiresAt: lease.expiresAt });
        return true;
      }
    }
  }

  /**
   * At expiry: a running VM is stopped (power.ts; job kept, MAC and files kept); one already
   * stopped, failed or lost has nothing to stop. Then the stop is recorded (the grace period
   * runs from now) and the member told. A VM still being made waits until it settles.
   *
   * A running VM whose job under its job id is not vmbot's (an admin replaced it by hand) is
   * not stopped: vmbot never stops a job it did not make, and trying again every minute
   * would change nothing. It moves to `lost` instead (what the liveness check decides for
   * the same finding) with the reason as its failure, which the admin card shows; from there
   * the expiry is recorded and told like any other, once, and the grace deletion leaves the
   * job alone as every deletion does. Both steps are in the store, so a restart between
   * them finishes the second and never repeats the first.
   */
  private async stopForLease(policy: LeasePolicy, req: VmRequest, lease: LeaseRecord, now: Date): Promise<boolean> {
    const { store, notifier } = this.ctx;
    if (req.state === 'approved' || req.state === 'provisioning') return false;
    if (req.state === 'running') {
      const foreign = await this.foreignJob(req);
      if (foreign) {
        if (!(await this.leaveForeignJob(req, lease, foreign))) return false;
      } else {
        await this.ops.stopVm(req.id, { by: SYSTEM, reason: 'lease' });
        const after = await store.requests.get(req.id);
        if (after?.state !== 'stopped') return false;
      }
    }
    const done = recordDone(lease, { kind: 'stop' }, now);
    const recorded = await store.requests.update(req.id, ['stopped', 'failed', 'lost'], { lease: done });
    if (!recorded) return false;
    const jobKept = recorded.state === 'lost' && recorded.failure?.code === JOB_NOT_OURS;
    const what = jobKept ? 'its job is not vmbot\'s and was left running' : null;
    await store.audit.append({ actor: SYSTEM, action: 'lease_expired', requestId: req.id, vmName: req.name, detail: [`expired ${lease.expiresAt}`, what, `deleted after ${policy.graceDays} days unless renewed`].filter(Boolean).join('; ') });
    const deleteAt = new Date(now.getTime() + policy.graceDays * DAY_MS).toISOString();
    await notifier.notify(req.requester, { kind: jobKept ? 'lease_job_kept' : 'lease_stopped', requestId: req.id, name: req.name, deleteAt, actions: leaseNoticeActions(req.id) });
    return true;
  }

  /**
   * The job under the VM's job id when it is not this request's (meta.vmbot_request missing
   * or another id). Undefined when it is ours, gone, or Nomad cannot be asked: then the stop
   * goes ahead as usual (power.ts asks again, and a Nomad error is retried as before).
   */
  private async foreignJob(req: VmRequest): Promise<JobInfo | undefined> {
    if (!req.jobId) return undefined;
    try {
      const job = await nomadTarget(this.ctx, req).nomad.getJob(req.jobId);
      return job && !ownedBy(job, req.id) ? job : undefined;
    } catch {
      return undefined;
    }
  }

  /** running → lost, the hand-made job untouched; one `job_not_ours` row says it was left running. */
  private async leaveForeignJob(req: VmRequest, lease: LeaseRecord, job: JobInfo): Promise<boolean> {
    const skipped = notOursDetail(req.jobId!, job);
    const owner = job.meta.vmbot_request ? `it carries meta.vmbot_request ${job.meta.vmbot_request}` : 'it has no meta.vmbot_request';
    const message = `The lease ended ${day(lease.expiresAt)}, but the Nomad job ${req.jobId} under this VM's job id is not the one vmbot made for it (${owner}), so vmbot did not stop it and left it running. vmbot no longer manages this VM; deleting it removes vmbot's record only.`;
    const lost = await this.ctx.store.requests.transition(req.id, 'running', 'lost', { failure: { code: JOB_NOT_OURS, message } }, {
      actor: SYSTEM,
      action: 'state:running->lost',
      detail: `lease expired ${lease.expiresAt}: ${skipped}`,
    });
    if (!lost) return false;
    this.ctx.logger.warn({ requestId: req.id, jobId: req.jobId }, `lease expired: ${skipped}`);
    await this.ctx.store.audit.append({ actor: SYSTEM, action: 'job_not_ours', requestId: req.id, vmName: req.name, detail: `${skipped} (lease expired ${lease.expiresAt}; not stopped)` });
    return true;
  }

  // ---- Renew, the admins' decision, set expiry -----------------------------------------

  /**
   * Stopped because its lease ended, and not renewed since: a plain start would outlive the
   * lease, so only a renewal (or an admin's new expiry) starts it again.
   */
  holdsStopped(req: VmRequest): boolean {
    return req.state === 'stopped' && req.stopReason === 'lease' && (!req.lease || Date.parse(req.lease.expiresAt) <= this.ctx.now().getTime());
  }

  /** Who may press a lease button on this request now; undefined: allowed. Workflow.check asks here. */
  check(actor: Actor, kind: LeaseActionKind, req: VmRequest, isAdmin: boolean): Problem | undefined {
    const policy = this.policy;
    switch (kind) {
      case 'renew':
        // The owner's decision alone: an admin changes an expiry with /vm expire instead.
        if (!sameMember(req.requester, actor)) return problem('forbidden', `Only the owner of "${req.name}" can renew it. Admins set an expiry with /vm expire ${req.name} YYYY-MM-DD.`);
        if (!policy) return problem('wrong_state', 'VMs do not expire here (leases are off), so there is nothing to renew.');
        if (!req.lease || !LEASED_STATES.includes(req.state)) return problem('wrong_state', `"${req.name}" is ${stateLabel(req).toLowerCase()} and has no lease to renew.`);
        if (req.renewalRequestedAt) return problem('wrong_state', `Your renewal of "${req.name}" is already with the admins (asked ${day(req.renewalRequestedAt)}); you will hear when they decide.`);
        return undefined;
      case 'approve_renewal':
      case 'deny_renewal':
        if (!isAdmin) return problem('forbidden', 'Only vmbot admins can decide on a renewal.');
        if (kind === 'approve_renewal' && sameMember(req.requester, actor) && !this.ctx.config.policy.allowSelfApproval) {
          return problem('self_approval', 'You cannot approve the renewal of your own VM; ask another admin.');
        }
        if (!policy || !req.lease || !req.renewalRequestedAt || !LEASED_STATES.includes(req.state)) {
          return problem('wrong_state', `There is no renewal of "${req.name}" waiting for a decision (it may have been decided already).`);
        }
        return undefined;
    }
  }

  /**
   * Renew (the owner; Workflow.act checked who): the first autoRenewals at once, starting a
   * VM stopped for its lease again; later ones wait for an admin (the card shows the ask).
   */
  renew(actor: Actor, req: VmRequest, isAdmin: boolean): Promise<Result<VmRequest>> {
    return this.inSeries(req.id, async () => {
      const now = this.ctx.now();
      const current = await this.ctx.store.requests.get(req.id);
      const refusal = current ? this.check(actor, 'renew', current, isAdmin) : problem('not_found', `There is no VM "${req.name}" any more.`);
      if (refusal || !current?.lease) return this.refused(actor, 'renew', current ?? req, refusal!);
      const policy = this.policy!;
      const member = memberOf(actor);
      if (!renewalIsAutomatic(policy, current.lease)) {
        const asked = await this.ctx.store.requests.update(current.id, [current.state], { renewalRequestedAt: now.toISOString() });
        if (!asked) return this.refused(actor, 'renew', current, problem('wrong_state', `"${current.name}" changed meanwhile; try again.`));
        await this.ctx.store.audit.append({ actor: member, action: 'renew_requested', requestId: current.id, vmName: current.name, detail: `renewal ${current.lease.renewals + 1}, after ${policy.autoRenewals} automatic: sent to the admins` });
        await this.ctx.notifier.notify(current.requester, { kind: 'renewal_requested', requestId: current.id, name: current.name, expiresAt: current.lease.expiresAt });
        return ok(asked);
      }
      return this.grant(current, current.lease, member, 'renew', 'automatic', undefined);
    });
  }

  /** An admin's Approve renewal / Deny renewal on the card (check() decided who may). */
  decide(actor: Actor, kind: 'approve_renewal' | 'deny_renewal', req: VmRequest, isAdmin: boolean): Promise<Result<VmRequest>> {
    return this.inSeries(req.id, async () => {
      const current = await this.ctx.store.requests.get(req.id);
      const refusal = current ? this.check(actor, kind, current, isAdmin) : problem('not_found', `There is no VM "${req.name}" any more.`);
      if (refusal || !current?.lease) return this.refused(actor, kind, current ?? req, refusal!);
      const member = memberOf(actor);
      if (kind === 'approve_renewal') return this.grant(current, current.lease, member, 'approve_renewal', `approved by an admin`, member);
      const denied = await this.ctx.store.requests.update(current.id, [current.state], { renewalRequestedAt: null });
      if (!denied) return this.refused(actor, kind, current, problem('wrong_state', `"${current.name}" changed meanwhile; look at the card again.`));
      await this.ctx.store.audit.append({ actor: member, action: 'deny_renewal', requestId: current.id, vmName: current.name, detail: `still expires ${current.lease.expiresAt}` });
      await this.ctx.notifier.notify(current.requester, { kind: 'renewal_denied', requestId: current.id, name: current.name, by: member, expiresAt: current.lease.expiresAt });
      return ok(denied);
    });
  }

  /** An admin sets any leased VM's expiry (the end, 24:00 UTC, of `date`); a VM stopped for its lease starts again. */
  setExpiry(actor: Actor, req: VmRequest, date: string, isAdmin: boolean): Promise<Result<VmRequest>> {
    return this.inSeries(req.id, async () => {
      const policy = this.policy;
      const now = this.ctx.now();
      const current = (await this.ctx.store.requests.get(req.id)) ?? req;
      const refusal = this.setExpiryRefusal(current, date, isAdmin, now);
      if (refusal) return this.refused(actor, 'set_expiry', current, refusal);
      const base: LeaseRecord = current.lease ?? { expiresAt: now.toISOString(), remindersSent: [], renewals: 0 };
      const next = setLeaseExpiry(policy!, base, new Date(termEnd(date)), now);
      const member = memberOf(actor);
      const updated = await this.ctx.store.requests.update(current.id, [current.state], { lease: next, renewalRequestedAt: null });
      if (!updated) return this.refused(actor, 'set_expiry', current, problem('wrong_state', `"${current.name}" changed meanwhile; try again.`));
      await this.ctx.store.audit.append({ actor: member, action: 'set_expiry', requestId: current.id, vmName: current.name, detail: `expires ${next.expiresAt}${current.lease ? ` (was ${current.lease.expiresAt})` : ''}` });
      await this.restartIfStoppedForLease(current, member);
      await this.ctx.notifier.notify(current.requester, { kind: 'expiry_set', requestId: current.id, name: current.name, by: member, expiresAt: next.expiresAt });
      await this.schedule();
      return ok(updated);
    });
  }

  private setExpiryRefusal(req: VmRequest, date: string, isAdmin: boolean, now: Date): Problem | undefined {
    if (!isAdmin) return problem('forbidden', 'Only vmbot admins can set a VM\'s expiry; the owner can press Renew.');
    if (!this.policy) return problem('wrong_state', 'Leases are off (no policy.lease in the configuration), so VMs do not expire and there is no expiry to set.');
    if (!LEASED_STATES.includes(req.state)) return problem('wrong_state', `"${req.name}" is ${stateLabel(req).toLowerCase()}; only a VM that exists has an expiry.`);
    const m = ISO_DATE.exec(date.trim());
    const valid = m && new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]))).toISOString().startsWith(date.trim());
    if (!valid) return problem('invalid_date', `"${date.slice(0, 40)}" is not a date: give it as YYYY-MM-DD, e.g. 2027-01-31.`, 'date');
    if (termEnd(date.trim()) <= now.getTime()) return problem('invalid_date', `${date.trim()} is over: give today or a later date (the VM expires at the end of that day, UTC).`, 'date');
    return undefined;
  }

  /** One renewal granted (automatic or approved): the new record, the stop lifted, the member told. */
  private async grant(req: VmRequest, lease: LeaseRecord, actor: MemberRef, action: 'renew' | 'approve_renewal', how: string, by: MemberRef | undefined): Promise<Result<VmRequest>> {
    const policy = this.policy!;
    const renewed = renewLease(policy, lease, this.ctx.now());
    if (!renewed.ok) return this.refused(actor, action, req, renewed.problems[0]!);
    const updated = await this.ctx.store.requests.update(req.id, [req.state], { lease: renewed.value, renewalRequestedAt: null });
    if (!updated) return this.refused(actor, action, req, problem('wrong_state', `"${req.name}" changed meanwhile; try again.`));
    const count = `renewal ${renewed.value.renewals}${renewed.value.renewals <= policy.autoRenewals ? ` of ${policy.autoRenewals} automatic` : ''}`;
    await this.ctx.store.audit.append({ actor, action, requestId: req.id, vmName: req.name, detail: `${how}, ${count}: expires ${renewed.value.expiresAt}` });
    const notStarted = await this.restartIfStoppedForLease(req, actor);
    await this.ctx.notifier.notify(req.requester, { kind: 'renewed', requestId: req.id, name: req.name, expiresAt: renewed.value.expiresAt, ...(by ? { by } : {}), ...(notStarted ? { notStarted } : {}) });
    await this.schedule();
    return ok(updated);
  }

  /**
   * A VM the lease stopped runs again once its lease is extended (the same job, through
   * power.ts). Returns why it could not be started (the lease stays extended: /vm start tries again).
   */
  private async restartIfStoppedForLease(req: VmRequest, by: MemberRef): Promise<string | undefined> {
    // Only a stop the lease made: a VM its owner or an admin stopped stays stopped.
    if (req.state !== 'stopped' || req.stopReason !== 'lease') return undefined;
    const started = await this.ops.startVm(req.id, { by });
    return started.ok ? undefined : started.problems.map((p) => p.message).join(' ');
  }

  /** Refusals leave an audit row (`<kind>_refused`) naming the check that failed. */
  private async refused(actor: MemberRef, kind: string, req: VmRequest, p: Problem): Promise<Result<VmRequest>> {
    const who: MemberRef = { platform: actor.platform, userId: actor.userId, ...(actor.displayName ? { displayName: actor.displayName } : {}) };
    await this.ctx.store.audit.append({ actor: who, action: `${kind}_refused`, requestId: req.id, vmName: req.name, detail: `${p.code}: ${p.message}` });
    return fail(p);
  }

  private inSeries<T>(requestId: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.serial.get(requestId) ?? Promise.resolve();
    const run = previous.then(fn, fn);
    const settled = run.catch(() => undefined);
    this.serial.set(requestId, settled);
    void settled.then(() => {
      if (this.serial.get(requestId) === settled) this.serial.delete(requestId);
    });
    return run;
  }
}
