// Provisioning an approved request, step by step: approved → provisioning, the MAC, render
// (with renderVars, as `vmbot render` does), publish the cloud-init files, then deploy as
// the deploy policy decides (submit / adopt / purge-and-resubmit / refuse a foreign job),
// and hand the job to the boot watch. Each step is safe to repeat after a crash: the MAC
// allocation is idempotent per request, and the job is looked up by its meta before it is
// submitted. Progress goes through saveProgress, so a Delete pressed mid-way stops
// provisioning at its next step.
import { VmbotError, type Problem } from '../domain/problem.js';
import type { VmRequest } from '../domain/request.js';
import type { PublishTarget } from '../cloudinit/port.js';
import type { RenderedVm } from '../render/types.js';
import { SYSTEM, type Step, type WorkflowContext } from './context.js';
import { decideDeploy, notOursDetail } from './deploy-policy.js';
import type { FailureRecorder } from './failure-recorder.js';
import { toProblem } from './failures.js';
import type { Limit } from '../domain/limit.js';
import { stopIfOurs, waitAllocationsStopped } from './nomad-jobs.js';
import { nomadTarget, type NomadTarget } from './nomad-target.js';
import { saveProgress, Superseded } from './progress.js';
import { renderVars } from './render-vars.js';

export function publishTarget(req: VmRequest): PublishTarget {
  return { requestId: req.id, vmName: req.name, seedToken: req.seedToken ?? '' };
}

export interface ProvisioningDeps {
  /** Bounds how many provisionings talk to Nomad at once. */
  limit: Limit;
  failures: FailureRecorder;
  /** Hands a submitted (or adopted) job to the boot watch. */
  watch(req: VmRequest): void;
  /** Aborted at shutdown: work stops, resume() continues after the restart. */
  signal: AbortSignal;
  /** How long a purge waits for the old job's allocations to stop. */
  deleteTimeoutMs: number;
}

export class Provisioning {
  constructor(
    private readonly ctx: WorkflowContext,
    private readonly deps: ProvisioningDeps,
  ) {}

  private get closed(): boolean {
    return this.deps.signal.aborted;
  }

  /**
   * From approved (or provisioning, after a restart or a Retry) to a submitted job being
   * watched. `fresh`: a Retry (an old job of ours is purged and submitted again).
   */
  async provision(id: string, opts: { fresh: boolean }): Promise<void> {
    const failure = await this.deps.limit.run(() => (this.closed ? Promise.resolve(undefined) : this.provisionNow(id, opts)));
    // Outside the concurrency limit: recording may have to wait for the database.
    if (failure) await this.deps.failures.record(id, failure);
  }

  private step(step: Step, requestId: string): void {
    this.ctx.hooks.step?.(step, requestId);
  }

  /** Returns the failure to record, if provisioning failed. */
  private async provisionNow(id: string, opts: { fresh: boolean }): Promise<Problem | undefined> {
    let req: VmRequest | undefined;
    try {
      req = await this.start(id);
    } catch (err) {
      if (this.closed) return undefined;
      const p = toProblem(err);
      this.ctx.logger.warn({ requestId: id, code: p.code, err }, 'provisioning could not start');
      return p;
    }
    if (req?.state !== 'provisioning') return undefined;
    try {
      req = await this.allocateMac(req);
      const target = nomadTarget(this.ctx, req);
      req = await this.fixJobAndSeed(req, target);
      const rendered = this.render(req, target);
      this.step('after_render', id);
      await this.publish(req, rendered);
      this.step('after_publish', id);
      req = await this.deploy(req, target, rendered, opts);
      this.step('after_submit_recorded', id);
      this.deps.watch(req);
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

  /** approved → provisioning (a request already provisioning continues as it is). */
  private async start(id: string): Promise<VmRequest | undefined> {
    const req = await this.ctx.store.requests.get(id);
    if (!req || req.state !== 'approved') return req;
    const started = await this.ctx.store.requests.transition(id, 'approved', 'provisioning', {}, { actor: SYSTEM, action: 'state:approved->provisioning' });
    if (!started) return undefined;
    this.step('after_provisioning', id);
    return started;
  }

  /** The request's MAC (the same one again after a crash or a Retry), recorded with progress 'mac'. */
  private async allocateMac(req: VmRequest): Promise<VmRequest> {
    const { store } = this.ctx;
    const mac = await store.macs.allocate(req.id);
    this.step('after_mac_allocate', req.id);
    let updated = req;
    if (req.mac !== mac) {
      updated = await saveProgress(this.ctx, req.id, { mac, progress: 'mac' });
      await store.audit.append({ actor: SYSTEM, action: 'mac_allocated', requestId: req.id, vmName: updated.name, detail: mac });
    } else if (req.progress === null) {
      updated = await saveProgress(this.ctx, req.id, { progress: 'mac' });
    }
    this.step('after_mac', req.id);
    return updated;
  }

  /** Approval fixes both; a request approved by an older vmbot gets them here. */
  private async fixJobAndSeed(req: VmRequest, target: NomadTarget): Promise<VmRequest> {
    const jobId = req.jobId ?? `${target.settings.jobPrefix}${req.name}`;
    const seedToken = req.seedToken ?? this.ctx.newSeedToken();
    if (req.jobId === jobId && req.seedToken === seedToken) return req;
    return saveProgress(this.ctx, req.id, { jobId, seedToken });
  }

  private render(req: VmRequest, target: NomadTarget): RenderedVm {
    const { config, renderer, publisher } = this.ctx;
    const distro = config.distros.find((d) => d.name === req.distro);
    const size = config.sizes.find((s) => s.name === req.size);
    if (!distro || !size) {
      throw new VmbotError('config_invalid', `The ${distro ? 'size' : 'distro'} "${distro ? req.size : req.distro}" is no longer in the configuration. Add it back (or deny and ask for a new request), then press Retry.`, distro ? 'sizes' : 'distros');
    }
    return renderer.render(
      renderVars(
        {
          requestId: req.id,
          name: req.name,
          distro,
          size,
          login: req.login,
          sshKeys: req.sshKeys,
          mac: req.mac!,
          seedUrl: publisher.seedUrl(publishTarget(req)),
          rebuilds: req.rebuilds,
          ...(req.jobId ? { jobId: req.jobId } : {}),
        },
        target.settings,
      ),
    );
  }

  private async publish(req: VmRequest, rendered: RenderedVm): Promise<void> {
    try {
      await this.ctx.publisher.publish(publishTarget(req), { metaData: rendered.metaData, userData: rendered.userData });
    } catch (err) {
      if (err instanceof VmbotError) throw err;
      throw new VmbotError('publish_failed', `The cloud-init files could not be published (${err instanceof Error ? err.message : String(err)}). Check the publisher, then press Retry.`, 'cloudInit', { cause: err });
    }
  }

  /** Reads what Nomad has under the job id, and acts as the deploy policy decides. */
  private async deploy(req: VmRequest, target: NomadTarget, rendered: RenderedVm, opts: { fresh: boolean }): Promise<VmRequest> {
    const { store } = this.ctx;
    const { nomad } = target;
    const id = req.id;
    const jobId = req.jobId!;
    const existing = await nomad.getJob(jobId);
    const decision = decideDeploy(existing, id, opts);
    if (decision.kind === 'refuse-foreign') {
      throw new VmbotError(
        'name_taken',
        `A Nomad job "${jobId}" already exists and was not made by this request${decision.owner ? ` (it belongs to request ${decision.owner})` : ' (a hand-made job?)'}. Remove or rename that job, then press Retry.`,
        'name',
      );
    }
    if (decision.kind === 'purge-and-resubmit') {
      // Ours, but finished or failed: purge it and wait for QEMU to let go of the MAC.
      const foreign = await stopIfOurs(nomad, jobId, id);
      if (foreign) throw new VmbotError('name_taken', `The Nomad job "${jobId}" was replaced by one this request did not make (${notOursDetail(jobId, foreign)}). Remove or rename that job, then press Retry.`, 'name');
      await waitAllocationsStopped(nomad, jobId, { timeoutMs: this.deps.deleteTimeoutMs, pollIntervalMs: target.settings.pollInterval, signal: this.deps.signal });
    }
    if (decision.kind === 'resubmit') {
      // Ours and stopped (/vm stop): registered again as it is, once the old QEMU let go of the MAC.
      await waitAllocationsStopped(nomad, jobId, { timeoutMs: this.deps.deleteTimeoutMs, pollIntervalMs: target.settings.pollInterval, signal: this.deps.signal });
    }
    this.step('after_job_check', id);
    if (decision.kind === 'adopt') {
      await store.audit.append({ actor: SYSTEM, action: 'job_adopted', requestId: id, vmName: req.name, detail: `${jobId} already runs for this request; not submitted again` });
      if (req.progress === 'mac' || req.progress === null) return saveProgress(this.ctx, id, { progress: 'submitted' });
      return req;
    }
    const submitted = await nomad.submitJob(rendered.job);
    this.step('after_submit', id);
    const updated = await saveProgress(this.ctx, id, { evalId: submitted.evalId, progress: 'submitted', allocId: null, logOffset: 0 });
    await store.audit.append({ actor: SYSTEM, action: 'job_submitted', requestId: id, vmName: updated.name, detail: `${jobId} (evaluation ${submitted.evalId})` });
    return updated;
  }
}
