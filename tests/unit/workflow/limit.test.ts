import { describe, expect, it } from 'vitest';
import { Limit } from '../../../src/workflow/limit.js';

describe('Limit', () => {
  it('runs at most max tasks at once, in arrival order, and survives a failing task', async () => {
    const limit = new Limit(2);
    let active = 0;
    let peak = 0;
    const order: number[] = [];
    const gates = Array.from({ length: 5 }, () => {
      let open!: () => void;
      const promise = new Promise<void>((resolve) => (open = resolve));
      return { promise, open };
    });
    const runs = gates.map((gate, i) =>
      limit.run(async () => {
        active += 1;
        peak = Math.max(peak, active);
        order.push(i);
        await gate.promise;
        active -= 1;
        if (i === 1) throw new Error('task 1 failed');
        return i;
      }),
    );
    await Promise.resolve();
    expect(order).toEqual([0, 1]);
    gates[1]!.open();
    await expect(runs[1]).rejects.toThrow('task 1 failed');
    expect(order).toEqual([0, 1, 2]);
    for (const gate of gates) gate.open();
    expect(await Promise.all([runs[0], runs[2], runs[3], runs[4]])).toEqual([0, 2, 3, 4]);
    expect(peak).toBe(2);
    expect(order).toEqual([0, 1, 2, 3, 4]);
  });
});
