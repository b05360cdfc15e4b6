// Recording that provisioning failed: approved/provisioning → failed with the reason (admins
// see it and Retry on the card), the member a 'delayed' notice in member terms. The write
// is retried while the database refuses it, so no request is left in `provisioning` with
// nobody told.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Problem } from '../domain/problem.js';
import { memberFailureReason } from './cards.js';
import { SYSTEM, type WorkflowContext } from './context.js';
import { PROVISIONING_STATES } from './progress.js';

export type Failure = Problem | { code: string; message: string; consoleTail?: string[] };

export interface FailureRecorderDeps {
  /** Stops watching the request (a failed VM is not watched any more). */
  unwatch(requestId: string): void;
  signal: AbortSignal;
}

export class FailureRecorder {
  constructor(
    private readonly ctx: WorkflowContext,
    private readonly deps: FailureRecorderDeps,
  ) {}

  /**
   * fail(), and when the database refuses the write (SQLITE_FULL, an I/O error) the member
   * gets the 'delayed' notice at once, the error is logged, and the failure is written
   * again with a growing pause until it lands (the admins' card then shows it with Retry)
   * or vmbot shuts down (resume() picks the request up after the restart).
   */
  async record(id: string, failure: Failure): Promise<void> {
    let memberTold = false;
    for (let attempt = 0; !this.deps.signal.aborted; attempt++) {
      try {
        await this.fail(id, failure, { memberTold });
        return;
      } catch (err) {
        if (this.deps.signal.aborted) return;
        this.ctx.logger.error(
          { requestId: id, code: failure.code, err, attempt },
          'could not record that provisioning failed: the database refuses writes (check the disk holding database.path); trying again',
        );
        if (!memberTold) {
          memberTold = true;
          const req = await this.ctx.store.requests.get(id).catch(() => undefined);
          if (req && PROVISIONING_STATES.includes(req.state)) {
            await this.ctx.notifier.notify(req.requester, { kind: 'delayed', requestId: id, name: req.name, reason: memberFailureReason(failure.code) });
          }
        }
      }
      const pause = Math.min(1_000 * 2 ** Math.min(attempt, 5), 30_000);
      await sleep(pause, undefined, { signal: this.deps.signal }).catch(() => undefined);
    }
  }

  /** approved/provisioning → failed, with the reason; admins get it and Retry on the card, the member a 'delayed' notice in member terms. */
  async fail(id: string, failure: Failure, opts: { memberTold?: boolean } = {}): Promise<void> {
    this.deps.unwatch(id);
    const stored = { code: failure.code, message: failure.message, ...('consoleTail' in failure && failure.consoleTail ? { consoleTail: failure.consoleTail } : {}) };
    const req = await this.ctx.store.requests.transition(id, PROVISIONING_STATES, 'failed', { failure: stored }, {
      actor: SYSTEM,
      action: 'state:provisioning->failed',
      detail: `${failure.code}: ${failure.message}`,
    });
    if (!req) return;
    if (opts.memberTold) return;
    await this.ctx.notifier.notify(req.requester, {
      kind: 'delayed',
      requestId: id,
      name: req.name,
      // Member terms only: the admins' instructions (failure.message) stay on their card.
      reason: memberFailureReason(failure.code),
    });
  }
}
