// 200 MAC allocations racing from several connections of this process and from other
// processes, all on one SQLite file: every request gets a distinct MAC, reserved MACs
// are never handed out, and the 201st request finds the pool exhausted.
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Store } from '../../../src/store/index.js';
import { alice, makeTestDb, newRequest, type TestDb } from './helpers.js';

// 202 MACs (…:00 to …:c9) minus 2 reserved = exactly 200 free.
const POOL = {
  ranges: ['52:54:00:12:34:00-52:54:00:12:34:c9'],
  reserved: [
    { mac: '52:54:00:12:34:00', note: 'gateway' },
    { mac: '52:54:00:12:34:64', note: 'distro-vm' },
  ],
};
const WORKER = fileURLToPath(new URL('./alloc-worker.ts', import.meta.url));
const PROCESSES = 2;
const HANDLES = 2;
const TOTAL = 200;

type Outcome = { mac: string } | { error: string };

let t: TestDb;
const children: ChildProcess[] = [];
beforeEach(async () => {
  t = await makeTestDb('race');
});
afterEach(async () => {
  for (const c of children.splice(0)) if (c.exitCode === null) c.kill();
  await t.cleanup();
});

/** Starts a worker process and resolves once it has opened the store. */
function startWorker(requestIds: string[]): Promise<{ go(): Promise<Outcome[]> }> {
  const child = fork(WORKER, [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  children.push(child);
  const next = () =>
    new Promise<unknown>((resolve, reject) => {
      const onExit = (code: number | null) => reject(new Error(`allocation worker exited early (code ${code})`));
      child.once('exit', onExit);
      child.once('message', (msg) => {
        child.off('exit', onExit);
        if (typeof msg === 'object' && msg !== null && 'fatal' in msg) reject(new Error(String((msg as { fatal: string }).fatal)));
        else resolve(msg);
      });
    });
  const ready = next();
  child.send({ path: t.path, pool: POOL, requestIds });
  return ready.then(() => ({
    go: async () => {
      const done = next();
      child.send('go');
      return ((await done) as { results: Outcome[] }).results;
    },
  }));
}

describe('opening a new file from several processes at once', () => {
  it('migrates it exactly once and every opener succeeds', async () => {
    // No setup open first: the file does not exist when the racers start.
    const openers = await Promise.allSettled([startWorker([]), startWorker([]), t.open({ pool: POOL }), t.open({ pool: POOL })]);
    expect(openers.filter((o) => o.status === 'rejected')).toEqual([]);
    const store = await t.open({ pool: POOL });
    // One migration's worth of schema: the audit log is empty and the pool intact.
    expect(await store.audit.list()).toEqual([]);
    expect(await store.macs.usage()).toMatchObject({ total: 202, reserved: 2, free: 200 });
  });
});

describe('MAC allocation race', () => {
  it(`gives ${TOTAL} racing requests from ${HANDLES} connections and ${PROCESSES} processes ${TOTAL} distinct MACs, never a reserved one`, async () => {
    const setup = await t.open({ pool: POOL });
    const ids: string[] = [];
    for (let i = 0; i <= TOTAL; i++) ids.push((await setup.requests.create(newRequest(`vm-${i}`), { actor: alice, action: 'request' })).id);
    const extra = ids.pop()!;

    // Deal the requests round-robin to the racers, so every racer competes for the same low MACs.
    const racers = HANDLES + PROCESSES;
    const shares = Array.from({ length: racers }, (_, r) => ids.filter((_, i) => i % racers === r));
    const handles: Store[] = [];
    for (let h = 0; h < HANDLES; h++) handles.push(await t.open({ pool: POOL }));
    const workers = await Promise.all(shares.slice(HANDLES).map((share) => startWorker(share)));

    const outcomes = await Promise.all([
      ...handles.map(async (store, h): Promise<Outcome[]> => {
        const settled = await Promise.allSettled(shares[h]!.map((id) => store.macs.allocate(id)));
        return settled.map((s) => (s.status === 'fulfilled' ? { mac: s.value } : { error: String(s.reason) }));
      }),
      ...workers.map((w) => w.go()),
    ]);

    const flat = outcomes.flat();
    expect(flat.filter((o) => 'error' in o)).toEqual([]);
    const macs = flat.map((o) => (o as { mac: string }).mac);
    expect(macs).toHaveLength(TOTAL);
    expect(new Set(macs).size).toBe(TOTAL);
    expect(macs).not.toContain('52:54:00:12:34:00');
    expect(macs).not.toContain('52:54:00:12:34:64');

    // The store agrees with what the racers were told.
    const usage = await setup.macs.usage();
    expect(usage).toMatchObject({ total: 202, used: TOTAL, reserved: 2, external: 0, free: 0 });
    const leased = new Map(usage.holders.flatMap((h) => (h.holder.kind === 'request' ? [[h.holder.requestId, h.mac] as const] : [])));
    for (const [i, share] of shares.entries()) {
      for (const [j, id] of share.entries()) expect(leased.get(id)).toBe((outcomes[i]![j] as { mac: string }).mac);
    }

    // The 201st finds the pool exhausted and changes nothing.
    await expect(setup.macs.allocate(extra)).rejects.toMatchObject({ code: 'pool_exhausted' });
    expect(await setup.macs.usage()).toEqual(usage);
  });
});
