// The use cases (src/workflow/api.ts): each one decides authorization from the Actor,
// makes at most one conditional state change (the store's transition decides races), and
// reports expected failures as Problems with a code, a message and, when useful, a field.
// Long work (provisioning, deletion) runs in the background on the Lifecycle.
import { fail, ok, problem, VmbotError, type Problem, type Result } from '../domain/problem.js';
import type { Actor, MemberRef, RequestInput, VmRequest } from '../domain/request.js';
import { NAME_HOLDING_STATES, RESUMABLE_STATES, type RequestState } from '../domain/states.js';
import { validateReason, validateRequest } from '../domain/validation.js';
import { isActionKind, type ActionCommand, type ActionKind, type ChatSurface, type ConsoleLogView, type RequestCardView, type RequestFormView, type VmSummaryView } from './views.js';
import type { VmWorkflow } from './api.js';
import { describeMember, sameMember } from './authz.js';
import { stateLabel, toCard, toSummary } from './cards.js';
import type { WorkflowContext } from './context.js';
import { Lifecycle } from './lifecycle.js';
import { Leases, type LeaseActionKind } from './leases.js';
import { quotaProblems, withQuotaLine } from './quota.js';
import { readConsoleLog } from './console-log.js';
import { Power, type PowerKind } from './power.js';

/** States from which Delete is accepted (pending requests are cancelled or denied instead). */
const DELETABLE: readonly RequestState[] = ['approved', 'provisioning', 'running', 'stopped', 'failed', 'lost'];

/**
 * How each action finds its request: buttons carry the ids vmbot stored (an unknown one is a
 * forged or stale press, audited); delete and cancel also come from commands naming a VM.
 */
const LOOKUP: Readonly<Record<ActionKind, 'id' | 'ref'>> = { approve: 'id', deny: 'id', retry: 'id', delete: 'ref', cancel: 'ref', renew: 'ref', approve_renewal: 'id', deny_renewal: 'id', stop: 'ref', start: 'ref', reboot: 'ref', rebuild: 'ref' };

function memberOf(actor: Actor): MemberRef {
  return { platform: actor.platform, userId: actor.userId, ...(actor.displayName ? { displayName: actor.displayName } : {}) };
}

export class Workflow implements VmWorkflow {
  readonly lifecycle: Lifecycle;
  /** Lease reminders, expiry stop, grace deletion, Renew and set-expiry (leases.ts). */
  readonly leases: Leases;
  /** Stop, start, reboot and rebuild (power.ts); the lease scheduler stops and starts through it too. */
  readonly power: Power;

  constructor(
    private readonly ctx: WorkflowContext,
    opts: { deleteTimeoutMs: number; maxConcurrentReads: number; maxConcurrentProvisions: number; liveCheckMs: number },
  ) {
    this.lifecycle = new Lifecycle(ctx, opts);
    this.power = new Power(ctx, {
      run: (id, fn) => this.lifecycle.run(id, fn),
      provision: (id, o) => this.lifecycle.provision(id, o),
      unwatch: (id) => this.lifecycle.watcher.unwatch(id),
      signal: this.lifecycle.signal,
    });
    this.leases = new Leases(ctx, {
      stopVm: (id, o) => this.power.stopVm(id, o),
      startVm: (id, o) => this.power.startVm(id, o),
      startDeletion: (req, from, audit) => this.startDeletion(req, from, audit),
    });
  }

  isAdmin(actor: Actor): boolean {
    return this.ctx.isAdmin(actor);
  }

  attachSurface(surface: ChatSurface): void {
    this.ctx.notifier.attach(surface);
  }

  onCard(listener: (card: RequestCardView) => void): () => void {
    return this.ctx.notifier.onCard(listener);
  }

  async card(requestId: string): Promise<RequestCardView | undefined> {
    const req = await this.ctx.store.requests.get(requestId);
    return req ? withQuotaLine(this.ctx, req, toCard(this.ctx.config, req, this.ctx.notifier.currentVersion(requestId), this.ctx.now())) : undefined;
  }

  async requestForm(actor: Actor): Promise<RequestFormView> {
    const profile = await this.ctx.store.members.getProfile(memberOf(actor));
    return {
      distros: this.ctx.config.distros.map((d) => ({ value: d.name, label: d.label })),
      sizes: this.ctx.config.sizes.map((s) => ({ value: s.name, label: s.label })),
      prefill: profile ? { login: profile.login, sshKeys: profile.sshKeys.join('\n') } : {},
    };
  }

  async submitRequest(actor: Actor, input: RequestInput): Promise<Result<VmSummaryView>> {
    const { config, store } = this.ctx;
    // The name must fit the job prefix of the cluster this request would go to.
    const jobPrefix = this.ctx.clusters.settings(this.ctx.clusters.choose(input)).jobPrefix;
    const valid = validateRequest(input, { distros: config.distros, sizes: config.sizes, jobPrefix });
    if (!valid.ok) return valid;
    const member = memberOf(actor);
    const overQuota = await quotaProblems(this.ctx, member, actor.groups, valid.value.size);
    if (overQuota.length > 0) return fail(...overQuota);
    let req: VmRequest;
    try {
      req = await store.requests.create({ ...valid.value, requester: member, requesterGroups: actor.groups }, { actor: member, action: 'request', detail: `${valid.value.distro}, ${valid.value.size}` });
    } catch (err) {
      if (err instanceof VmbotError) return fail(err.toProblem());
      throw err;
    }
    await store.members.saveProfile(member, { login: req.login, sshKeys: req.sshKeys });
    await this.ctx.notifier.notify(member, { kind: 'requested', requestId: req.id, name: req.name });
    return ok(toSummary(config, req));
  }

  async approve(actor: Actor, requestId: string): Promise<Result<VmSummaryView>> {
    const { config, store } = this.ctx;
    const allowed = await this.allowed(actor, 'approve', requestId);
    if (!allowed.ok) return allowed;
    const req = allowed.value;
    const member = memberOf(actor);
    const at = this.ctx.now().toISOString();
    const cluster = this.ctx.clusters.choose(req);
    const approved = await store.requests.transition(
      requestId,
      'pending',
      'approved',
      {
        decision: { by: member, at, verb: 'approved' },
        approvedAt: at,
        // Fixed now so that a Retry or a restart resubmits the very same job, on the same
        // cluster (chosen by nomad.routes), with the same seed path.
        cluster,
        jobId: `${this.ctx.clusters.settings(cluster).jobPrefix}${req.name}`,
        seedToken: this.ctx.newSeedToken(),
        ...this.leases.atApproval(new Date(at)),
      },
      { actor: member, action: 'approve', ...(this.ctx.clusters.names.length > 1 ? { detail: `cluster ${cluster}` } : {}) },
    );
    if (!approved) return this.lostRace(actor, 'approve', requestId);
    this.ctx.hooks.step?.('after_approve', requestId);
    await this.ctx.notifier.notify(approved.requester, { kind: 'approved', requestId, name: approved.name, by: member, ...(approved.lease ? { expiresAt: approved.lease.expiresAt } : {}) });
    if (approved.lease) void this.leases.schedule();
    void this.lifecycle.run(requestId, () => this.lifecycle.provision(requestId, { fresh: false }));
    return ok(toSummary(config, approved));
  }

  async deny(actor: Actor, requestId: string, reason: string): Promise<Result<VmSummaryView>> {
    const { config, store } = this.ctx;
    const allowed = await this.allowed(actor, 'deny', requestId);
    if (!allowed.ok) return allowed;
    if (reason.trim() === '') return fail(problem('reason_required', 'Give a reason: the member sees it and can ask again with what was missing.', 'reason'));
    const checked = validateReason(reason);
    if (!checked.ok) return checked;
    const member = memberOf(actor);
    const denied = await store.requests.transition(
      requestId,
      'pending',
      'denied',
      { decision: { by: member, at: this.ctx.now().toISOString(), verb: 'denied', reason: checked.value } },
      { actor: member, action: 'deny', detail: checked.value },
    );
    if (!denied) return this.lostRace(actor, 'deny', requestId);
    await this.ctx.notifier.notify(denied.requester, { kind: 'denied', requestId, name: denied.name, by: member, reason: checked.value });
    return ok(toSummary(config, denied));
  }

  async cancel(actor: Actor, ref: string): Promise<Result<VmSummaryView>> {
    const allowed = await this.allowed(actor, 'cancel', ref);
    if (!allowed.ok) return allowed;
    const req = allowed.value;
    const member = memberOf(actor);
    const cancelled = await this.ctx.store.requests.transition(
      req.id,
      'pending',
      'cancelled',
      { decision: { by: member, at: this.ctx.now().toISOString(), verb: 'cancelled' } },
      { actor: member, action: 'cancel' },
    );
    if (!cancelled) return this.lostRace(actor, 'cancel', req.id);
    return ok(toSummary(this.ctx.config, cancelled));
  }

  async retry(actor: Actor, requestId: string): Promise<Result<VmSummaryView>> {
    const allowed = await this.allowed(actor, 'retry', requestId);
    if (!allowed.ok) return allowed;
    const req = allowed.value;
    const member = memberOf(actor);
    // Progress restarts after the MAC (kept): the card must not show the old attempt's boot.
    const again = await this.ctx.store.requests.transition(requestId, 'failed', 'provisioning', { failure: null, progress: req.mac ? 'mac' : null }, {
      actor: member,
      action: 'retry',
      detail: req.failure ? `after ${req.failure.code}: ${req.failure.message}` : null,
    });
    if (!again) return this.lostRace(actor, 'retry', requestId);
    void this.lifecycle.run(requestId, () => this.lifecycle.provision(requestId, { fresh: true }));
    return ok(toSummary(this.ctx.config, again));
  }

  async delete(actor: Actor, ref: string): Promise<Result<VmSummaryView>> {
    const allowed = await this.allowed(actor, 'delete', ref);
    if (!allowed.ok) return allowed;
    const req = allowed.value;
    const member = memberOf(actor);
    const deleting = await this.ctx.store.requests.transition(req.id, DELETABLE, 'deleting', {}, { actor: member, action: 'delete', detail: `from ${req.state}` });
    if (!deleting) return this.lostRace(actor, 'delete', req.id);
    this.lifecycle.watcher.unwatch(req.id);
    void this.lifecycle.run(req.id, () => this.lifecycle.deleteVm(req.id));
    return ok(toSummary(this.ctx.config, deleting));
  }

  /** One entry point for every button: the adapters decode a press into a kind and a request id. */
  async act(actor: Actor, command: ActionCommand): Promise<Result<VmSummaryView>> {
    const kind: string = command.kind;
    if (!isActionKind(kind)) return this.refuseUnknownAction(actor, kind);
    const { requestId } = command;
    // Exhaustive: a kind added to views.ts ACTION_KINDS without its use case does not compile.
    const run: Record<ActionKind, () => Promise<Result<VmSummaryView>>> = {
      approve: () => this.approve(actor, requestId),
      deny: () => this.deny(actor, requestId, command.reason ?? ''),
      retry: () => this.retry(actor, requestId),
      delete: () => this.delete(actor, requestId),
      cancel: () => this.cancel(actor, requestId),
      renew: () => this.renew(actor, requestId),
      approve_renewal: () => this.decideRenewal(actor, requestId, 'approve'),
      deny_renewal: () => this.decideRenewal(actor, requestId, 'deny'),
      stop: () => this.stop(actor, requestId),
      start: () => this.start(actor, requestId),
      reboot: () => this.reboot(actor, requestId),
      rebuild: () => this.rebuild(actor, requestId),
    };
    return run[kind]();
  }

  /** Would act() be allowed now? Changes nothing; a refusal is audited as `<kind>_refused`, as act() would. */
  async canAct(actor: Actor, command: Omit<ActionCommand, 'reason'>): Promise<Result<VmSummaryView>> {
    const kind: string = command.kind;
    if (!isActionKind(kind)) return this.refuseUnknownAction(actor, kind);
    const allowed = await this.allowed(actor, kind, command.requestId);
    return allowed.ok ? ok(toSummary(this.ctx.config, allowed.value)) : allowed;
  }

  ip(actor: Actor, name: string): Promise<Result<VmSummaryView>> {
    return this.show(actor, name, 'ip');
  }

  status(actor: Actor, name: string): Promise<Result<VmSummaryView>> {
    return this.show(actor, name, 'status');
  }

  async logs(actor: Actor, name: string): Promise<Result<ConsoleLogView>> {
    const owned = await this.owned(actor, name, 'logs');
    return owned.ok ? readConsoleLog(this.ctx, owned.value) : owned;
  }

  async list(actor: Actor): Promise<Result<VmSummaryView[]>> {
    const filter = this.isAdmin(actor) ? { states: NAME_HOLDING_STATES } : { requester: memberOf(actor), states: NAME_HOLDING_STATES };
    const reqs = await this.ctx.store.requests.list(filter);
    return ok(reqs.map((r) => toSummary(this.ctx.config, r, this.ctx.now())));
  }

  async resume(): Promise<void> {
    // VMs that ran before the restart: is their job still there? (And from now on, periodically.)
    await this.lifecycle.startLivenessChecks();
    const reqs = await this.ctx.store.requests.list({ states: RESUMABLE_STATES });
    for (const req of reqs) {
      this.ctx.logger.info({ requestId: req.id, name: req.name, state: req.state }, 'resuming');
      if (req.state === 'deleting') void this.lifecycle.run(req.id, () => this.lifecycle.deleteVm(req.id));
      else void this.lifecycle.run(req.id, () => this.lifecycle.provision(req.id, { fresh: false }));
    }
    // A stop cut short by the restart (state stopped, job still running) is finished.
    await this.power.resume();
    // VMs that went up without their host keys shortly before: still read for them (one follow-up notice).
    await this.lifecycle.resumeHostKeys();
    // Lease timers come from the store: whatever fell due while vmbot was down is done now.
    await this.leases.schedule();
  }

  renew(actor: Actor, ref: string): Promise<Result<VmSummaryView>> {
    return this.leaseAction(actor, 'renew', ref);
  }

  stop(actor: Actor, ref: string): Promise<Result<VmSummaryView>> {
    return this.powerAction(actor, 'stop', ref);
  }

  start(actor: Actor, ref: string): Promise<Result<VmSummaryView>> {
    return this.powerAction(actor, 'start', ref);
  }

  reboot(actor: Actor, ref: string): Promise<Result<VmSummaryView>> {
    return this.powerAction(actor, 'reboot', ref);
  }

  rebuild(actor: Actor, ref: string): Promise<Result<VmSummaryView>> {
    return this.powerAction(actor, 'rebuild', ref);
  }

  decideRenewal(actor: Actor, requestId: string, verb: 'approve' | 'deny'): Promise<Result<VmSummaryView>> {
    return this.leaseAction(actor, verb === 'approve' ? 'approve_renewal' : 'deny_renewal', requestId);
  }

  async setExpiry(actor: Actor, ref: string, date: string): Promise<Result<VmSummaryView>> {
    const req = await this.resolve(ref);
    return req ? this.summary(await this.leases.setExpiry(actor, req, date, this.isAdmin(actor))) : this.notFound(ref);
  }

  async close(): Promise<void> {
    await this.leases.close();
    await this.lifecycle.close();
    await this.ctx.notifier.close();
  }

  // ---- helpers ------------------------------------------------------------------------

  /** Finds the request an action names and checks the actor may do it now; refusals are audited. */
  private async allowed(actor: Actor, kind: ActionKind, ref: string): Promise<Result<VmRequest>> {
    const req = LOOKUP[kind] === 'id' ? await this.ctx.store.requests.get(ref) : await this.resolve(ref);
    if (!req) return LOOKUP[kind] === 'id' ? this.refuseUnknown(actor, kind, ref) : this.notFound(ref);
    const refusal = this.check(actor, kind, req);
    return refusal ? this.refuse(actor, kind, req, refusal) : ok(req);
  }

  /** Who may do what, in which state: the one place each action's rules live (act and canAct use it). */
  private check(actor: Actor, kind: ActionKind, req: VmRequest): Problem | undefined {
    switch (kind) {
      case 'approve':
        if (!this.isAdmin(actor)) return problem('forbidden', 'Only vmbot admins can approve requests.');
        if (sameMember(req.requester, actor) && !this.ctx.config.policy.allowSelfApproval) return problem('self_approval', 'You cannot approve your own request; ask another admin.');
        return req.state === 'pending' ? undefined : this.alreadyDecided(req);
      case 'deny':
        if (!this.isAdmin(actor)) return problem('forbidden', 'Only vmbot admins can deny requests.');
        return req.state === 'pending' ? undefined : this.alreadyDecided(req);
      case 'retry':
        if (!this.isAdmin(actor)) return problem('forbidden', 'Only vmbot admins can retry a failed VM.');
        return req.state === 'failed' ? undefined : problem('wrong_state', `"${req.name}" is ${stateLabel(req).toLowerCase()}; only a failed VM can be retried.`);
      case 'delete': {
        if (!this.mayActOn(actor, req)) return problem('forbidden', `"${req.name}" is not your VM: you can only delete your own VMs; ask an admin.`);
        if (DELETABLE.includes(req.state)) return undefined;
        const hint = req.state === 'pending' ? ' It is still waiting for approval: cancel the request instead.' : '';
        return problem('wrong_state', `"${req.name}" is ${stateLabel(req).toLowerCase()}, so there is nothing to delete.${hint}`);
      }
      case 'renew':
      case 'approve_renewal':
      case 'deny_renewal':
        return this.leases.check(actor, kind, req, this.isAdmin(actor));
      case 'stop':
      case 'start':
      case 'reboot':
      case 'rebuild':
        if (!this.mayActOn(actor, req)) return problem('forbidden', `"${req.name}" is not your VM: you can only ${kind} your own VMs; ask an admin.`);
        // Its lease ended: a renewal starts it again (leases.ts); a bare start, or a rebuild
        // (which boots it too), would outlive the lease.
        if ((kind === 'start' || kind === 'rebuild') && this.leases.holdsStopped(req)) return problem('wrong_state', `The lease of "${req.name}" has ended: renew it (/vm renew ${req.name}), which starts it again.`);
        return this.power.check(kind, req);
      case 'cancel':
        if (!sameMember(req.requester, actor)) return problem('forbidden', 'Only the member who asked for this VM can cancel the request.');
        if (req.state === 'pending') return undefined;
        return problem('wrong_state', `"${req.name}" is ${stateLabel(req).toLowerCase()}, no longer waiting for approval${DELETABLE.includes(req.state) ? ': use delete instead' : ''}.`);
    }
  }

  /** Renew and the admins' renewal decision: checked like every action, then done by leases.ts. */
  private async leaseAction(actor: Actor, kind: LeaseActionKind, ref: string): Promise<Result<VmSummaryView>> {
    const allowed = await this.allowed(actor, kind, ref);
    if (!allowed.ok) return allowed;
    const admin = this.isAdmin(actor);
    return this.summary(kind === 'renew' ? await this.leases.renew(actor, allowed.value, admin) : await this.leases.decide(actor, kind, allowed.value, admin));
  }

  /** Stop, start, reboot, rebuild: checked like every action (owner or admin, the state), then done by power.ts. */
  private async powerAction(actor: Actor, kind: PowerKind, ref: string): Promise<Result<VmSummaryView>> {
    const allowed = await this.allowed(actor, kind, ref);
    if (!allowed.ok) return allowed;
    const by = memberOf(actor);
    const id = allowed.value.id;
    const reason = sameMember(allowed.value.requester, actor) ? 'member' : 'admin';
    const ops: Record<PowerKind, () => Promise<Result<VmRequest>>> = {
      stop: () => this.power.stopVm(id, { by, reason }),
      start: () => this.power.startVm(id, { by }),
      reboot: () => this.power.rebootVm(id, { by }),
      rebuild: () => this.power.rebuildVm(id, { by }),
    };
    return this.summary(await ops[kind]());
  }

  private summary(result: Result<VmRequest>): Result<VmSummaryView> {
    return result.ok ? ok(toSummary(this.ctx.config, result.value, this.ctx.now())) : result;
  }

  /** The lease's grace deletion: the same path as Delete, by vmbot (leases.ts LeaseOps). */
  private async startDeletion(req: VmRequest, from: readonly RequestState[], audit: { actor: MemberRef; action: string; detail: string }): Promise<VmRequest | undefined> {
    const deleting = await this.ctx.store.requests.transition(req.id, from, 'deleting', {}, audit);
    if (!deleting) return undefined;
    this.lifecycle.watcher.unwatch(req.id);
    void this.lifecycle.run(req.id, () => this.lifecycle.deleteVm(req.id));
    return deleting;
  }

  /** A press whose kind vmbot does not know (an old or forged button): refused and recorded. */
  private async refuseUnknownAction<T>(actor: Actor, kind: string): Promise<Result<T>> {
    const shown = JSON.stringify(kind.slice(0, 40));
    await this.ctx.store.audit.append({ actor: memberOf(actor), action: 'action_refused', requestId: null, vmName: null, detail: `not_found: no action ${shown}` });
    return fail(problem('not_found', `vmbot has no action ${shown}; the button may be from an older version. /vm status shows what you can do.`));
  }

  private mayActOn(actor: Actor, req: VmRequest): boolean {
    return sameMember(req.requester, actor) || this.isAdmin(actor);
  }

  private async show(actor: Actor, name: string, verb: 'ip' | 'status'): Promise<Result<VmSummaryView>> {
    const owned = await this.owned(actor, name, verb);
    return owned.ok ? ok(toSummary(this.ctx.config, owned.value, this.ctx.now())) : owned;
  }

  /** The VM a command names, when the actor is its owner or an admin; a refusal is audited as `<verb>_refused`. */
  private async owned(actor: Actor, name: string, verb: string): Promise<Result<VmRequest>> {
    const req = await this.resolve(name);
    if (!req) return this.notFound(name);
    if (!this.mayActOn(actor, req)) return this.refuse(actor, verb, req, problem('forbidden', `"${req.name}" is not your VM; ask its owner or an admin.`));
    return ok(req);
  }

  /** A request id, or the name of a VM that holds it now. */
  private async resolve(ref: string): Promise<VmRequest | undefined> {
    const trimmed = ref.trim();
    if (!trimmed) return undefined;
    return (await this.ctx.store.requests.get(trimmed)) ?? (await this.ctx.store.requests.findLiveByName(trimmed));
  }

  /**
   * Approve, deny and retry come only from buttons vmbot drew for ids it stored: an id it does
   * not know is a forged or stale press, refused like any other and recorded (with no request).
   */
  private async refuseUnknown<T>(actor: Actor, verb: string, requestId: string): Promise<Result<T>> {
    const detail = `not_found: no request ${JSON.stringify(requestId.slice(0, 100))}`;
    await this.ctx.store.audit.append({ actor: memberOf(actor), action: `${verb}_refused`, requestId: null, vmName: null, detail });
    return this.notFound(requestId);
  }

  private notFound<T>(ref: string): Result<T> {
    return fail(problem('not_found', `There is no VM or request "${ref}". /vm list shows yours.`, 'name'));
  }

  private alreadyDecided(req: VmRequest): Problem {
    if (req.decision) {
      return problem('wrong_state', `This request was already ${req.decision.verb} by ${describeMember(req.decision.by)} at ${req.decision.at}.`);
    }
    return problem('wrong_state', `This request is ${stateLabel(req).toLowerCase()}, not waiting for a decision.`);
  }

  /** The conditional transition lost to another click: tell who decided, and audit the refusal. */
  private async lostRace<T>(actor: Actor, verb: string, requestId: string): Promise<Result<T>> {
    const now = await this.ctx.store.requests.get(requestId);
    if (!now) return this.notFound(requestId);
    return this.refuse(actor, verb, now, this.alreadyDecided(now));
  }

  /** Every refused attempt leaves an audit row (`<verb>_refused`) naming the check that failed. */
  private async refuse<T>(actor: Actor, verb: string, req: VmRequest, p: Problem): Promise<Result<T>> {
    await this.ctx.store.audit.append({ actor: memberOf(actor), action: `${verb}_refused`, requestId: req.id, vmName: req.name, detail: `${p.code}: ${p.message}` });
    return fail(p);
  }
}
