// Deletion, deleting → deleted: stop + purge the job if it is ours (a job under our job id
// that vmbot did not make for this request is left alone, audit `job_not_ours`), unpublish,
// wait until no allocation holds the MAC, release it (or hand it to the hand-made job that
// still uses it). A Nomad outage does not lose the deletion: it is tried again with a
// growing pause (and resumed after a restart, the request staying in `deleting`).
import { setTimeout as sleep } from 'node:timers/promises';
import { SYSTEM, type Step, type WorkflowContext } from './context.js';
import { notOursDetail } from './deploy-policy.js';
import { toProblem } from './failures.js';
import { handMadeJobUsing, stopIfOurs, waitAllocationsStopped } from './nomad-jobs.js';
import { nomadTarget } from './nomad-target.js';
import { publishTarget } from './provisioning.js';

export class Deletion {
  constructor(
    private readonly ctx: WorkflowContext,
    private readonly opts: { deleteTimeoutMs: number; signal: AbortSignal; unwatch(requestId: string): void },
  ) {}

  async deleteVm(id: string): Promise<void> {
    this.opts.unwatch(id);
    for (let attempt = 0; !this.opts.signal.aborted; attempt++) {
      try {
        const done = await this.deleteOnce(id);
        if (done) return;
      } catch (err) {
        const p = toProblem(err);
        this.ctx.logger.warn({ requestId: id, code: p.code, err, attempt }, 'deletion not finished; will try again');
        if (attempt === 0) await this.ctx.store.audit.append({ actor: SYSTEM, action: 'delete_delayed', requestId: id, detail: `${p.code}: ${p.message}` });
      }
      // The pause between attempts paces the retries; the default cluster's poll interval will do.
      const pause = Math.min(nomadTarget(this.ctx).settings.pollInterval * 2 ** Math.min(attempt, 6), 60_000);
      await sleep(pause, undefined, { signal: this.opts.signal }).catch(() => undefined);
    }
  }

  private step(step: Step, requestId: string): void {
    this.ctx.hooks.step?.(step, requestId);
  }

  private async deleteOnce(id: string): Promise<boolean> {
    const { store, publisher } = this.ctx;
    const req = await store.requests.get(id);
    if (!req || req.state !== 'deleting') return true;
    const { nomad, settings } = nomadTarget(this.ctx, req);
    const wait = { timeoutMs: this.opts.deleteTimeoutMs, pollIntervalMs: settings.pollInterval, signal: this.opts.signal };
    const foreign = req.jobId ? await stopIfOurs(nomad, req.jobId, id) : null;
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
    const keptBy = foreign && req.mac ? await handMadeJobUsing(nomad, req.mac) : undefined;
    if (req.jobId && !foreign) await waitAllocationsStopped(nomad, req.jobId, wait);
    else if (req.jobId && req.allocId && !keptBy) await waitAllocationsStopped(nomad, req.jobId, { ...wait, allocId: req.allocId });
    await store.macs.releaseForRequest(id, keptBy ? { keptByJob: keptBy } : {});
    this.step('after_release', id);
    const macDetail = req.mac ? (keptBy ? `MAC ${req.mac} kept: the hand-made job ${keptBy} uses it (now external)` : `MAC ${req.mac} released`) : null;
    const detail = [skipped, macDetail].filter(Boolean).join('; ') || null;
    const deleted = await store.requests.transition(id, 'deleting', 'deleted', {}, { actor: SYSTEM, action: 'state:deleting->deleted', detail });
    if (!deleted) return true;
    await this.ctx.notifier.notify(deleted.requester, { kind: 'deleted', requestId: id, name: deleted.name });
    return true;
  }
}
