import { access } from 'node:fs/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { NAME_HOLDING_STATES, PROGRESS_STEPS, REQUEST_STATES, TRANSITIONS } from '../../../src/domain/states.js';
import { LATEST_SCHEMA_VERSION, MIGRATIONS, migrate } from '../../../src/store/migrations.js';
import { makeTestDb, withRaw, type TestDb } from './helpers.js';

let t: TestDb;
beforeEach(async () => {
  t = await makeTestDb('migrations');
});
afterEach(() => t.cleanup());

describe('opening a store', () => {
  it('creates the parent folders and the file, in WAL mode with foreign keys on', async () => {
    await expect(access(t.path)).rejects.toThrow();
    await t.open();
    await access(t.path);
    await withRaw(t.path, (db) =>
      db.read(async (sql) => {
        expect(await sql.get('PRAGMA journal_mode')).toEqual({ journal_mode: 'wal' });
        expect(await sql.get('PRAGMA foreign_keys')).toEqual({ foreign_keys: 1 });
        expect(await sql.get('PRAGMA user_version')).toEqual({ user_version: LATEST_SCHEMA_VERSION });
      }),
    );
  });

  it('runs migrations once: a second open (and a second migrate) applies nothing', async () => {
    const first = await withRaw(t.path, (db) => migrate(db));
    expect(first).toEqual(MIGRATIONS.map((m) => m.version));
    const again = await withRaw(t.path, (db) => migrate(db));
    expect(again).toEqual([]);
    const store = await t.open();
    await store.close();
    await t.open();
  });

  it('numbers the migrations 1, 2, 3… without a gap (a file at N skips every version up to N)', () => {
    expect(MIGRATIONS.map((m) => m.version)).toEqual(MIGRATIONS.map((_m, i) => i + 1));
    expect(LATEST_SCHEMA_VERSION).toBe(MIGRATIONS.length);
  });

  it('applies only the migrations a file lacks, in one go', async () => {
    const extra = [...MIGRATIONS, { version: LATEST_SCHEMA_VERSION + 1, description: 'test', sql: 'CREATE TABLE extra (x INTEGER);' }];
    await withRaw(t.path, (db) => migrate(db));
    expect(await withRaw(t.path, (db) => migrate(db, extra))).toEqual([LATEST_SCHEMA_VERSION + 1]);
    expect(await withRaw(t.path, (db) => migrate(db, extra))).toEqual([]);
  });

  it('leaves the file untouched when a migration fails', async () => {
    await withRaw(t.path, (db) => migrate(db));
    const broken = [...MIGRATIONS, { version: LATEST_SCHEMA_VERSION + 1, description: 'broken', sql: 'CREATE TABLE half (x INTEGER); SELECT nonsense FROM nowhere;' }];
    await expect(withRaw(t.path, (db) => migrate(db, broken))).rejects.toThrow(/nowhere/);
    await withRaw(t.path, (db) =>
      db.read(async (sql) => {
        expect(await sql.get('PRAGMA user_version')).toEqual({ user_version: LATEST_SCHEMA_VERSION });
        expect(await sql.get(`SELECT name FROM sqlite_master WHERE name = 'half'`)).toBeUndefined();
      }),
    );
  });

  it('refuses a database written by a newer vmbot, saying which versions and what to do', async () => {
    await t.open().then((s) => s.close());
    const newer = LATEST_SCHEMA_VERSION + 5;
    await withRaw(t.path, (db) => db.transaction((sql) => sql.exec(`PRAGMA user_version = ${newer}`)));
    const err = await t.open().catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'config_invalid', field: 'database.path' });
    expect((err as Error).message).toContain(`schema version ${newer}`);
    expect((err as Error).message).toContain(`versions 1 to ${LATEST_SCHEMA_VERSION}`);
    expect((err as Error).message).toMatch(/Upgrade vmbot/);
    // Nothing was changed by the refused open.
    await withRaw(t.path, (db) => db.read(async (sql) => expect(await sql.get('PRAGMA user_version')).toEqual({ user_version: newer })));
  });

  it('says which key to fix when the file cannot be opened', async () => {
    const { writeFile } = await import('node:fs/promises');
    // A plain file where the data folder should be.
    await writeFile(`${t.dir}/data`, 'not a folder');
    const err = await t.open().catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'config_invalid', field: 'database.path' });
    expect((err as Error).message).toContain(t.path);
  });

  it('refuses absurd MAC pools naming macPool.ranges, before creating the file', async () => {
    const err = await t.open({ pool: { ranges: ['52:54:00:00:00:00-52:54:00:01:00:00'], reserved: [] } }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'config_invalid', field: 'macPool.ranges' });
    expect((err as Error).message).toMatch(/65537 MACs.*at most 65536/);
    await expect(access(t.path)).rejects.toThrow();
    // Exactly 65536 is fine.
    const big = await t.open({ pool: { ranges: ['52:54:00:00:00:00-52:54:00:00:ff:ff'], reserved: [] } });
    expect((await big.macs.usage()).total).toBe(65536);
  });
});

describe('the schema agrees with domain/states.ts', () => {
  it('the CHECK constraints accept exactly REQUEST_STATES and PROGRESS_STEPS', async () => {
    await withRaw(t.path, async (db) => {
      await migrate(db);
      await db.transaction(async (sql) => {
        const insert = (id: string, state: string, progress: string | null) =>
          sql.run(
            `INSERT INTO requests (id, name, distro, size, login, ssh_keys, reason, requester_platform, requester_user_id, state, progress, created_at, updated_at)
             VALUES (?, ?, 'd', 's', 'l', '[]', 'r', 'slack', 'U', ?, ?, 'now', 'now')`,
            [id, `n-${id}`, state, progress],
          );
        for (const [i, state] of REQUEST_STATES.entries()) await insert(`state${String(i).padStart(5, '0')}`, state, null);
        for (const [i, step] of PROGRESS_STEPS.entries()) await insert(`step0${String(i).padStart(5, '0')}`, 'deleted', step);
        await expect(insert('bogusstate', 'archived', null)).rejects.toThrow(/CHECK/);
        await expect(insert('bogusstep0', 'pending', 'rebooting')).rejects.toThrow(/CHECK/);
      });
    });
  });

  it('the transition table equals TRANSITIONS, and the trigger refuses other moves', async () => {
    await withRaw(t.path, async (db) => {
      await migrate(db);
      const rows = await db.read((sql) => sql.all<{ from_state: string; to_state: string }>('SELECT from_state, to_state FROM state_transitions'));
      const expected = Object.entries(TRANSITIONS).flatMap(([from, tos]) => tos.map((to) => `${from}->${to}`));
      expect(rows.map((r) => `${r.from_state}->${r.to_state}`).sort()).toEqual(expected.sort());
      await db.transaction(async (sql) => {
        await sql.run(`INSERT INTO requests (id, name, distro, size, login, ssh_keys, reason, requester_platform, requester_user_id, state, created_at, updated_at)
                       VALUES ('aaaaaaaaaa', 'web', 'd', 's', 'l', '[]', 'r', 'slack', 'U', 'pending', 'now', 'now')`);
        await expect(sql.run(`UPDATE requests SET state = 'running' WHERE id = 'aaaaaaaaaa'`)).rejects.toThrow(/illegal request state transition/);
        await sql.run(`UPDATE requests SET state = 'approved' WHERE id = 'aaaaaaaaaa'`);
      });
    });
  });

  it('the unique name index covers exactly NAME_HOLDING_STATES', async () => {
    const index = await withRaw(t.path, async (db) => {
      await migrate(db);
      return db.read((sql) => sql.get<{ sql: string }>(`SELECT sql FROM sqlite_master WHERE name = 'requests_live_name'`));
    });
    const listed = [...(index?.sql ?? '').matchAll(/'([a-z]+)'/g)].map((m) => m[1]);
    expect(listed.sort()).toEqual([...NAME_HOLDING_STATES].sort());
  });
});
