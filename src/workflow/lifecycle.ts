// The background half of the workflow, composed from one module per job: provisioning
// (provisioning.ts, deciding the deploy with deploy-policy.ts), the boot watch until the
// address shows (boot-watch.ts), failure recording (failure-recorder.ts), deletion
// (deletion.ts) and liveness (liveness.ts). What stays here: the runner that gives each
// request one background task at a time, and shutdown.
import type { Problem } from '../domain/problem.js';
import type { VmRequest } from '../domain/request.js';
import { BootWatch } from './boot-watch.js';
import type { WorkflowContext } from './context.js';
import { Deletion } from './deletion.js';
import { FailureRecorder, type Failure } from './failure-recorder.js';
import { Limit } from '../domain/limit.js';
import { Liveness } from './liveness.js';
import { Provisioning } from './provisioning.js';
import type { Watcher } from './watcher.js';

export interface LifecycleOptions {
  /** How long deletion waits for the job's allocations to stop before trying again later. */
  deleteTimeoutMs: number;
  maxConcurrentReads: number;
  /** Provisionings (render, publish, submit) running at once. */
  maxConcurrentProvisions: number;
  /** How often running VMs are checked for a vanished job (0: only at start). */
  liveCheckMs: number;
}

export class Lifecycle {
  private readonly tasks = new Map<string, Promise<void>>();
  private readonly abort = new AbortController();
  private readonly boot: BootWatch;
  private readonly failures: FailureRecorder;
  private readonly provisioning: Provisioning;
  private readonly deletion: Deletion;
  private readonly liveness: Liveness;

  constructor(
    private readonly ctx: WorkflowContext,
    opts: LifecycleOptions,
  ) {
    const signal = this.abort.signal;
    const unwatch = (requestId: string): void => this.boot.unwatch(requestId);
    this.failures = new FailureRecorder(ctx, { unwatch, signal });
    this.boot = new BootWatch(ctx, { maxConcurrentReads: opts.maxConcurrentReads, failures: () => this.failures });
    this.provisioning = new Provisioning(ctx, {
      limit: new Limit(opts.maxConcurrentProvisions),
      failures: this.failures,
      watch: (req) => this.boot.watch(req),
      signal,
      deleteTimeoutMs: opts.deleteTimeoutMs,
    });
    this.deletion = new Deletion(ctx, { deleteTimeoutMs: opts.deleteTimeoutMs, signal, unwatch });
    this.liveness = new Liveness(ctx, { liveCheckMs: opts.liveCheckMs, signal, watch: (req) => this.boot.watch(req) });
  }

  /** The boot watch of every cluster, as one watcher. */
  get watcher(): Pick<Watcher, 'isWatching' | 'unwatch' | 'size'> {
    return this.boot;
  }

  get closed(): boolean {
    return this.abort.signal.aborted;
  }

  /** Aborted at shutdown (for work outside this class that must stop then, e.g. power.ts's stop retries). */
  get signal(): AbortSignal {
    return this.abort.signal;
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

  provision(id: string, opts: { fresh: boolean }): Promise<void> {
    return this.provisioning.provision(id, opts);
  }

  deleteVm(id: string): Promise<void> {
    return this.deletion.deleteVm(id);
  }

  watch(req: VmRequest): void {
    this.boot.watch(req);
  }

  recordFailure(id: string, failure: Failure | Problem): Promise<void> {
    return this.failures.record(id, failure);
  }

  fail(id: string, failure: Failure | Problem, opts: { memberTold?: boolean } = {}): Promise<void> {
    return this.failures.fail(id, failure, opts);
  }

  /** Checks running VMs now, then every liveCheckMs (started once, by resume()). */
  startLivenessChecks(): Promise<void> {
    return this.liveness.start();
  }

  /** After a restart: running VMs still inside their window for late host keys are read for them again. */
  resumeHostKeys(): Promise<void> {
    return this.boot.resumeHostKeys();
  }

  checkRunning(): Promise<void> {
    return this.liveness.checkRunning();
  }

  async close(): Promise<void> {
    this.abort.abort();
    this.liveness.stop();
    await this.boot.close();
    await Promise.allSettled([...this.tasks.values()]);
  }
}
