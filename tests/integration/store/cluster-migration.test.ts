// Migration 2 adds requests.cluster: a request written by a vmbot from before (a version-1
// file) reads back with cluster null (the default cluster), and the column then stores the
// cluster an approval records.
import { afterEach, beforeEach, expect, it } from 'vitest';
import { Db } from '../../../src/store/db.js';
import { MIGRATIONS, migrate } from '../../../src/store/migrations.js';
import { admin, makeTestDb, type TestDb } from './helpers.js';

let t: TestDb;
beforeEach(async () => {
  t = await makeTestDb('migration2');
});
afterEach(() => t.cleanup());

it('reads a version-1 row with cluster null, and stores the cluster of a later approval', async () => {
  const db = await Db.open(t.path);
  try {
    await migrate(db, MIGRATIONS.filter((m) => m.version <= 1));
    await db.transaction((sql) =>
      sql.exec(
        `INSERT INTO requests (id, name, distro, size, login, ssh_keys, reason, requester_platform, requester_user_id, state, job_id, created_at, updated_at)
         VALUES ('oldrow0001', 'old-vm', 'debian-12', 'small', 'alice', '[]', 'r', 'slack', 'U0ALICE', 'running', 'uservm-old-vm', '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z'),
                ('newrow0001', 'new-vm', 'debian-12', 'large', 'alice', '[]', 'r', 'slack', 'U0ALICE', 'pending', NULL, '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z')`,
      ),
    );
  } finally {
    await db.close();
  }
  const store = await t.open();
  expect(await store.requests.get('oldrow0001')).toMatchObject({ name: 'old-vm', jobId: 'uservm-old-vm', cluster: null, state: 'running' });
  const approved = await store.requests.transition('newrow0001', 'pending', 'approved', { cluster: 'rack2', jobId: 'rack2-new-vm' }, { actor: admin, action: 'approve' });
  expect(approved).toMatchObject({ cluster: 'rack2', jobId: 'rack2-new-vm' });
  expect((await store.requests.get('newrow0001'))?.cluster).toBe('rack2');
});
