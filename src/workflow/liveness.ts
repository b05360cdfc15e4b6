// Liveness: running → lost for every running VM whose job is gone from Nomad (purged by
// hand, or the cluster lost its state), checked at start and then every liveCheckMs.
import { SYSTEM, type WorkflowContext } from './context.js';
import { ownedBy } from './deploy-policy.js';
import { nomadTarget } from './nomad-target.js';

export class Liveness {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly ctx: WorkflowContext,
    private readonly opts: { liveCheckMs: number; signal: AbortSignal },
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
    const running = await this.ctx.store.requests.list({ states: ['running'] });
    for (const req of running) {
      if (this.opts.signal.aborted || !req.jobId) continue;
      let job;
      try {
        job = await nomadTarget(this.ctx, req).nomad.getJob(req.jobId);
      } catch (err) {
        this.ctx.logger.warn({ err, requestId: req.id }, 'could not check whether the job still exists');
        continue;
      }
      if (job && ownedBy(job, req.id)) continue;
      const lost = await this.ctx.store.requests.transition(req.id, 'running', 'lost', {}, {
        actor: SYSTEM,
        action: 'state:running->lost',
        detail: job ? `job ${req.jobId} now belongs to ${job.meta.vmbot_request ?? 'a hand-made job'}` : `job ${req.jobId} is gone from Nomad`,
      });
      if (!lost) continue;
      await this.ctx.notifier.notify(lost.requester, { kind: 'lost', requestId: req.id, name: lost.name });
    }
  }
}
