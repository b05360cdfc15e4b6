// The one concurrency limiter (a counting semaphore): at most `max` holders at once, the
// rest wait in arrival order. Pure (no I/O), so the workflow and the adapters share it:
// provisionings talking to Nomad, the watcher's log reads, SSH channels on one connection.

export class Limit {
  private holders = 0;
  private peak = 0;
  private readonly waiters: Array<() => void> = [];

  constructor(readonly max: number) {
    if (!Number.isInteger(max) || max < 1) throw new RangeError(`a concurrency limit must be a positive integer, got ${max}`);
  }

  /** Resolves with a release function once a slot is free (FIFO). Releasing twice is a no-op. */
  async acquire(): Promise<() => void> {
    if (this.holders >= this.max) await new Promise<void>((resolve) => this.waiters.push(resolve));
    else this.holders += 1;
    this.peak = Math.max(this.peak, this.holders);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiters.shift();
      // The slot passes straight to the next waiter, so the count never dips and overshoots.
      if (next) next();
      else this.holders -= 1;
    };
  }

  /** Runs `fn` holding a slot; the slot is released however `fn` ends (also when it throws). */
  async run<T>(fn: () => Promise<T>): Promise<T> {
    const release = await this.acquire();
    try {
      return await fn();
    } finally {
      release();
    }
  }

  /** Slots held now. */
  get active(): number {
    return this.holders;
  }

  /** Callers waiting for a slot. */
  get queued(): number {
    return this.waiters.length;
  }

  /** The most slots ever held at once (benchmarks and tests read it). */
  get maxActive(): number {
    return this.peak;
  }
}
