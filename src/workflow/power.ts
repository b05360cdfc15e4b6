// Power actions on a VM that runs (or ran): stop, start, reboot, rebuild. The operations
// here decide no authorization: the use cases in workflow.ts check the actor first (owner or
// admin), the lease scheduler acts as SYSTEM. Each is one conditional state change with its
// audit row, and then the Nomad work on the request's cluster, touching the job only when it
// is ours (meta.vmbot_request):
// - stop: running → stopped, the job stopped WITHOUT purge (still registered; the MAC and
//   the published cloud-init files are kept), the boot watch dropped;
// - start: stopped → provisioning, the same job registered again (same MAC, same seed URL),
//   then watched until the address shows, as provisioning does;
// - reboot: Nomad's in-place restart of the current allocation (same allocation, same
//   disk); the state stays running;
// - rebuild: running/stopped → provisioning with rebuilds + 1, so the cloud-init instance-id
//   is new (render-vars.ts), then the job purged and submitted afresh: a fresh disk from the
//   image, same name, MAC and address.
import { setTimeout as sleep } from 'node:timers/promises';
import { fail, ok, problem, type Problem, type Result } from '../domain/problem.js';
import type { MemberRef, StopReason, VmRequest } from '../domain/request.js';
import type { RequestState } from '../domain/states.js';
import { SYSTEM, type WorkflowContext } from './context.js';
import { notOursDetail, ownedBy } from './deploy-policy.js';
import { toProblem } from './failures.js';
import { stopIfOurs } from './nomad-jobs.js';
import { nomadTarget } from './nomad-target.js';
import { TASK_NAME } from './render-vars.js';
import { currentAllocation } from './watcher.js';

export const POWER_KINDS = ['stop', 'start', 'reboot', 'rebuild'] as const;
export type PowerKind = (typeof POWER_KINDS)[number];

/** The states each power action starts from. */
export const POWER_FROM: Readonly<Record<PowerKind, readonly RequestState[]>> = {
  stop: ['running'],
  start: ['stopped'],
  reboot: ['running'],
  rebuild: ['running', 'stopped'],
};

export interface PowerDeps {
  /** The lifecycle's per-request runner: one background task per request at a time. */
  run(requestId: string, fn: () => Promise<void>): Promise<void>;
  /** Provisioning from `provisioning` on: render, publish, deploy (as the deploy policy decides), watch. */
  provision(requestId: string, opts: { fresh: boolean }): Promise<void>;
  unwatch(requestId: string): void;
  /** Aborted at shutdown: a stop still being retried continues after the restart (resume). */
  signal: AbortSignal;
}

const WHAT: Readonly<Record<PowerKind, string>> = { stop: 'stopped', start: 'started', reboot: 'rebooted', rebuild: 'rebuilt' };

export class Power {
  constructor(
    private readonly ctx: WorkflowContext,
    private readonly deps: PowerDeps,
  ) {}

  /** Why `kind` cannot be done to `req` in its state now; undefined when it can. */
  check(kind: PowerKind, req: VmRequest): Problem | undefined {
    if (POWER_FROM[kind].includes(req.state)) return undefined;
    const now = `"${req.name}" is ${req.state === 'stopped' ? 'stopped' : req.state === 'running' ? 'running' : `not running (${req.state})`}`;
    switch (kind) {
      case 'stop':
        return problem('wrong_state', `${now}: only a running VM can be stopped.`);
      case 'start':
        return problem('wrong_state', `${now}: only a stopped VM can be started${req.state === 'failed' ? '; an admin can press Retry on its card' : ''}.`);
      case 'reboot':
        return problem('wrong_state', `${now}: only a running VM can be rebooted${req.state === 'stopped' ? `; start it instead (/vm start ${req.name})` : ''}.`);
      case 'rebuild':
        return problem('wrong_state', `${now}: only a running or stopped VM can be rebuilt.`);
    }
  }

  /**
   * running → stopped, then the job stopped without purge (only if ours). Nothing changes
   * when the job is not ours or Nomad cannot be asked first; a stop that fails after the
   * state moved is tried again in the background (and after a restart, by resume()).
   */
  async stopVm(requestId: string, opts: { by: MemberRef; reason: StopReason }): Promise<Result<VmRequest>> {
    const req = await this.ctx.store.requests.get(requestId);
    if (!req) return fail(problem('not_found', `There is no VM ${requestId}.`));
    const wrong = this.check('stop', req);
    if (wrong) return fail(wrong);
    const foreign = await this.foreignJob(req, 'stop', opts.by);
    if (!foreign.ok) return foreign;
    const stopped = await this.ctx.store.requests.transition(requestId, 'running', 'stopped', { stopReason: opts.reason }, { actor: opts.by, action: 'stop', detail: `reason ${opts.reason}` });
    if (!stopped) return this.changedMeanwhile(requestId, 'stop');
    this.deps.unwatch(requestId);
    try {
      await this.stopJob(stopped);
    } catch (err) {
      const p = toProblem(err);
      this.ctx.logger.warn({ requestId, code: p.code, err }, 'stopping the job failed; will try again');
      await this.ctx.store.audit.append({ actor: SYSTEM, action: 'stop_delayed', requestId, vmName: stopped.name, detail: `${p.code}: ${p.message}` });
      void this.deps.run(requestId, () => this.ensureStopped(requestId));
    }
    return ok(stopped);
  }

  /** stopped → provisioning, and the same job registered again and watched (provisioning does it: the deploy policy resubmits our stopped job). */
  async startVm(requestId: string, opts: { by: MemberRef }): Promise<Result<VmRequest>> {
    const req = await this.ctx.store.requests.get(requestId);
    if (!req) return fail(problem('not_found', `There is no VM ${requestId}.`));
    const wrong = this.check('start', req);
    if (wrong) return fail(wrong);
    const foreign = await this.foreignJob(req, 'start', opts.by);
    if (!foreign.ok) return foreign;
    // The address stays the same (same MAC), but it is shown again only once the VM has it.
    const started = await this.ctx.store.requests.transition(
      requestId,
      'stopped',
      'provisioning',
      { stopReason: null, bootCause: 'start', progress: req.mac ? 'mac' : null, address: null, failure: null, hostKeys: null },
      { actor: opts.by, action: 'start', detail: req.stopReason ? `stopped by ${req.stopReason}` : null },
    );
    if (!started) return this.changedMeanwhile(requestId, 'start');
    void this.deps.run(requestId, () => this.deps.provision(requestId, { fresh: false }));
    return ok(started);
  }

  /** Nomad's in-place restart of the VM's current allocation: same allocation, same disk; the state stays running. */
  async rebootVm(requestId: string, opts: { by: MemberRef }): Promise<Result<VmRequest>> {
    const req = await this.ctx.store.requests.get(requestId);
    if (!req) return fail(problem('not_found', `There is no VM ${requestId}.`));
    const wrong = this.check('reboot', req);
    if (wrong) return fail(wrong);
    const foreign = await this.foreignJob(req, 'reboot', opts.by);
    if (!foreign.ok) return foreign;
    const { nomad } = nomadTarget(this.ctx, req);
    try {
      const alloc = currentAllocation(await nomad.listAllocations(req.jobId!), req.allocId);
      if (!alloc || alloc.clientStatus !== 'running') {
        return this.failed(req, 'reboot', opts.by, problem('wrong_state', `"${req.name}" has no running allocation on the cluster right now, so there is nothing to reboot. Check /vm status ${req.name}, or ask an admin.`));
      }
      await nomad.restartAllocation(alloc.id, TASK_NAME);
      await this.ctx.store.audit.append({ actor: opts.by, action: 'reboot', requestId, vmName: req.name, detail: `allocation ${alloc.id.slice(0, 8)} restarted in place` });
    } catch (err) {
      return this.failed(req, 'reboot', opts.by, this.nomadProblem(req, 'reboot', err));
    }
    return ok(req);
  }

  /** running/stopped → provisioning with a new instance-id; the job purged and submitted afresh (a fresh disk). */
  async rebuildVm(requestId: string, opts: { by: MemberRef }): Promise<Result<VmRequest>> {
    const req = await this.ctx.store.requests.get(requestId);
    if (!req) return fail(problem('not_found', `There is no VM ${requestId}.`));
    const wrong = this.check('rebuild', req);
    if (wrong) return fail(wrong);
    const foreign = await this.foreignJob(req, 'rebuild', opts.by);
    if (!foreign.ok) return foreign;
    const rebuilds = req.rebuilds + 1;
    const rebuilding = await this.ctx.store.requests.transition(
      requestId,
      POWER_FROM.rebuild,
      'provisioning',
      { rebuilds, bootCause: 'rebuild', stopReason: null, progress: req.mac ? 'mac' : null, address: null, failure: null, hostKeys: null },
      { actor: opts.by, action: 'rebuild', detail: `rebuild ${rebuilds} from ${req.state}` },
    );
    if (!rebuilding) return this.changedMeanwhile(requestId, 'rebuild');
    this.deps.unwatch(requestId);
    // fresh: our job is purged, QEMU waited for, and the job submitted again.
    void this.deps.run(requestId, () => this.deps.provision(requestId, { fresh: true }));
    return ok(rebuilding);
  }

  /** After a restart: a stopped VM whose job may still run (the stop failed, or vmbot stopped before it was sent). */
  async resume(): Promise<void> {
    const stopped = await this.ctx.store.requests.list({ states: ['stopped'] });
    for (const req of stopped) void this.deps.run(req.id, () => this.ensureStopped(req.id));
  }

  /** Stops the job (without purge) until it is stopped, while the request stays stopped. */
  private async ensureStopped(requestId: string): Promise<void> {
    for (let attempt = 0; !this.deps.signal.aborted; attempt++) {
      const req = await this.ctx.store.requests.get(requestId);
      if (req?.state !== 'stopped') return;
      try {
        await this.stopJob(req);
        return;
      } catch (err) {
        this.ctx.logger.warn({ requestId, err, attempt }, 'stopping the job failed; will try again');
      }
      const pause = Math.min(nomadTarget(this.ctx, req).settings.pollInterval * 2 ** Math.min(attempt, 6), 60_000);
      await sleep(pause, undefined, { signal: this.deps.signal }).catch(() => undefined);
    }
  }

  /** The job stopped without purge when it is ours and still running; a job that is not ours is left alone (audited). */
  private async stopJob(req: VmRequest): Promise<void> {
    if (!req.jobId) return;
    const { nomad } = nomadTarget(this.ctx, req);
    const job = await nomad.getJob(req.jobId);
    if (!job || (ownedBy(job, req.id) && job.stop)) return;
    const foreign = await stopIfOurs(nomad, req.jobId, req.id, { purge: false });
    if (foreign) await this.ctx.store.audit.append({ actor: SYSTEM, action: 'job_not_ours', requestId: req.id, vmName: req.name, detail: notOursDetail(req.jobId, foreign) });
  }

  /**
   * Looks at the job before anything changes: one that is not ours is never touched (the
   * action is refused and audited); Nomad not answering refuses it too (nothing changed).
   */
  private async foreignJob(req: VmRequest, kind: PowerKind, by: MemberRef): Promise<Result<null>> {
    if (!req.jobId) return this.failed(req, kind, by, problem('wrong_state', `"${req.name}" has no Nomad job recorded, so it cannot be ${WHAT[kind]}. Ask an admin.`));
    let job;
    try {
      job = await nomadTarget(this.ctx, req).nomad.getJob(req.jobId);
    } catch (err) {
      return this.failed(req, kind, by, this.nomadProblem(req, kind, err));
    }
    if (job && !ownedBy(job, req.id)) {
      await this.ctx.store.audit.append({ actor: SYSTEM, action: 'job_not_ours', requestId: req.id, vmName: req.name, detail: notOursDetail(req.jobId, job) });
      return this.failed(req, kind, by, problem('name_taken', `The Nomad job "${req.jobId}" is not the one vmbot made for "${req.name}", so vmbot leaves it alone: "${req.name}" was not ${WHAT[kind]}. Ask an admin.`));
    }
    if (!job && kind !== 'rebuild') {
      return this.failed(req, kind, by, problem('wrong_state', `The Nomad job of "${req.name}" is gone from the cluster, so it cannot be ${WHAT[kind]}. Rebuild it (/vm rebuild ${req.name}) or delete it.`));
    }
    return ok(null);
  }

  private nomadProblem(req: VmRequest, kind: PowerKind, err: unknown): Problem {
    const p = toProblem(err);
    const cause = p.code === 'nomad_unreachable' ? 'the cluster could not be reached' : `the cluster answered with an error (${err instanceof Error ? err.message : String(err)})`;
    return problem(p.code, `"${req.name}" was not ${WHAT[kind]}: ${cause}. Nothing was changed; try again in a few minutes, or ask an admin if it keeps failing.`);
  }

  /** A power action that could not be done: audited as `<kind>_failed`. */
  private async failed<T>(req: VmRequest, kind: PowerKind, by: MemberRef, p: Problem): Promise<Result<T>> {
    await this.ctx.store.audit.append({ actor: by, action: `${kind}_failed`, requestId: req.id, vmName: req.name, detail: `${p.code}: ${p.message}` });
    return fail(p);
  }

  /** The conditional transition found the request in another state (someone else acted first). */
  private async changedMeanwhile<T>(requestId: string, kind: PowerKind): Promise<Result<T>> {
    const now = await this.ctx.store.requests.get(requestId);
    return fail(now ? (this.check(kind, now) ?? problem('wrong_state', `"${now.name}" changed meanwhile; try again.`)) : problem('not_found', `There is no VM ${requestId}.`));
  }
}
