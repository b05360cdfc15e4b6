// The one concurrency limiter: max holders, FIFO order, release on throw, stats.
import { describe, expect, it } from 'vitest';
import { Limit } from '../../../src/domain/limit.js';

function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

/** Lets every already-settled promise callback run. */
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('Limit', () => {
  it('runs at most max tasks at once, in arrival order, and survives a failing task', async () => {
    const limit = new Limit(2);
    let active = 0;
    let peak = 0;
    const order: number[] = [];
    const gates = Array.from({ length: 5 }, gate);
    const runs = gates.map((g, i) =>
      limit.run(async () => {
        active += 1;
        peak = Math.max(peak, active);
        order.push(i);
        await g.promise;
        active -= 1;
        if (i === 1) throw new Error('task 1 failed');
        return i;
      }),
    );
    await settle();
    expect(order).toEqual([0, 1]);
    expect(limit.active).toBe(2);
    expect(limit.queued).toBe(3);
    gates[1]!.open();
    await expect(runs[1]).rejects.toThrow('task 1 failed');
    await settle();
    expect(order).toEqual([0, 1, 2]);
    for (const g of gates) g.open();
    expect(await Promise.all([runs[0], runs[2], runs[3], runs[4]])).toEqual([0, 2, 3, 4]);
    expect(peak).toBe(2);
    expect(limit.maxActive).toBe(2);
    expect(order).toEqual([0, 1, 2, 3, 4]);
    expect(limit.active).toBe(0);
    expect(limit.queued).toBe(0);
  });

  it('hands slots out first come, first served when released out of order', async () => {
    const limit = new Limit(1);
    const first = await limit.acquire();
    const got: string[] = [];
    const waiting = ['a', 'b', 'c'].map((name) => limit.acquire().then((release) => (got.push(name), release)));
    first();
    const releaseA = await waiting[0]!;
    expect(got).toEqual(['a']);
    releaseA();
    const releaseB = await waiting[1]!;
    releaseB();
    (await waiting[2]!)();
    expect(got).toEqual(['a', 'b', 'c']);
    expect(limit.active).toBe(0);
  });

  it('releases the slot when the task rejects, and when it throws before returning a promise', async () => {
    const limit = new Limit(1);
    await expect(limit.run(() => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(limit.active).toBe(0);
    await expect(
      limit.run(() => {
        throw new Error('sync');
      }),
    ).rejects.toThrow('sync');
    expect(limit.active).toBe(0);
    expect(await limit.run(() => Promise.resolve('next'))).toBe('next');
  });

  it('ignores a second release (the slot is not freed twice)', async () => {
    const limit = new Limit(1);
    const release = await limit.acquire();
    release();
    release();
    const again = await limit.acquire();
    let thirdIn = false;
    const third = limit.acquire().then((r) => ((thirdIn = true), r));
    await settle();
    expect(thirdIn).toBe(false);
    again();
    (await third)();
  });

  it.each([0, -1, 1.5, Number.NaN])('refuses a limit of %s', (max) => {
    expect(() => new Limit(max)).toThrow(RangeError);
  });
});
