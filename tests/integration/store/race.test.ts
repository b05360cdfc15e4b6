// Several connections of this process and several other processes on one SQLite file:
// opening a new file together migrates it once; 200 racing MAC allocations get 200
// distinct MACs, never a reserved one; the 201st finds the pool exhausted.
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
function startWorker(): Promise<{ allocate(requestIds: string[]): Promise<Outcome[]> }> {
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
  child.send({ path: t.path, pool: POOL });
  return ready.then(() => ({
    allocate: async (requestIds) => {
      const done = next();
      child.send({ requestIds });
      return ((await done) as { results: Outcome[] }).results;
    },
  }));
}

describe('several processes on one SQLite file', () => {
  it(`open a new file together (migrated once), then ${TOTAL} racing allocations from ${HANDLES} connections and ${PROCESSES} processes get ${TOTAL} distinct MACs, never a reserved one`, async () => {
    // Nobody has created the file yet: every racer's open also races to migrate it.
    const opened = await Promise.all([...Array.from({ length: PROCESSES }, () => startWorker()), ...Array.from({ length: HANDLES + 1 }, () => t.open({ pool: POOL }))]);
    const workers = opened.slice(0, PROCESSES) as Array<Awaited<ReturnType<typeof startWorker>>>;
    const [setup, ...handles] = opened.slice(PROCESSES) as Store[];
    // One migration's worth of schema and config sync: the audit log is empty, the pool intact.
    expect(await setup!.audit.list()).toEqual([]);
    expect(await setup!.macs.usage()).toMatchObject({ total: 202, used: 0, reserved: 2, external: 0, free: 200 });

    const ids: string[] = [];
    for (let i = 0; i <= TOTAL; i++) ids.push((await setup!.requests.create(newRequest(`vm-${i}`), { actor: alice, action: 'request' })).id);
    const extra = ids.pop()!;

    // Deal the requests round-robin to the racers, so every racer competes for the same low MACs.
    const racers = HANDLES + PROCESSES;
    const shares = Array.from({ length: racers }, (_, r) => ids.filter((_, i) => i % racers === r));
    const outcomes = await Promise.all([
      ...handles.map(async (store, h): Promise<Outcome[]> => {
        const settled = await Promise.allSettled(shares[h]!.map((id) => store.macs.allocate(id)));
        return settled.map((s) => (s.status === 'fulfilled' ? { mac: s.value } : { error: String(s.reason) }));
      }),
      ...workers.map((w, i) => w.allocate(shares[HANDLES + i]!)),
    ]);

    const flat = outcomes.flat();
    expect(flat.filter((o) => 'error' in o)).toEqual([]);
    const macs = flat.map((o) => (o as { mac: string }).mac);
    expect(macs).toHaveLength(TOTAL);
    expect(new Set(macs).size).toBe(TOTAL);
    expect(macs).not.toContain('52:54:00:12:34:00');
    expect(macs).not.toContain('52:54:00:12:34:64');

    // The store agrees with what the racers were told.
    const usage = await setup!.macs.usage();
    expect(usage).toMatchObject({ total: 202, used: TOTAL, reserved: 2, external: 0, free: 0 });
    const leased = new Map(usage.holders.flatMap((h) => (h.holder.kind === 'request' ? [[h.holder.requestId, h.mac] as const] : [])));
    for (const [i, share] of shares.entries()) {
      for (const [j, id] of share.entries()) expect(leased.get(id)).toBe((outcomes[i]![j] as { mac: string }).mac);
    }

    // The 201st finds the pool exhausted and changes nothing.
    await expect(setup!.macs.allocate(extra)).rejects.toMatchObject({ code: 'pool_exhausted' });
    expect(await setup!.macs.usage()).toEqual(usage);
  });
});
