// The watcher's scheduler against the simulated cluster over HTTP: one scheduler for all
// VMs with a cap on concurrent Nomad calls, logs read incrementally (never the whole log
// again), and a restart continuing from the stored allocation and offset.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../src/log.js';
import { createHttpNomad } from '../../../src/nomad/http/adapter.js';
import type { NomadPort } from '../../../src/nomad/port.js';
import { startSimCluster, type SimCluster } from '../../../src/nomad/sim/index.js';
import { vmJobRenderer } from '../../support/vm-jobs.js';
import { RESUME_REWIND_BYTES, Watcher, type WatcherEvents } from '../../../src/workflow/watcher.js';

let sim: SimCluster;
let inner: NomadPort;
beforeEach(async () => {
  sim = await startSimCluster({ startDelayMs: 20, bootDelayMs: 50, chunkDelayMs: 10, subnet: '10.10.0.0/16' });
  inner = createHttpNomad({ address: sim.url, timeoutMs: 10_000, retries: 0 });
});
afterEach(async () => {
  await inner.close();
  await sim.close();
});

/** The real adapter, instrumented: how many calls are in flight, and every log read's offset. */
function instrumented(port: NomadPort) {
  const stats = { inFlight: 0, maxInFlight: 0, reads: [] as Array<{ allocId: string; offset: number }>, bytes: new Map<string, number>() };
  const track = async <T>(p: () => Promise<T>): Promise<T> => {
    stats.inFlight += 1;
    stats.maxInFlight = Math.max(stats.maxInFlight, stats.inFlight);
    try {
      return await p();
    } finally {
      stats.inFlight -= 1;
    }
  };
  const nomad: NomadPort = {
    ...port,
    listAllocations: (jobId) => track(() => port.listAllocations(jobId)),
    readLogs: async (allocId, task, offset) => {
      stats.reads.push({ allocId, offset });
      const chunk = await track(() => port.readLogs(allocId, task, offset));
      stats.bytes.set(allocId, (stats.bytes.get(allocId) ?? 0) + chunk.data.length);
      return chunk;
    },
  };
  return { nomad, stats };
}

async function submitVms(n: number): Promise<Array<{ jobId: string; mac: string }>> {
  const jobOf = await vmJobRenderer();
  const vms = Array.from({ length: n }, (_, i) => ({ jobId: `uservm-w${i}`, mac: `52:54:84:ba:4a:${i.toString(16).padStart(2, '0')}` }));
  for (const vm of vms) await inner.submitJob(jobOf(vm));
  return vms;
}

function recorder(): { events: WatcherEvents; addresses: Map<string, string>; offsets: Map<string, number>; all(n: number): Promise<void> } {
  const addresses = new Map<string, string>();
  const offsets = new Map<string, number>();
  let waiting: { n: number; resolve: () => void } | undefined;
  return {
    addresses,
    offsets,
    events: {
      onProgress: async (id, patch) => {
        if (patch.logOffset !== undefined) offsets.set(id, patch.logOffset);
      },
      onFailure: async (id, failure) => {
        throw new Error(`${id} failed: ${failure.code} ${failure.message}`);
      },
      onAddress: async (id, address) => {
        addresses.set(id, address.ipv4 ?? '');
        if (waiting && addresses.size >= waiting.n) waiting.resolve();
      },
    },
    all: (n) => (addresses.size >= n ? Promise.resolve() : new Promise<void>((resolve) => (waiting = { n, resolve }))),
  };
}

describe('the watcher', () => {
  it('watches 30 VMs with at most 4 Nomad calls at once, reading each log incrementally', async () => {
    const vms = await submitVms(30);
    const { nomad, stats } = instrumented(inner);
    const rec = recorder();
    const watcher = new Watcher({ nomad, logger: silentLogger, events: rec.events, pollIntervalMs: 10, ipTimeoutMs: 60_000, maxConcurrent: 4 });
    for (const vm of vms) watcher.watch({ requestId: vm.jobId, jobId: vm.jobId, mac: vm.mac, allocId: null, logOffset: 0, progress: null });
    await rec.all(30);
    await watcher.close();

    expect(stats.maxInFlight).toBeLessThanOrEqual(4);
    expect(stats.maxInFlight).toBeGreaterThan(1); // it did run polls side by side
    for (const vm of vms) expect(rec.addresses.get(vm.jobId)).toMatch(/^10\.10\.\d+\.\d+$/);
    // Offsets only move forward per allocation: once past the start, nothing is read twice.
    const byAlloc = new Map<string, number[]>();
    for (const r of stats.reads) byAlloc.set(r.allocId, [...(byAlloc.get(r.allocId) ?? []), r.offset]);
    expect(byAlloc.size).toBe(30);
    for (const [allocId, offsets] of byAlloc) {
      expect([...offsets].sort((a, b) => a - b)).toEqual(offsets);
      // Every byte fetched at most once: no more than the console holds.
      expect(stats.bytes.get(allocId)).toBeLessThanOrEqual(sim.control.consoleOf(allocId).length);
      expect(stats.bytes.get(allocId)).toBeGreaterThan(0);
    }
    expect(watcher.size).toBe(0);
  });

  it('a restarted watcher continues from the stored allocation and offset', async () => {
    // A long console: the address comes late, after plenty of output.
    const [vm] = await submitVms(1);
    const { nomad, stats } = instrumented(inner);
    const first = recorder();
    const before = new Watcher({ nomad, logger: silentLogger, events: first.events, pollIntervalMs: 10, ipTimeoutMs: 60_000 });
    before.watch({ requestId: vm!.jobId, jobId: vm!.jobId, mac: vm!.mac, allocId: null, logOffset: 0, progress: null });
    await first.all(1);
    await before.close();
    const [alloc] = await inner.listAllocations(vm!.jobId);
    const stored = first.offsets.get(vm!.jobId)!;
    expect(stored).toBeGreaterThan(0);

    // The next process: same allocation, stored offset; the console already holds the address.
    stats.reads.length = 0;
    const second = recorder();
    const after = new Watcher({ nomad, logger: silentLogger, events: second.events, pollIntervalMs: 10, ipTimeoutMs: 60_000 });
    after.watch({ requestId: vm!.jobId, jobId: vm!.jobId, mac: vm!.mac, allocId: alloc!.id, logOffset: stored, progress: 'booting' });
    await second.all(1);
    await after.close();
    expect(second.addresses.get(vm!.jobId)).toBe(first.addresses.get(vm!.jobId));
    expect(stats.reads[0]).toEqual({ allocId: alloc!.id, offset: Math.max(0, stored - RESUME_REWIND_BYTES) });
    const consoleSize = sim.control.consoleOf(alloc!.id).length;
    // It re-read at most the rewind window, not the whole log (when the log is longer than that).
    if (consoleSize > RESUME_REWIND_BYTES) expect(stats.reads[0]!.offset).toBeGreaterThan(0);
  });
});
