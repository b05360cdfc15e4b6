// Watcher latency and cost (issue 3). The simulated cluster runs in a CHILD process so
// that this process's CPU time is the watcher's (plus the http adapter), not the sim's.
//
// 1. Latency: N VMs boot; an observer follows each console (Nomad's follow stream) with
//    its own ConsoleScanner and notes when the address line appears; the Watcher (real
//    scheduler, real http adapter, default concurrency cap 4) notes when it records it.
//    Latency = recorded - appeared, p50/p95 over the N VMs.
// 2. Cost: N VMs that never print an address are watched for a fixed window; CPU time of
//    this process per second, and HTTP requests per second to Nomad.
//
// Run: npx tsx bench/watcher-latency.ts [--interval MS] [N ...]   (default: 2000 ms; 10 50 100 200)
import { spawn, type ChildProcess } from 'node:child_process';
import { request } from 'node:http';
import { fileURLToPath } from 'node:url';
import { ConsoleScanner } from '../src/domain/ciinfo.js';
import { silentLogger } from '../src/log.js';
import { createHttpNomad } from '../src/nomad/http/adapter.js';
import { VM_TASK_NAME, type NomadPort } from '../src/nomad/port.js';
import { Watcher } from '../src/workflow/watcher.js';
import { vmJobRenderer } from '../tests/support/vm-jobs.js';

const SELF = fileURLToPath(import.meta.url);

function startSim(silent: boolean): Promise<{ url: string; child: ChildProcess }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', SELF, '--sim', ...(silent ? ['--silent'] : [])], { stdio: ['pipe', 'pipe', 'inherit'] });
    child.once('error', reject);
    child.stdout!.once('data', (d: Buffer) => resolve({ url: d.toString().trim(), child }));
  });
}

function stopSim(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.stdin!.end();
  });
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
const macOf = (i: number) => `52:54:84:${(0xb0 + (i >> 16)).toString(16)}:${((i >> 8) & 0xff).toString(16).padStart(2, '0')}:${(i & 0xff).toString(16).padStart(2, '0')}`;

async function submitVms(nomad: NomadPort, run: string, n: number): Promise<Array<{ jobId: string; mac: string }>> {
  const jobOf = await vmJobRenderer('bench');
  const vms = Array.from({ length: n }, (_, i) => ({ jobId: `bench-${run}-${i}`, mac: macOf(i) }));
  for (let i = 0; i < vms.length; i += 8) {
    await Promise.all(vms.slice(i, i + 8).map((vm) => nomad.submitJob(jobOf(vm))));
  }
  return vms;
}

/** Follows a console with Nomad's follow stream and resolves when the address appears. */
function observe(url: string, allocId: string, mac: string): { appeared: Promise<number>; stop(): void } {
  const scanner = new ConsoleScanner(mac);
  let stop = () => {};
  const appeared = new Promise<number>((resolve, reject) => {
    const req = request(`${url}/v1/client/fs/logs/${allocId}?task=${VM_TASK_NAME}&type=stdout&origin=start&offset=0&follow=true&plain=true`, (res) => {
      res.on('data', (d: Buffer) => {
        scanner.push(d);
        if (scanner.address) {
          resolve(performance.now());
          req.destroy();
        }
      });
    });
    req.on('error', (err) => (scanner.address ? undefined : reject(err)));
    req.end();
    stop = () => req.destroy();
  });
  return { appeared, stop };
}

async function waitAllocations(nomad: NomadPort, vms: Array<{ jobId: string }>): Promise<string[]> {
  const ids: string[] = [];
  for (const vm of vms) {
    for (;;) {
      const [alloc] = await nomad.listAllocations(vm.jobId);
      if (alloc) {
        ids.push(alloc.id);
        break;
      }
      await new Promise((r) => setTimeout(r, 10));
    }
  }
  return ids;
}

async function latencyRun(n: number, intervalMs: number): Promise<{ p50: number; p95: number; max: number }> {
  const sim = await startSim(false);
  const nomad = createHttpNomad({ address: sim.url, timeoutMs: 60_000, retries: 0 });
  const recorded = new Map<string, number>();
  let done: () => void = () => {};
  const all = new Promise<void>((r) => (done = r));
  const watcher = new Watcher({
    nomad,
    logger: silentLogger,
    pollIntervalMs: intervalMs,
    ipTimeoutMs: 600_000,
    events: {
      onProgress: async () => {},
      onFailure: async (id, f) => console.error(`  ${id} failed: ${f.code} ${f.message}`),
      onAddress: async (id) => {
        recorded.set(id, performance.now());
        if (recorded.size === n) done();
      },
    },
  });
  const vms = await submitVms(nomad, `lat${n}`, n);
  const allocs = await waitAllocations(nomad, vms);
  const observers = vms.map((vm, i) => observe(sim.url, allocs[i]!, vm.mac));
  for (const vm of vms) watcher.watch({ requestId: vm.jobId, jobId: vm.jobId, mac: vm.mac, allocId: null, logOffset: 0, progress: null });
  await all;
  const appeared = await Promise.all(observers.map((o) => o.appeared));
  const latencies = vms.map((vm, i) => recorded.get(vm.jobId)! - appeared[i]!).sort((a, b) => a - b);
  await watcher.close();
  await nomad.close();
  await stopSim(sim.child);
  return { p50: percentile(latencies, 50), p95: percentile(latencies, 95), max: latencies.at(-1)! };
}

async function costRun(n: number, intervalMs: number, windowMs: number): Promise<{ cpuMsPerSec: number; cpuMsPerPoll: number; requestsPerSec: number; rssMb: number }> {
  const sim = await startSim(true);
  const inner = createHttpNomad({ address: sim.url, timeoutMs: 60_000, retries: 0 });
  let requests = 0;
  // Count the watcher's calls to Nomad (each is one HTTP request).
  const nomad: NomadPort = {
    ...inner,
    listAllocations: (j) => (requests++, inner.listAllocations(j)),
    readLogs: (a, t, o) => (requests++, inner.readLogs(a, t, o)),
  };
  const vms = await submitVms(inner, `cost${n}`, n);
  await waitAllocations(inner, vms);
  const watcher = new Watcher({ nomad, logger: silentLogger, pollIntervalMs: intervalMs, ipTimeoutMs: 600_000, events: { onProgress: async () => {}, onFailure: async () => {}, onAddress: async () => {} } });
  for (const vm of vms) watcher.watch({ requestId: vm.jobId, jobId: vm.jobId, mac: vm.mac, allocId: null, logOffset: 0, progress: null });
  // Let the first round (allocation found, console read from 0) pass, then measure steady state.
  await new Promise((r) => setTimeout(r, intervalMs * 2));
  requests = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, windowMs));
  const cpu = process.cpuUsage(cpu0);
  const elapsed = performance.now() - t0;
  const rssMb = process.memoryUsage().rss / 1024 / 1024;
  await watcher.close();
  await inner.close();
  await stopSim(sim.child);
  const cpuMs = (cpu.user + cpu.system) / 1000;
  const polls = requests / 2;
  return { cpuMsPerSec: cpuMs / (elapsed / 1000), cpuMsPerPoll: polls ? cpuMs / polls : 0, requestsPerSec: requests / (elapsed / 1000), rssMb };
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const at = args.indexOf('--interval');
  const intervalMs = at >= 0 ? Number(args.splice(at, 2)[1]) : 2_000;
  const sizes = args.map(Number).filter((n) => n > 0 && n <= 4096);
  console.log(`watcher: poll interval ${intervalMs} ms, at most 4 polls at once; Node ${process.version}`);
  console.log('N     latency p50   p95      max      | CPU ms/s  CPU ms/poll  Nomad req/s  RSS MB');
  for (const n of sizes.length ? sizes : [10, 50, 100, 200]) {
    const lat = await latencyRun(n, intervalMs);
    const cost = await costRun(n, intervalMs, 10_000);
    console.log(
      `${String(n).padEnd(5)} ${lat.p50.toFixed(0).padStart(7)} ms ${lat.p95.toFixed(0).padStart(6)} ms ${lat.max.toFixed(0).padStart(6)} ms | ${cost.cpuMsPerSec.toFixed(1).padStart(8)} ${cost.cpuMsPerPoll.toFixed(2).padStart(12)} ${cost.requestsPerSec.toFixed(1).padStart(12)} ${cost.rssMb.toFixed(0).padStart(7)}`,
    );
  }
}

// ---- child mode: just the simulated cluster ------------------------------------------
// Dispatch last: the helpers above must be initialised before main() runs.
if (process.argv[2] === '--sim') {
  const { startSimCluster } = await import('../src/nomad/sim/index.js');
  const sim = await startSimCluster({ startDelayMs: 100, bootDelayMs: 1_000, chunkDelayMs: 50, subnet: '10.10.0.0/16', heartbeatMs: 60_000 });
  if (process.argv[3] === '--silent') sim.control.neverPrintAddress(true);
  process.stdout.write(`${sim.url}\n`);
  process.stdin.on('end', () => void sim.close().then(() => process.exit(0)));
  process.stdin.resume();
} else {
  await main();
}
