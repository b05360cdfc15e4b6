// The request store tells its listeners about each committed change of what a card shows
// (the notifier redraws from that), and keeps the watcher's bookkeeping out of the row.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { VmRequest } from '../../../src/domain/request.js';
import { Db } from '../../../src/store/db.js';
import { MIGRATIONS, migrate } from '../../../src/store/migrations.js';
import type { Store } from '../../../src/store/types.js';
import { admin, alice, makeTestDb, newRequest, type TestDb } from './helpers.js';

let t: TestDb;
let store: Store;
let events: VmRequest[];
beforeEach(async () => {
  t = await makeTestDb('request-events');
  store = await t.open();
  events = [];
  store.requests.onChange((req) => events.push(req));
});
afterEach(() => t.cleanup());

async function provisioning(): Promise<VmRequest> {
  const r = await store.requests.create(newRequest('web'), { actor: alice, action: 'request' });
  await store.requests.transition(r.id, 'pending', 'approved', { jobId: 'uservm-web' }, { actor: admin, action: 'approve' });
  const p = await store.requests.transition(r.id, 'approved', 'provisioning', {}, { actor: admin, action: 'provision' });
  events.length = 0;
  return p!;
}

describe('request-changed events', () => {
  it('create and each transition emit one event with the committed row', async () => {
    const r = await store.requests.create(newRequest('web'), { actor: alice, action: 'request' });
    expect(events).toEqual([r]);
    const approved = await store.requests.transition(r.id, 'pending', 'approved', { jobId: 'uservm-web' }, { actor: admin, action: 'approve' });
    expect(events).toHaveLength(2);
    expect(events[1]).toEqual(approved);
    expect(events[1]).toEqual(await store.requests.get(r.id));
  });

  it('an update emits one event with the new row', async () => {
    const r = await provisioning();
    const updated = await store.requests.update(r.id, ['provisioning'], { mac: '52:54:84:ba:49:00', progress: 'mac' });
    expect(events).toHaveLength(1);
    expect(events[0]).toEqual(updated);
    expect(events[0]).toMatchObject({ id: r.id, mac: '52:54:84:ba:49:00', progress: 'mac' });
  });

  it('watcher bookkeeping (the console offset, the same allocation again) emits none and leaves updatedAt', async () => {
    const r = await provisioning();
    await store.requests.update(r.id, ['provisioning'], { allocId: 'alloc-1', logOffset: 0 });
    expect(events).toHaveLength(1); // a new allocation: the card shows it
    events.length = 0;
    for (const offset of [100, 250, 4096]) {
      const u = await store.requests.update(r.id, ['provisioning'], { allocId: 'alloc-1', logOffset: offset });
      expect(u).toMatchObject({ allocId: 'alloc-1', logOffset: offset });
    }
    expect(events).toEqual([]);
    const now = await store.requests.get(r.id);
    expect(now).toMatchObject({ allocId: 'alloc-1', logOffset: 4096, updatedAt: r.updatedAt });
  });

  it('emits nothing when nothing was written (stale state), and stops after unsubscribing', async () => {
    const r = await provisioning();
    expect(await store.requests.update(r.id, ['running'], { progress: 'booting' })).toBeUndefined();
    expect(await store.requests.update(r.id, ['running'], { logOffset: 10 })).toBeUndefined();
    expect(await store.requests.transition(r.id, 'pending', 'denied', {}, { actor: admin, action: 'deny' })).toBeUndefined();
    expect(events).toEqual([]);
    expect((await store.requests.get(r.id))?.logOffset).toBe(0);

    const seen: string[] = [];
    const stop = store.requests.onChange((req) => seen.push(req.progress ?? ''));
    await store.requests.update(r.id, ['provisioning'], { progress: 'submitted' });
    stop();
    await store.requests.update(r.id, ['provisioning'], { progress: 'booting' });
    expect(seen).toEqual(['submitted']);
  });

  it('a listener that throws does not turn a committed write into an error', async () => {
    store.requests.onChange(() => {
      throw new Error('listener broke');
    });
    const r = await store.requests.create(newRequest('web'), { actor: alice, action: 'request' });
    expect(await store.requests.get(r.id)).toEqual(r);
    expect(events).toEqual([r]);
  });
});

describe('migration 3: watch_progress', () => {
  it('moves the allocation and offset of existing requests out of the row, and keeps them readable', async () => {
    const path = `${t.dir}/old.sqlite`;
    const db = await Db.open(path);
    try {
      await migrate(db, MIGRATIONS.filter((m) => m.version < 3));
      await db.transaction(async (sql) => {
        await sql.run(
          `INSERT INTO requests (id, name, distro, size, login, ssh_keys, reason, requester_platform, requester_user_id, state, alloc_id, log_offset, created_at, updated_at)
           VALUES ('watched001', 'old-vm', 'd', 's', 'l', '[]', 'r', 'slack', 'U', 'provisioning', 'alloc-old', 777, 'then', 'then'),
                  ('fresh00001', 'new-vm', 'd', 's', 'l', '[]', 'r', 'slack', 'U', 'pending', NULL, 0, 'then', 'then')`,
        );
      });
      expect(await migrate(db, MIGRATIONS.filter((m) => m.version <= 3))).toEqual([3]);
      await db.read(async (sql) => {
        expect(await sql.all('SELECT * FROM watch_progress')).toEqual([{ request_id: 'watched001', alloc_id: 'alloc-old', log_offset: 777 }]);
        const columns = (await sql.all<{ name: string }>('PRAGMA table_info(requests)')).map((c) => c.name);
        expect(columns).not.toContain('log_offset');
        expect(columns).not.toContain('alloc_id');
      });
    } finally {
      await db.close();
    }
    const reopened = await t.open({ path });
    expect(await reopened.requests.get('watched001')).toMatchObject({ allocId: 'alloc-old', logOffset: 777, state: 'provisioning' });
    expect(await reopened.requests.get('fresh00001')).toMatchObject({ allocId: null, logOffset: 0 });
  });
});
