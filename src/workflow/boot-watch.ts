// The last stretch of provisioning: the submitted job is followed by the Watcher until the
// guest prints its address. This part turns the watcher's events into store changes:
// progress (allocation, console offset), provisioning → running with the 'up' notice, or
// a failure for the recorder.
import type { VmRequest } from '../domain/request.js';
import { sshCommand } from './cards.js';
import { SYSTEM, type Step, type WorkflowContext } from './context.js';
import type { FailureRecorder } from './failure-recorder.js';
import { nomadTarget } from './nomad-target.js';
import { saveProgress, Superseded } from './progress.js';
import { Watcher, type WatchProgress } from './watcher.js';

export class BootWatch {
  readonly watcher: Watcher;

  constructor(
    private readonly ctx: WorkflowContext,
    opts: { maxConcurrentReads: number; failures: () => FailureRecorder },
  ) {
    const { nomad, settings } = nomadTarget(ctx);
    this.watcher = new Watcher({
      nomad,
      logger: ctx.logger.child({ part: 'watcher' }),
      pollIntervalMs: settings.pollInterval,
      ipTimeoutMs: settings.ipTimeout,
      maxConcurrent: opts.maxConcurrentReads,
      events: {
        onProgress: (id, patch) => this.onProgress(id, patch),
        onAddress: (id, address) => this.onAddress(id, address),
        onFailure: (id, failure) => opts.failures().record(id, failure),
      },
    });
  }

  watch(req: VmRequest): void {
    if (!req.jobId || !req.mac) return;
    this.watcher.watch({ requestId: req.id, jobId: req.jobId, mac: req.mac, allocId: req.allocId, logOffset: req.logOffset, progress: req.progress });
  }

  unwatch(requestId: string): void {
    this.watcher.unwatch(requestId);
  }

  close(): Promise<void> {
    return this.watcher.close();
  }

  private step(step: Step, requestId: string): void {
    this.ctx.hooks.step?.(step, requestId);
  }

  private async onProgress(id: string, patch: WatchProgress): Promise<void> {
    const first = patch.allocId !== undefined && patch.logOffset === 0;
    await saveProgress(this.ctx, id, patch, ['provisioning']).catch((err: unknown) => {
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
}
