// Polling with a deadline: tests wait for a condition, never for a fixed time.
import { setTimeout as sleep } from 'node:timers/promises';

/** Polls fn (every 10 ms) until it returns a truthy value; throws naming `what` at the deadline (default 10 s). */
export async function waitFor<T>(
  fn: () => Promise<T | undefined | false | null> | T | undefined | false | null,
  opts: { timeoutMs?: number; what?: string } = {},
): Promise<T> {
  const deadline = Date.now() + (opts.timeoutMs ?? 10_000);
  let last: unknown;
  for (;;) {
    try {
      const value = await fn();
      if (value) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${opts.what ?? 'a condition'}${last ? ` (last error: ${(last as Error).message})` : ''}`);
    }
    await sleep(10);
  }
}
