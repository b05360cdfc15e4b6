import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Db } from '../../../src/store/db.js';
import type { Store } from '../../../src/store/index.js';
import { admin, alice, makeTestDb, newRequest, type TestDb } from './helpers.js';

let t: TestDb;
let store: Store;
beforeEach(async () => {
  t = await makeTestDb('audit');
  store = await t.open();
});
afterEach(() => t.cleanup());

describe('audit log', () => {
  it('appends rows with who, what, when, why and lists them oldest first', async () => {
    let clock = new Date('2026-01-01T00:00:00.000Z');
    const s = await t.open({ now: () => clock });
    await s.audit.append({ actor: admin, action: 'approve_refused', requestId: 'abcdefghij', vmName: 'web', detail: 'not an admin' });
    clock = new Date('2026-01-01T00:00:01.000Z');
    await s.audit.append({ actor: { platform: 'cli', userId: 'system' }, action: 'pool_sync' });
    const rows = await s.audit.list();
    expect(rows).toEqual([
      { id: 1, at: '2026-01-01T00:00:00.000Z', actor: admin, action: 'approve_refused', requestId: 'abcdefghij', vmName: 'web', detail: 'not an admin' },
      { id: 2, at: '2026-01-01T00:00:01.000Z', actor: { platform: 'cli', userId: 'system' }, action: 'pool_sync', requestId: null, vmName: null, detail: null },
    ]);
  });

  it('filters by request and VM name, and limit keeps the newest rows', async () => {
    const a = await store.requests.create(newRequest('web'), { actor: alice, action: 'request' });
    await store.requests.transition(a.id, 'pending', 'cancelled', {}, { actor: alice, action: 'cancel' });
    const b = await store.requests.create(newRequest('web'), { actor: alice, action: 'request' });
    await store.requests.create(newRequest('db'), { actor: alice, action: 'request' });
    for (let i = 0; i < 5; i++) await store.audit.append({ actor: admin, action: `note-${i}`, requestId: b.id, vmName: 'web' });
    expect((await store.audit.list({ requestId: a.id })).map((r) => r.action)).toEqual(['request', 'cancel']);
    // A name reused by a second request: the VM-name filter shows both lives.
    expect((await store.audit.list({ vmName: 'web' })).map((r) => r.requestId)).toEqual([a.id, a.id, b.id, b.id, b.id, b.id, b.id, b.id]);
    expect((await store.audit.list({ vmName: 'web', limit: 3 })).map((r) => r.action)).toEqual(['note-2', 'note-3', 'note-4']);
    expect(await store.audit.list({ vmName: 'nope' })).toEqual([]);
    expect(await store.audit.list({ limit: 100 })).toHaveLength(9);
  });

  it('cannot be updated or deleted, even with raw SQL', async () => {
    await store.audit.append({ actor: admin, action: 'approve', detail: 'ok' });
    const raw = await Db.open(t.path);
    try {
      await expect(raw.transaction((sql) => sql.run(`UPDATE audit SET detail = 'forged'`))).rejects.toThrow(/append-only/);
      await expect(raw.transaction((sql) => sql.run('DELETE FROM audit'))).rejects.toThrow(/append-only/);
    } finally {
      await raw.close();
    }
    expect((await store.audit.list()).map((r) => r.detail)).toEqual(['ok']);
  });
});
