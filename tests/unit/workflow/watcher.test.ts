import { describe, expect, it } from 'vitest';
import type { AllocationInfo } from '../../../src/nomad/port.js';
import { currentAllocation, failureMessage } from '../../../src/workflow/watcher.js';
import { holdsMac } from '../../../src/workflow/nomad-jobs.js';

function alloc(id: string, createIndex: number, over: Partial<AllocationInfo> = {}): AllocationInfo {
  return { id, jobId: 'j', taskGroup: 'g', clientStatus: 'running', desiredStatus: 'run', createIndex, createTime: createIndex, nextAllocation: null, taskStates: {}, ...over };
}

describe('currentAllocation', () => {
  it('takes the newest when none is known yet, whatever the list order', () => {
    expect(currentAllocation([alloc('a', 1), alloc('b', 3), alloc('c', 2)], null)?.id).toBe('b');
    expect(currentAllocation([], null)).toBeUndefined();
  });

  it('keeps the known allocation while it runs', () => {
    expect(currentAllocation([alloc('b', 3), alloc('a', 1)], 'a')?.id).toBe('a');
  });

  it('follows NextAllocation chains after reschedules', () => {
    const allocs = [alloc('a', 1, { clientStatus: 'failed', nextAllocation: 'b' }), alloc('b', 2, { clientStatus: 'lost', nextAllocation: 'c' }), alloc('c', 3)];
    expect(currentAllocation(allocs, 'a')?.id).toBe('c');
  });

  it('moves to a newer allocation when the known one ended or vanished', () => {
    expect(currentAllocation([alloc('a', 1, { clientStatus: 'complete' }), alloc('b', 2)], 'a')?.id).toBe('b');
    expect(currentAllocation([alloc('b', 2)], 'gone')?.id).toBe('b');
  });
});

describe('failureMessage', () => {
  it('reports the informative event, not the trailing "Not Restarting"', () => {
    const message = failureMessage({
      state: 'dead',
      failed: true,
      events: [
        { type: 'Received', message: 'Task received by client', time: 1 },
        { type: 'Driver Failure', message: 'failed to start task: qemu: image not found', time: 2 },
        { type: 'Not Restarting', message: 'Error was unrecoverable', time: 3 },
      ],
    });
    expect(message).toBe('Driver Failure: failed to start task: qemu: image not found');
  });

  it('still says something when Nomad gave no message', () => {
    expect(failureMessage(undefined)).toMatch(/no message/);
  });
});

describe('holdsMac', () => {
  it('counts running and to-be-started allocations as holding the MAC', () => {
    expect(holdsMac(alloc('a', 1))).toBe(true);
    expect(holdsMac(alloc('a', 1, { clientStatus: 'pending' }))).toBe(true);
    expect(holdsMac(alloc('a', 1, { clientStatus: 'pending', desiredStatus: 'stop' }))).toBe(false);
    expect(holdsMac(alloc('a', 1, { clientStatus: 'complete', desiredStatus: 'stop' }))).toBe(false);
  });
});
