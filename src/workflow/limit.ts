// A counting semaphore: at most `max` holders at once, the rest wait in arrival order.
// Used to bound how many provisionings talk to Nomad at the same time (100 approvals in
// a minute must not become 100 simultaneous job submissions).
export class Limit {
  private active = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(private readonly max: number) {}

  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.active >= this.max) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.active += 1;
    try {
      return await fn();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.active -= 1;
    }
  }
}
