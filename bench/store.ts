// Store figures: how long opening takes (migrations + pool table), and how many
// requests, MAC allocations and state transitions per second one handle sustains, plus
// allocations racing from several processes on one file. Run: npx tsx bench/store.ts
import { fork } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openStore, type Store } from '../src/store/index.js';
import type { MemberRef } from '../src/domain/request.js';
import { makeTempDir } from '../tests/support/tmp.js';

const actor: MemberRef = { platform: 'slack', userId: 'UBENCH' };
const POOL_256 = { ranges: ['52:54:84:ba:49:00-52:54:84:ba:49:ff'], reserved: [{ mac: '52:54:84:ba:49:01', note: 'distro-vm' }] };
const POOL_64K = { ranges: ['52:54:00:00:00:00-52:54:00:00:ff:ff'], reserved: [] };

async function timed<T>(label: string, ops: number, work: () => Promise<T>): Promise<T> {
  const start = process.hrtime.bigint();
  const value = await work();
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  const rate = ops > 1 ? `  (${Math.round((ops * 1000) / ms)} ops/s, ${(ms / ops).toFixed(2)} ms/op)` : '';
  console.log(`${label.padEnd(58)} ${ms.toFixed(0).padStart(6)} ms${rate}`);
  return value;
}

async function createRequests(store: Store, n: number, prefix: string): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    ids.push((await store.requests.create({ name: `${prefix}-${i}`, distro: 'debian-12', size: 'small', login: 'bench', sshKeys: ['ssh-ed25519 AAAA bench'], reason: 'bench', requester: actor }, { actor, action: 'request' })).id);
  }
  return ids;
}

const tmp = await makeTempDir('bench-store');
try {
  const path = join(tmp.dir, 'vmbot.sqlite');
  const store = await timed('open a new file (migrations, 256-MAC pool)', 1, () => openStore({ path, pool: POOL_256 }));
  await store.close();
  const reopened = await timed('reopen (nothing to migrate)', 1, () => openStore({ path, pool: POOL_256 }));

  const ids = await timed('create 1000 requests, one after another', 1000, () => createRequests(reopened, 1000, 'seq'));
  await timed('create 200 requests, all at once (one handle)', 200, () =>
    Promise.all(Array.from({ length: 200 }, (_, i) => reopened.requests.create({ name: `par-${i}`, distro: 'd', size: 's', login: 'l', sshKeys: [], reason: 'r', requester: actor }, { actor, action: 'request' }))),
  );
  await timed('allocate 255 MACs, one after another', 255, async () => {
    for (const id of ids.slice(0, 255)) await reopened.macs.allocate(id);
  });
  await timed('usage() with 256 leases', 1, () => reopened.macs.usage());
  await timed('transition 1000 requests pending -> approved', 1000, async () => {
    for (const id of ids) await reopened.requests.transition(id, 'pending', 'approved', { jobId: 'uservm-x' }, { actor, action: 'approve' });
  });
  await timed('1000 get() by id', 1000, async () => {
    for (const id of ids) await reopened.requests.get(id);
  });
  await timed('list() of 1200 requests', 1, () => reopened.requests.list());
  await timed('audit.list() newest 1000 of 2455 rows', 1, () => reopened.audit.list({ limit: 1000 }));
  await reopened.close();

  const rssBefore = process.memoryUsage().rss;
  const big = await timed('open with a 65536-MAC pool', 1, () => openStore({ path: join(tmp.dir, 'big.sqlite'), pool: POOL_64K }));
  console.log(`${'RSS growth after opening the 65536-MAC pool'.padEnd(58)} ${((process.memoryUsage().rss - rssBefore) / 2 ** 20).toFixed(1).padStart(6)} MiB`);
  const bigIds = await createRequests(big, 200, 'big');
  await timed('allocate 200 MACs from the 65536-MAC pool', 200, async () => {
    for (const id of bigIds) await big.macs.allocate(id);
  });
  await big.close();

  // Cross-process: the race test's worker, 4 processes x 50 allocations at once.
  const racePath = join(tmp.dir, 'race.sqlite');
  const pool = { ranges: ['52:54:00:12:34:00-52:54:00:12:34:c7'], reserved: [] };
  const setup = await openStore({ path: racePath, pool });
  const raceIds = await createRequests(setup, 200, 'race');
  await setup.close();
  const worker = fileURLToPath(new URL('../tests/integration/store/alloc-worker.ts', import.meta.url));
  const children = await Promise.all(
    [0, 1, 2, 3].map(
      (w) =>
        new Promise<{ go(): Promise<void> }>((resolve) => {
          const child = fork(worker, [], { execArgv: ['--import', 'tsx'] });
          child.once('message', () =>
            resolve({
              go: () =>
                new Promise<void>((done) => {
                  child.once('message', () => done());
                  child.send({ requestIds: raceIds.filter((_, i) => i % 4 === w) });
                }),
            }),
          );
          child.send({ path: racePath, pool });
        }),
    ),
  );
  await timed('200 allocations racing from 4 processes (50 each)', 200, () => Promise.all(children.map((c) => c.go())));
} finally {
  await tmp.cleanup();
}
