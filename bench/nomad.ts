// Nomad-side figures: HashiCorp's HCL parser (wasm) cold and warm, the ci-info scanner's
// throughput, and N VMs submitted at once through the http adapter to the simulated
// cluster until every address is read from its console (memory included).
// Run: npx tsx bench/nomad.ts [N ...]   (default: 50 200)
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConsoleScanner } from '../src/domain/ciinfo.js';
import { createHttpNomad } from '../src/nomad/http/adapter.js';
import { parseJobHcl } from '../src/nomad/sim/jobspec.js';
import { startSimCluster } from '../src/nomad/sim/index.js';
import { vmJobHcl } from '../tests/integration/nomad/support.js';

const ROOT = join(fileURLToPath(import.meta.url), '../..');
const ms = (start: bigint) => Number(process.hrtime.bigint() - start) / 1e6;
const mb = (bytes: number) => (bytes / 1024 / 1024).toFixed(1);
const line = (label: string, value: string) => console.log(`${label.padEnd(60)} ${value}`);

// 1. The scanner (first: the Go runtime of the parser keeps timers running once loaded): a 10 MB console (fixture boots repeated) in 4 KiB reads.
const boot = readFileSync(join(ROOT, 'tests/fixtures/nomad/console/prefixed-crlf.log'));
const big = Buffer.concat(Array.from({ length: Math.ceil((10 * 1024 * 1024) / boot.length) }, () => boot));
let start = process.hrtime.bigint();
const scanner = new ConsoleScanner('52:54:84:ba:49:22');
for (let at = 0; at < big.length; at += 4096) scanner.push(big.subarray(at, at + 4096));
const scanMs = ms(start);
line(`ConsoleScanner over ${mb(big.length)} MB in 4 KiB chunks`, `${scanMs.toFixed(0)} ms (${(big.length / 1024 / 1024 / (scanMs / 1000)).toFixed(0)} MB/s), address ${scanner.address?.ipv4}`);

// 2. The HCL parser: the first call compiles the Go wasm module.
const hcl = vmJobHcl({ id: 'uservm-bench' });
start = process.hrtime.bigint();
await parseJobHcl(hcl, true);
line('parse one job, first call (wasm compile + parse)', `${ms(start).toFixed(0)} ms`);
start = process.hrtime.bigint();
for (let i = 0; i < 20; i++) await parseJobHcl(hcl, true);
line('parse one job, warm (mean of 20)', `${(ms(start) / 20).toFixed(1)} ms`);

// 3. N VMs at once, polled every 250 ms per VM like a watcher, until each address shows.
const sizes = process.argv.slice(2).map(Number).filter((n) => n > 0 && n <= 65_000);
for (const n of sizes.length ? sizes : [50, 200]) {
  const sim = await startSimCluster({ startDelayMs: 50, bootDelayMs: 200, chunkDelayMs: 20, subnet: '10.10.0.0/16' });
  const nomad = createHttpNomad({ address: sim.url, timeoutMs: 60_000 });
  global.gc?.();
  const heapBefore = process.memoryUsage().heapUsed;
  const macs = Array.from({ length: n }, (_, i) => `52:54:84:ba:${((i >> 8) + 0x4c).toString(16)}:${(i & 0xff).toString(16).padStart(2, '0')}`);
  start = process.hrtime.bigint();
  await Promise.all(macs.map((mac, i) => nomad.submitJob(vmJobHcl({ id: `uservm-${i}`, mac }))));
  const submitMs = ms(start);
  await Promise.all(
    macs.map(async (mac, i) => {
      const [alloc] = await nomad.listAllocations(`uservm-${i}`);
      const s = new ConsoleScanner(mac);
      let offset = 0;
      while (!s.address) {
        try {
          const chunk = await nomad.readLogs(alloc!.id, 'vm', offset);
          s.push(chunk.data);
          offset = chunk.nextOffset;
        } catch {
          // not started yet
        }
        if (!s.address) await new Promise((resolve) => setTimeout(resolve, 250));
      }
    }),
  );
  const allMs = ms(start);
  const heapAfter = process.memoryUsage().heapUsed;
  line(`${n} VMs: submit all (parse + register, in parallel)`, `${submitMs.toFixed(0)} ms (${(submitMs / n).toFixed(1)} ms/job)`);
  line(`${n} VMs: until every address is read (boot delay 200 ms)`, `${allMs.toFixed(0)} ms, ${sim.control.requestCount} requests`);
  line(`${n} VMs: heap growth (sim + adapter in one process)`, `${mb(heapAfter - heapBefore)} MB, rss ${mb(process.memoryUsage().rss)} MB`);
  await nomad.close();
  await sim.close();
}
