// Caps concurrent SSH channels on one connection. OpenSSH refuses more than MaxSessions
// (10 by default) channels per connection, so vmbot queues below that instead of failing.

export class Semaphore {
  private inUse = 0;
  private peak = 0;
  private readonly waiters: Array<() => void> = [];

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`semaphore capacity must be a positive integer, got ${capacity}`);
  }

  /** Resolves with a release function once a slot is free (FIFO). */
  async acquire(): Promise<() => void> {
    if (this.inUse >= this.capacity) {
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    } else {
      this.inUse++;
    }
    this.peak = Math.max(this.peak, this.inUse);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiters.shift();
      // Hand the slot straight to the next waiter so inUse never dips and overshoots.
      if (next) next();
      else this.inUse--;
    };
  }

  async run<T>(fn: () => Promise<T>): Promise<T> {
    const release = await this.acquire();
    try {
      return await fn();
    } finally {
      release();
    }
  }

  get active(): number {
    return this.inUse;
  }
  get queued(): number {
    return this.waiters.length;
  }
  /** The most slots ever held at once (benchmarks and tests read it). */
  get maxActive(): number {
    return this.peak;
  }
}
