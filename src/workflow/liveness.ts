// Liveness, checked at start and then every liveCheckMs:
// - running or stopped → lost for every VM whose job is gone from Nomad (purged by hand, or
//   the cluster lost its state);
// - a running VM whose allocation Nomad replaced (a reschedule after its node failed or was
//   drained) booted again on another node with a fresh disk: running → provisioning with
//   the new allocation, the member told ('moved'), and the boot watched again until the
//   address shows (the 'up' notice then says the host keys changed).
import type { VmRequest } from '../domain/request.js';
import type { NomadPort } from '../nomad/port.js';
import { SYSTEM, type WorkflowContext } from './context.js';
import { ownedBy } from './deploy-policy.js';
import { nomadTarget } from './nomad-target.js';
import { currentAllocation } from './watcher.js';

/** Allocation states after which Nomad does not run it again. */
const ENDED = new Set(['complete', 'failed', 'lost']);

export class Liveness {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly ctx: WorkflowContext,
    private readonly opts: { liveCheckMs: number; signal: AbortSignal; watch(req: VmRequest): void },
  ) {}

  /** Checks running VMs now, then every liveCheckMs (started once). */
  async start(): Promise<void> {
    await this.checkRunning().catch((err: unknown) => this.ctx.logger.warn({ err }, 'checking running VMs failed'));
    if (this.opts.liveCheckMs <= 0 || this.timer || this.opts.signal.aborted) return;
    let checking = false;
    this.timer = setInterval(() => {
      if (checking) return;
      checking = true;
      this.checkRunning()
        .catch((err: unknown) => this.ctx.logger.warn({ err }, 'checking running VMs failed'))
        .finally(() => (checking = false));
    }, this.opts.liveCheckMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  /** Nomad errors leave the VM alone: unknown is not gone. */
  async checkRunning(): Promise<void> {
    const live = await this.ctx.store.requests.list({ states: ['running', 'stopped'] });
    for (const req of live) {
      if (this.opts.signal.aborted || !req.jobId) continue;
      const { nomad } = nomadTarget(this.ctx, req);
      let job;
      try {
        job = await nomad.getJob(req.jobId);
      } catch (err) {
        this.ctx.logger.warn({ err, requestId: req.id }, 'could not check whether the job still exists');
        continue;
      }
      if (job && ownedBy(job, req.id)) {
        if (req.state === 'running') await this.followReplacement(req, nomad).catch((err: unknown) => this.ctx.logger.warn({ err, requestId: req.id }, 'could not check the allocation'));
        continue;
      }
      const lost = await this.ctx.store.requests.transition(req.id, req.state, 'lost', {}, {
        actor: SYSTEM,
        action: `state:${req.state}->lost`,
        detail: job ? `job ${req.jobId} now belongs to ${job.meta.vmbot_request ?? 'a hand-made job'}` : `job ${req.jobId} is gone from Nomad`,
      });
      if (!lost) continue;
      await this.ctx.notifier.notify(lost.requester, { kind: 'lost', requestId: req.id, name: lost.name });
    }
  }

  /** A running VM whose allocation ended and was replaced by Nomad: follow the new one (see the header). */
  private async followReplacement(req: VmRequest, nomad: NomadPort): Promise<void> {
    if (!req.jobId || !req.allocId) return;
    const allocs = await nomad.listAllocations(req.jobId);
    const current = currentAllocation(allocs, req.allocId);
    const previous = allocs.find((a) => a.id === req.allocId);
    if (!current || current.id === req.allocId || (previous && !ENDED.has(previous.clientStatus))) return;
    const moved = await this.ctx.store.requests.transition(
      req.id,
      'running',
      'provisioning',
      // Same MAC, so the same address; shown again once this boot prints it.
      { allocId: current.id, logOffset: 0, progress: 'submitted', address: null, hostKeys: null, bootCause: 'moved' },
      { actor: SYSTEM, action: 'state:running->provisioning', detail: `allocation ${req.allocId.slice(0, 8)} was replaced by ${current.id.slice(0, 8)} (Nomad rescheduled the VM; a fresh disk)` },
    );
    if (!moved) return;
    await this.ctx.notifier.notify(moved.requester, { kind: 'moved', requestId: req.id, name: moved.name });
    this.opts.watch(moved);
  }
}
