// Speed and memory of local mode and the web console (docs/local-mode.md, "Measured").
//   npx tsx bench/web-console.ts [--requests 300] [--clients 200]
// Real local mode: simulated cluster over HTTP, SQLite file in a temp dir, the console's
// HTTP API and server-sent events, measured from outside like a browser would.
import { mkdtemp, rm } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { parseConfig } from '../src/config/load.js';
import { silentLogger } from '../src/log.js';
import { startLocalMode } from '../src/local.js';

const { values } = parseArgs({ options: { requests: { type: 'string', default: '300' }, clients: { type: 'string', default: '200' }, boot: { type: 'string', default: '3s' } } });
const REQUESTS = Number(values.requests);
const CLIENTS = Number(values.clients);
const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAVetM1RAU3e4XdWWTX8NaglZCn+DtXS1g8BszVPJ+rt alice@laptop';
const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
const ms = (x: number) => `${x.toFixed(1)} ms`;
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;

const dir = await mkdtemp(join(tmpdir(), 'vmbot-bench-web-'));
const rssBefore = process.memoryUsage().rss;
let t = performance.now();
const config = parseConfig({ nomad: { adapter: 'sim', sim: { bootDelay: values.boot } }, web: { listen: '127.0.0.1:0' }, macPool: { ranges: ['52:54:84:ba:40:00-52:54:84:ba:4f:ff'] } });
const local = await startLocalMode({ config, logger: silentLogger, dataDir: join(dir, 'data') });
const startMs = performance.now() - t;
const rssStarted = process.memoryUsage().rss;

const post = async (path: string, as: 'member' | 'admin', body: unknown) => {
  const res = await fetch(new URL(path, local.url), { method: 'POST', headers: { 'Content-Type': 'application/json', 'X-Vmbot-As': as }, body: JSON.stringify(body) });
  return (await res.json()) as { ok: boolean; value?: { requestId: string }; problems?: unknown[] };
};
const form = (name: string) => ({ name, distro: 'debian-12', size: 'small', login: 'alice', sshKeys: KEY, reason: 'benchmark' });

// 1. POST /api/requests: validation + one SQLite insert + audit row + card, one after another.
const submitTimes: number[] = [];
t = performance.now();
for (let i = 0; i < REQUESTS; i++) {
  const s = performance.now();
  const r = await post('/api/requests', 'member', form(`bench-${i}`));
  if (!r.ok) throw new Error(`request ${i} refused: ${JSON.stringify(r.problems)}`);
  submitTimes.push(performance.now() - s);
}
const submitTotal = performance.now() - t;

// 2. Live updates: CLIENTS open event streams (admin view); time until every one has the next card.
let received = 0;
let allReceived: () => void = () => undefined;
const streams = await Promise.all(
  Array.from({ length: CLIENTS }, () => new Promise<{ destroy(): void }>((resolve, reject) => {
    const req = httpRequest(new URL('/api/events?as=admin', local.url), (res) => {
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        if (chunk.includes('event: card') && chunk.includes('fanout-probe')) {
          if (++received === CLIENTS) allReceived();
        }
      });
      resolve(req);
    });
    req.on('error', reject);
    req.end();
  })),
);
const rssStreams = process.memoryUsage().rss;
const fanout = new Promise<void>((r) => (allReceived = r));
t = performance.now();
await post('/api/requests', 'member', form('fanout-probe'));
await fanout;
const fanoutMs = performance.now() - t;
for (const s of streams) s.destroy();

// 3. /metrics with REQUESTS+1 requests in the store.
const metricTimes: number[] = [];
for (let i = 0; i < 20; i++) {
  const s = performance.now();
  const text = await (await fetch(new URL('/metrics', local.url))).text();
  if (!text.includes('vmbot_requests{state="pending"}')) throw new Error('no vmbot_requests in /metrics');
  metricTimes.push(performance.now() - s);
}

// 4. One VM through the whole workflow on the simulated cluster.
const first = await post('/api/requests', 'member', form('bench-vm'));
t = performance.now();
await post(`/api/requests/${first.value!.requestId}/approve`, 'admin', {});
let addressMs = NaN;
for (;;) {
  const cards = (await (await fetch(new URL('/api/cards?as=admin', local.url))).json()) as { value: Array<{ name: string; state: string; address?: unknown }> };
  const card = cards.value.find((c) => c.name === 'bench-vm');
  if (card?.address) {
    addressMs = performance.now() - t;
    break;
  }
  if (card?.state === 'failed') throw new Error('bench-vm failed');
  if (performance.now() - t > 60_000) throw new Error('no address within 60 s');
  await new Promise((r) => setTimeout(r, 25));
}
const rssEnd = process.memoryUsage().rss;
t = performance.now();
await local.close();
const closeMs = performance.now() - t;
await rm(dir, { recursive: true, force: true });

console.log(`node ${process.version}, ${REQUESTS} requests, ${CLIENTS} event-stream clients, sim boot delay ${values.boot}`);
console.log(`local mode start (sim + SQLite + migrations + console): ${ms(startMs)}; close: ${ms(closeMs)}`);
console.log(`POST /api/requests: ${(REQUESTS / (submitTotal / 1000)).toFixed(0)}/s sequential; p50 ${ms(pct(submitTimes, 50))}, p95 ${ms(pct(submitTimes, 95))}, max ${ms(Math.max(...submitTimes))}`);
console.log(`one card to ${CLIENTS} open pages (submit → last SSE frame): ${ms(fanoutMs)}`);
console.log(`GET /metrics with ${REQUESTS + 1} requests: p50 ${ms(pct(metricTimes, 50))}, max ${ms(Math.max(...metricTimes))}`);
console.log(`approve → address on the card (sim boot delay ${values.boot}): ${ms(addressMs)}`);
console.log(`RSS: before ${mb(rssBefore)}, started ${mb(rssStarted)}, with ${CLIENTS} streams ${mb(rssStreams)} (${((rssStreams - rssStarted) / CLIENTS / 1024).toFixed(1)} KiB/stream incl. client side), end ${mb(rssEnd)}`);
