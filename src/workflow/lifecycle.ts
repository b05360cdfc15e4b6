// The background half of the workflow: provisioning an approved request step by step,
// watching it until it has an address, and deleting it. Every state change is one
// conditional store.transition (with its audit row); progress goes through store.update,
// which also refuses to write once the request left the expected state (a Delete pressed
// mid-way stops provisioning at its next step). Each step is safe to repeat after a crash:
// the MAC allocation is idempotent per request, and the job is looked up by its meta
// before it is submitted.
import { setTimeout as sleep } from 'node:timers/promises';
import { VmbotError, type Problem } from '../domain/problem.js';
import type { VmRequest } from '../domain/request.js';
import type { RequestState } from '../domain/states.js';
import { VM_TASK_NAME, type AllocationInfo, type JobInfo } from '../nomad/port.js';
import type { PublishTarget } from '../cloudinit/port.js';
import type { RequestPatch } from '../store/types.js';
import { memberFailureReason, sshCommand } from './cards.js';
import { SYSTEM, type Step, type WorkflowContext } from './context.js';
import { toProblem } from './failures.js';
import { Limit } from './limit.js';
import { macsInArgs } from './pool-sync.js';
import { Watcher, type WatchProgress } from './watcher.js';

export interface LifecycleOptions {
  /** How long deletion waits for the job's allocations to stop before trying again later. */
  deleteTimeoutMs: number;
  maxConcurrentReads: number;
  /** Provisionings (render, publish, submit) running at once. */
  maxConcurrentProvisions: number;
  /** How often running VMs are checked for a vanished job (0: only at start). */
  liveCheckMs: number;
}

const PROVISIONING_STATES: readonly RequestState[] = ['approved', 'provisioning'];

const BOOKKEEPING: ReadonlySet<string> = new Set(['allocId', 'logOffset', 'evalId', 'seedToken']);

/** Thrown internally when the request left the state a step expects (e.g. deleted meanwhile). */
class Superseded extends Error {}

export function publishTarget(req: VmRequest): PublishTarget {
  return { requestId: req.id, vmName: req.name, seedToken: req.seedToken ?? '' };
}

/** An allocation still holds the VM's MAC until QEMU is gone. */
export function holdsMac(alloc: AllocationInfo): boolean {
  return alloc.clientStatus === 'running' || (alloc.clientStatus === 'pending' && alloc.desiredStatus === 'run');
}

/** vmbot owns a job for a request only when the job's meta.vmbot_request says so. */
export function ownedBy(job: Pick<JobInfo, 'meta'>, requestId: string): boolean {
  return job.meta.vmbot_request === requestId;
}

/** The audit line for a job vmbot found under its job id but did not make (and so left alone). */
export function notOursDetail(jobId: string, job: Pick<JobInfo, 'meta' | 'status'>): string {
  const owner = job.meta.vmbot_request;
  return `job ${jobId} is not vmbot's (meta.vmbot_request ${owner ? `is ${owner}` : 'missing'}): left ${job.status === 'dead' ? 'alone' : 'running'}`;
}

export class Lifecycle {
  readonly watcher: Watcher;
  private readonly tasks = new Map<string, Promise<void>>();
  private readonly abort = new AbortController();
  private readonly provisions: Limit;
  private liveTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly ctx: WorkflowContext,
    private readonly opts: LifecycleOptions,
  ) {
    this.provisions = new Limit(opts.maxConcurrentProvisions);
    this.watcher = new Watcher({
      nomad: ctx.nomad,
      logger: ctx.logger.child({ part: 'watcher' }),
      pollIntervalMs: ctx.config.nomad.pollInterval,
      ipTimeoutMs: ctx.config.nomad.ipTimeout,
      maxConcurrent: opts.maxConcurrentReads,
      events: {
        onProgress: (id, patch) => this.onWatchProgress(id, patch),
        onAddress: (id, address) => this.onAddress(id, address),
        onFailure: (id, failure) => this.recordFailure(id, failure),
      },
    });
  }

  get closed(): boolean {
    return this.abort.signal.aborted;
  }

  /** Runs one background task per request at a time (a later one waits for the earlier). */
  run(requestId: string, fn: () => Promise<void>): Promise<void> {
    const previous = this.tasks.get(requestId) ?? Promise.resolve();
    const task = previous
      .then(() => (this.closed ? undefined : fn()))
      .catch((err: unknown) => this.ctx.logger.error({ err, requestId }, 'background task failed'))
      .finally(() => {
        if (this.tasks.get(requestId) === task) this.tasks.delete(requestId);
      });
    this.tasks.set(requestId, task);
    return task;
  }

  /** Checks running VMs now, then every liveCheckMs (started once, by resume()). */
  async startLivenessChecks(): Promise<void> {
    await this.checkRunning().catch((err: unknown) => this.ctx.logger.warn({ err }, 'checking running VMs failed'));
    if (this.opts.liveCheckMs <= 0 || this.liveTimer || this.closed) return;
    let checking = false;
    this.liveTimer = setInterval(() => {
      if (checking) return;
      checking = true;
      this.checkRunning()
        .catch((err: unknown) => this.ctx.logger.warn({ err }, 'checking running VMs failed'))
        .finally(() => (checking = false));
    }, this.opts.liveCheckMs);
    this.liveTimer.unref();
  }

  async close(): Promise<void> {
    this.abort.abort();
    if (this.liveTimer) clearInterval(this.liveTimer);
    await this.watcher.close();
    await Promise.allSettled([...this.tasks.values()]);
  }

  private step(step: Step, requestId: string): void {
    this.ctx.hooks.step?.(step, requestId);
  }

  private async patch(id: string, patch: RequestPatch, states: readonly RequestState[] = PROVISIONING_STATES): Promise<VmRequest> {
    const updated = await this.ctx.store.requests.update(id, states, patch);
    if (!updated) throw new Superseded(`request ${id} is no longer in ${states.join('/')}`);
    // Bookkeeping the card does not show (the console offset moves on every read) is no reason to redraw.
    if (Object.keys(patch).some((key) => !BOOKKEEPING.has(key))) this.ctx.notifier.cardChanged(id);
    return updated;
  }

  // ---- provisioning -------------------------------------------------------------------

  /**
   * From approved (or provisioning, after a restart or a Retry) to a submitted job being
   * watched. `fresh`: a Retry; an old job of ours is purged and submitted again rather
   * than adopted (adopting it would only watch the same failure again).
   */
  async provision(id: string, opts: { fresh: boolean }): Promise<void> {
    const failure = await this.provisions.run(() => (this.closed ? Promise.resolve(undefined) : this.provisionNow(id, opts)));
    // Outside the concurrency limit: recording may have to wait for the database.
    if (failure) await this.recordFailure(id, failure);
  }

  /** Returns the failure to record, if provisioning failed. */
  private async provisionNow(id: string, opts: { fresh: boolean }): Promise<Problem | undefined> {
    const { store, nomad, publisher, renderer, config } = this.ctx;
    let req: VmRequest | undefined | null;
    try {
      req = await store.requests.get(id);
      if (!req) return undefined;
      if (req.state === 'approved') {
        req = await store.requests.transition(id, 'approved', 'provisioning', {}, { actor: SYSTEM, action: 'state:approved->provisioning' });
        if (!req) return undefined;
        this.ctx.notifier.cardChanged(id);
        this.step('after_provisioning', id);
      }
    } catch (err) {
      if (this.closed) return undefined;
      const p = toProblem(err);
      this.ctx.logger.warn({ requestId: id, code: p.code, err }, 'provisioning could not start');
      return p;
    }
    if (req.state !== 'provisioning') return undefined;
    try {
      const mac = await store.macs.allocate(id);
      this.step('after_mac_allocate', id);
      if (req.mac !== mac) {
        req = await this.patch(id, { mac, progress: 'mac' });
        await store.audit.append({ actor: SYSTEM, action: 'mac_allocated', requestId: id, vmName: req.name, detail: mac });
      } else if (req.progress === null) {
        req = await this.patch(id, { progress: 'mac' });
      }
      this.step('after_mac', id);

      const jobId = req.jobId ?? `${config.nomad.jobPrefix}${req.name}`;
      const seedToken = req.seedToken ?? this.ctx.newSeedToken();
      if (req.jobId !== jobId || req.seedToken !== seedToken) req = await this.patch(id, { jobId, seedToken });
      const distro = config.distros.find((d) => d.name === req!.distro);
      const size = config.sizes.find((s) => s.name === req!.size);
      if (!distro || !size) {
        throw new VmbotError('config_invalid', `The ${distro ? 'size' : 'distro'} "${distro ? req.size : req.distro}" is no longer in the configuration. Add it back (or deny and ask for a new request), then press Retry.`, distro ? 'sizes' : 'distros');
      }
      const target = publishTarget(req);
      const rendered = renderer.render({
        requestId: id,
        name: req.name,
        jobId,
        datacenters: config.nomad.datacenters,
        mac,
        seedUrl: publisher.seedUrl(target),
        distro: { name: distro.name, label: distro.label, image: distro.image },
        size: { name: size.name, label: size.label, cpu: size.cpu, memory: size.memory },
        login: req.login,
        sshKeys: req.sshKeys,
        taskName: VM_TASK_NAME,
      });
      this.step('after_render', id);
      try {
        await publisher.publish(target, { metaData: rendered.metaData, userData: rendered.userData });
      } catch (err) {
        if (err instanceof VmbotError) throw err;
        throw new VmbotError('publish_failed', `The cloud-init files could not be published (${err instanceof Error ? err.message : String(err)}). Check the publisher, then press Retry.`, 'cloudInit', { cause: err });
      }
      this.step('after_publish', id);

      let job = await nomad.getJob(jobId);
      if (job && job.meta.vmbot_request !== id) {
        throw new VmbotError(
          'name_taken',
          `A Nomad job "${jobId}" already exists and was not made by this request${job.meta.vmbot_request ? ` (it belongs to request ${job.meta.vmbot_request})` : ' (a hand-made job?)'}. Remove or rename that job, then press Retry.`,
          'name',
        );
      }
      if (job && (opts.fresh || job.stop || job.status === 'dead')) {
        // Ours, but finished or failed: purge it and wait for QEMU to let go of the MAC.
        const foreign = await this.stopIfOurs(jobId, id);
        if (foreign) throw new VmbotError('name_taken', `The Nomad job "${jobId}" was replaced by one this request did not make (${notOursDetail(jobId, foreign)}). Remove or rename that job, then press Retry.`, 'name');
        await this.waitAllocationsStopped(jobId);
        job = null;
      }
      this.step('after_job_check', id);
      if (job) {
        await store.audit.append({ actor: SYSTEM, action: 'job_adopted', requestId: id, vmName: req.name, detail: `${jobId} already runs for this request; not submitted again` });
        if (req.progress === 'mac' || req.progress === null) req = await this.patch(id, { progress: 'submitted' });
      } else {
        const submitted = await nomad.submitJob(rendered.job);
        this.step('after_submit', id);
        req = await this.patch(id, { evalId: submitted.evalId, progress: 'submitted', allocId: null, logOffset: 0 });
        await store.audit.append({ actor: SYSTEM, action: 'job_submitted', requestId: id, vmName: req.name, detail: `${jobId} (evaluation ${submitted.evalId})` });
      }
      this.step('after_submit_recorded', id);
      this.watch(req);
      return undefined;
    } catch (err) {
      if (err instanceof Superseded) {
        this.ctx.logger.info({ requestId: id }, 'provisioning stopped: the request changed state meanwhile');
        return undefined;
      }
      if (this.closed) return undefined; // shutting down: resume() continues after the restart

      const p = toProblem(err);
      this.ctx.logger.warn({ requestId: id, code: p.code, err }, 'provisioning failed');
      return p;
    }
  }

  /**
   * fail(), and when the database refuses the write (SQLITE_FULL, an I/O error) the request
   * is not left in `provisioning` with nobody told: the member gets the 'delayed' notice at
   * once, the error is logged, and the failure is written again with a growing pause until
   * it lands (the admins' card then shows it with Retry) or vmbot shuts down (resume() picks
   * the request up after the restart).
   */
  async recordFailure(id: string, failure: Problem | { code: string; message: string; consoleTail?: string[] }): Promise<void> {
    let memberTold = false;
    for (let attempt = 0; !this.closed; attempt++) {
      try {
        await this.fail(id, failure, { memberTold });
        return;
      } catch (err) {
        if (this.closed) return;
        this.ctx.logger.error(
          { requestId: id, code: failure.code, err, attempt },
          'could not record that provisioning failed: the database refuses writes (check the disk holding database.path); trying again',
        );
        if (!memberTold) {
          memberTold = true;
          const req = await this.ctx.store.requests.get(id).catch(() => undefined);
          if (req && PROVISIONING_STATES.includes(req.state)) {
            this.ctx.notifier.cardChanged(id);
            await this.ctx.notifier.notify(req.requester, { kind: 'delayed', requestId: id, name: req.name, reason: memberFailureReason(failure.code) });
          }
        }
      }
      const pause = Math.min(1_000 * 2 ** Math.min(attempt, 5), 30_000);
      await sleep(pause, undefined, { signal: this.abort.signal }).catch(() => undefined);
    }
  }

  watch(req: VmRequest): void {
    if (!req.jobId || !req.mac) return;
    this.watcher.watch({ requestId: req.id, jobId: req.jobId, mac: req.mac, allocId: req.allocId, logOffset: req.logOffset, progress: req.progress });
  }

  private async onWatchProgress(id: string, patch: WatchProgress): Promise<void> {
    const first = patch.allocId !== undefined && patch.logOffset === 0;
    await this.patch(id, patch, ['provisioning']).catch((err: unknown) => {
      if (err instanceof Superseded) this.watcher.unwatch(id);
      else throw err;
    });
    if (first) this.step('after_allocation', id);
  }

  private async onAddress(id: string, found: { ipv4?: string; ipv6: string[] }): Promise<void> {
    const address = { ...(found.ipv4 ? { ipv4: found.ipv4 } : {}), ipv6: found.ipv6, seenAt: this.ctx.now().toISOString() };
    const shown = found.ipv4 ?? found.ipv6[0] ?? '';
    const req = await this.ctx.store.requests.transition(id, 'provisioning', 'running', { address, progress: 'address', failure: null }, {
      actor: SYSTEM,
      action: 'state:provisioning->running',
      detail: `address ${shown}`,
    });
    if (!req) return;
    this.step('after_address', id);
    this.ctx.notifier.cardChanged(id);
    await this.ctx.notifier.notify(req.requester, {
      kind: 'up',
      requestId: id,
      name: req.name,
      ...(address.ipv4 ? { ipv4: address.ipv4 } : {}),
      ...(address.ipv6.length ? { ipv6: address.ipv6 } : {}),
      ssh: sshCommand(req.login, address) ?? '',
    });
  }

  /** approved/provisioning → failed, with the reason; admins get it and Retry on the card, the member a 'delayed' notice in member terms. */
  async fail(id: string, failure: Problem | { code: string; message: string; consoleTail?: string[] }, opts: { memberTold?: boolean } = {}): Promise<void> {
    this.watcher.unwatch(id);
    const stored = { code: failure.code, message: failure.message, ...('consoleTail' in failure && failure.consoleTail ? { consoleTail: failure.consoleTail } : {}) };
    const req = await this.ctx.store.requests.transition(id, PROVISIONING_STATES, 'failed', { failure: stored }, {
      actor: SYSTEM,
      action: 'state:provisioning->failed',
      detail: `${failure.code}: ${failure.message}`,
    });
    if (!req) return;
    this.ctx.notifier.cardChanged(id);
    if (opts.memberTold) return;
    await this.ctx.notifier.notify(req.requester, {
      kind: 'delayed',
      requestId: id,
      name: req.name,
      // Member terms only: the admins' instructions (failure.message) stay on their card.
      reason: memberFailureReason(failure.code),
    });
  }

  // ---- liveness -----------------------------------------------------------------------

  /**
   * running → lost for every running VM whose job is gone from Nomad (purged by hand, or
   * the cluster lost its state). Nomad errors leave the VM alone: unknown is not gone.
   */
  async checkRunning(): Promise<void> {
    const running = await this.ctx.store.requests.list({ states: ['running'] });
    for (const req of running) {
      if (this.closed || !req.jobId) continue;
      let job;
      try {
        job = await this.ctx.nomad.getJob(req.jobId);
      } catch (err) {
        this.ctx.logger.warn({ err, requestId: req.id }, 'could not check whether the job still exists');
        continue;
      }
      if (job && job.meta.vmbot_request === req.id) continue;
      const lost = await this.ctx.store.requests.transition(req.id, 'running', 'lost', {}, {
        actor: SYSTEM,
        action: 'state:running->lost',
        detail: job ? `job ${req.jobId} now belongs to ${job.meta.vmbot_request ?? 'a hand-made job'}` : `job ${req.jobId} is gone from Nomad`,
      });
      if (!lost) continue;
      this.ctx.notifier.cardChanged(req.id);
      await this.ctx.notifier.notify(lost.requester, { kind: 'lost', requestId: req.id, name: lost.name });
    }
  }

  // ---- deletion -----------------------------------------------------------------------

  /**
   * deleting → deleted: stop + purge the job if it is ours (a job under our job id that
   * vmbot did not make for this request is left alone, audit `job_not_ours`), unpublish,
   * wait until no allocation holds the MAC, release it (or hand it to the hand-made job
   * that still uses it). A Nomad outage does not lose the deletion: it is tried again with
   * a growing pause (and resumed after a restart, the request staying in `deleting`).
   */
  async deleteVm(id: string): Promise<void> {
    this.watcher.unwatch(id);
    for (let attempt = 0; !this.closed; attempt++) {
      try {
        const done = await this.deleteOnce(id);
        if (done) return;
      } catch (err) {
        const p = toProblem(err);
        this.ctx.logger.warn({ requestId: id, code: p.code, err, attempt }, 'deletion not finished; will try again');
        if (attempt === 0) await this.ctx.store.audit.append({ actor: SYSTEM, action: 'delete_delayed', requestId: id, detail: `${p.code}: ${p.message}` });
      }
      const pause = Math.min(this.ctx.config.nomad.pollInterval * 2 ** Math.min(attempt, 6), 60_000);
      await sleep(pause, undefined, { signal: this.abort.signal }).catch(() => undefined);
    }
  }

  /**
   * Stops and purges `jobId` only if it is this request's (meta.vmbot_request). Returns the
   * job when it is someone else's: it is never stopped. Every stopJob goes through here.
   */
  private async stopIfOurs(jobId: string, requestId: string): Promise<JobInfo | null> {
    const job = await this.ctx.nomad.getJob(jobId);
    if (!job) return null; // already gone
    if (!ownedBy(job, requestId)) return job;
    await this.ctx.nomad.stopJob(jobId);
    return null;
  }

  /** A hand-made job (no meta.vmbot_request) that still lists `mac` in its qemu args, if any. */
  private async handMadeJobUsing(mac: string): Promise<string | undefined> {
    const jobs = await this.ctx.nomad.listJobs();
    return jobs.find((j) => !j.meta.vmbot_request && macsInArgs(j.qemuArgs).includes(mac.toLowerCase()))?.id;
  }

  private async deleteOnce(id: string): Promise<boolean> {
    const { store, publisher } = this.ctx;
    const req = await store.requests.get(id);
    if (!req || req.state !== 'deleting') return true;
    const foreign = req.jobId ? await this.stopIfOurs(req.jobId, id) : null;
    const skipped = foreign && req.jobId ? notOursDetail(req.jobId, foreign) : null;
    if (skipped) {
      this.ctx.logger.warn({ requestId: id, jobId: req.jobId }, skipped);
      await store.audit.append({ actor: SYSTEM, action: 'job_not_ours', requestId: id, vmName: req.name, detail: skipped });
    }
    this.step('after_stop', id);
    if (req.seedToken) await publisher.unpublish(publishTarget(req));
    this.step('after_unpublish', id);
    // A foreign job's allocations are not ours to wait for; a hand-made job that carries our
    // MAC keeps it (as `external`, like pool sync marks it), otherwise only our own last
    // allocation (replaced when the job was) must be gone before the MAC is free.
    const keptBy = foreign && req.mac ? await this.handMadeJobUsing(req.mac) : undefined;
    if (req.jobId && !foreign) await this.waitAllocationsStopped(req.jobId);
    else if (req.jobId && req.allocId && !keptBy) await this.waitAllocationsStopped(req.jobId, req.allocId);
    await store.macs.releaseForRequest(id, keptBy ? { keptByJob: keptBy } : {});
    this.step('after_release', id);
    const macDetail = req.mac ? (keptBy ? `MAC ${req.mac} kept: the hand-made job ${keptBy} uses it (now external)` : `MAC ${req.mac} released`) : null;
    const detail = [skipped, macDetail].filter(Boolean).join('; ') || null;
    const deleted = await store.requests.transition(id, 'deleting', 'deleted', {}, { actor: SYSTEM, action: 'state:deleting->deleted', detail });
    if (!deleted) return true;
    this.ctx.notifier.cardChanged(id);
    await this.ctx.notifier.notify(deleted.requester, { kind: 'deleted', requestId: id, name: deleted.name });
    return true;
  }

  /** Polls the job's allocations (or only `allocId`) until none holds the MAC (QEMU gone), or throws at the deadline. */
  private async waitAllocationsStopped(jobId: string, allocId?: string): Promise<void> {
    const deadline = Date.now() + this.opts.deleteTimeoutMs;
    for (;;) {
      const allocs = await this.ctx.nomad.listAllocations(jobId);
      const holding = allocs.filter((a) => holdsMac(a) && (allocId === undefined || a.id === allocId));
      if (holding.length === 0) return;
      if (Date.now() > deadline) {
        throw new VmbotError('nomad_error', `Allocation(s) ${holding.map((a) => a.id.slice(0, 8)).join(', ')} of ${jobId} are still running after the job was stopped; the MAC stays taken until they stop.`);
      }
      await sleep(this.ctx.config.nomad.pollInterval, undefined, { signal: this.abort.signal });
    }
  }
}
