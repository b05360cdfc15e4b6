// Migration 4 rebuilds the requests table (its state CHECK must admit 'stopped'): a file
// at version 3 must come out with every row and column as it was, the rows that point at
// requests (MACs, cards, watcher progress) still pointing at them, and the new columns
// readable and writable through the store.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { REQUEST_STATES } from '../../../src/domain/states.js';
import type { Row } from '../../../src/store/db.js';
import { MIGRATIONS, migrate } from '../../../src/store/migrations.js';
import { alice, makeTestDb, newRequest, withRaw, type TestDb } from './helpers.js';

let t: TestDb;
beforeEach(async () => {
  t = await makeTestDb('migration4');
});
afterEach(() => t.cleanup());

/** The states a version-3 file can hold: every state but the new one. */
const V3_STATES = REQUEST_STATES.filter((s) => s !== 'stopped');
const UP_TO_3 = MIGRATIONS.filter((m) => m.version <= 3);

/** A row in `state` with every column of version 3 set to something recognisable. */
function v3Row(i: number, state: string): Row {
  const id = `row${String(i).padStart(7, '0')}`;
  return {
    id,
    name: `vm-${i}`,
    distro: 'debian-12',
    size: 'small',
    login: 'alice',
    ssh_keys: JSON.stringify([`ssh-ed25519 AAAA${i} alice`]),
    reason: `reason ${i}`,
    requester_platform: i % 2 ? 'slack' : 'discord',
    requester_user_id: `U${i}`,
    requester_name: i % 3 ? `Member ${i}` : null,
    state,
    mac: `52:54:00:00:00:${String(i).padStart(2, '0')}`,
    job_id: `vm-job-${i}`,
    seed_token: `token-${i}`,
    eval_id: `eval-${i}`,
    progress: state === 'provisioning' ? 'booting' : null,
    address: state === 'running' ? JSON.stringify({ ipv4: `10.0.0.${i}`, seenAt: '2026-01-01T00:00:00.000Z' }) : null,
    decision: JSON.stringify({ by: { platform: 'slack', userId: 'UADMIN' }, at: '2026-01-01T00:00:00.000Z', verb: 'approved' }),
    failure: state === 'failed' ? JSON.stringify({ code: 'boot_timeout', message: 'no address' }) : null,
    created_at: `2026-01-01T00:00:${String(i).padStart(2, '0')}.000Z`,
    updated_at: `2026-01-02T00:00:${String(i).padStart(2, '0')}.000Z`,
    approved_at: i % 2 ? '2026-01-01T01:00:00.000Z' : null,
    cluster: i % 2 ? 'east' : null,
  };
}

const insertRow = (row: Row) => {
  const columns = Object.keys(row);
  return [`INSERT INTO requests (${columns.join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`, columns.map((c) => row[c]!)] as const;
};

describe('migration 4 (the lifecycle columns)', () => {
  it('keeps every row of a version-3 file in every state, every column, and the rows that reference them', async () => {
    const rows = V3_STATES.map((state, i) => v3Row(i + 1, state));
    // A deleted and a denied row that reuse a live name: allowed before, must stay allowed.
    rows.push({ ...v3Row(40, 'deleted'), name: 'vm-4' }, { ...v3Row(41, 'denied'), name: 'vm-4' });
    await withRaw(t.path, async (db) => {
      expect(await migrate(db, UP_TO_3)).toEqual([1, 2, 3]);
      await db.transaction(async (sql) => {
        for (const row of rows) await sql.run(...insertRow(row));
        for (const row of rows.slice(0, 4)) {
          await sql.run(`INSERT INTO mac_leases (mac, kind, request_id, created_at) VALUES (?, 'request', ?, 'now')`, [row.mac!, row.id!]);
          await sql.run(`INSERT INTO cards (request_id, platform, ref) VALUES (?, 'slack', ?)`, [row.id!, `C1/${String(row.id)}`]);
          await sql.run(`INSERT INTO watch_progress (request_id, alloc_id, log_offset) VALUES (?, ?, ?)`, [row.id!, `alloc-${String(row.id)}`, 1234]);
        }
      });
    });

    await withRaw(t.path, async (db) => {
      expect(await migrate(db)).toEqual(MIGRATIONS.filter((m) => m.version > 3).map((m) => m.version));
      const after = await db.read((sql) => sql.all('SELECT * FROM requests ORDER BY id'));
      expect(after).toEqual(
        [...rows]
          .sort((a, b) => String(a.id).localeCompare(String(b.id)))
          .map((row) => ({
            ...row,
            stop_reason: null,
            rebuilds: 0,
            host_keys: null,
            lease_expires_at: null,
            lease_renewals: 0,
            lease_reminders_sent: '[]',
            lease_stopped_at: null,
            lease_renewal_requested_at: null,
            boot_cause: null,
            // Migration 5: no groups recorded for rows from before it.
            requester_groups: '[]',
          })),
      );
      await db.read(async (sql) => {
        expect(await sql.all('PRAGMA foreign_key_check')).toEqual([]);
        expect(await sql.all('SELECT request_id, alloc_id, log_offset FROM watch_progress ORDER BY request_id')).toEqual(
          rows.slice(0, 4).map((r) => ({ request_id: r.id, alloc_id: `alloc-${String(r.id)}`, log_offset: 1234 })).sort((a, b) => String(a.request_id).localeCompare(String(b.request_id))),
        );
        expect((await sql.all('SELECT request_id FROM cards')).length).toBe(4);
        expect((await sql.all(`SELECT mac FROM mac_leases WHERE kind = 'request'`)).length).toBe(4);
        // The indexes and the transition trigger are there again.
        const objects = await sql.all<{ name: string }>(`SELECT name FROM sqlite_master WHERE tbl_name = 'requests' AND type IN ('index', 'trigger') AND name NOT LIKE 'sqlite_%' ORDER BY name`);
        expect(objects.map((o) => o.name)).toEqual(['requests_legal_transition', 'requests_live_name', 'requests_requester', 'requests_state']);
      });
      await db.transaction(async (sql) => {
        // The trigger refuses an illegal move and allows the new ones.
        await expect(sql.run(`UPDATE requests SET state = 'running' WHERE id = 'row0000001'`)).rejects.toThrow(/illegal request state transition/);
        const running = rows.find((r) => r.state === 'running')!;
        await sql.run(`UPDATE requests SET state = 'stopped', stop_reason = 'member' WHERE id = ?`, [running.id!]);
        await sql.run(`UPDATE requests SET state = 'provisioning' WHERE id = ?`, [running.id!]);
        // The live-name index now covers stopped: a second live vm-N is refused.
        await expect(sql.run(...insertRow({ ...v3Row(50, 'pending'), name: String(running.name) }))).rejects.toThrow(/UNIQUE/);
        await expect(sql.run(`UPDATE requests SET stop_reason = 'bored' WHERE id = ?`, [running.id!])).rejects.toThrow(/CHECK/);
      });
    });

    // The store reads the migrated rows.
    const store = await t.open();
    const before = rows.find((r) => r.state === 'running')!;
    const running = await store.requests.get(before.id as string);
    expect(running).toMatchObject({ state: 'provisioning', stopReason: 'member', rebuilds: 0, hostKeys: null, lease: null, renewalRequestedAt: null, cluster: before.cluster, mac: before.mac, seedToken: before.seed_token });
  });

  it('stores and reads back the new fields through the store, and clears them with null', async () => {
    const store = await t.open();
    const created = await store.requests.create(newRequest('web'), { actor: alice, action: 'request' });
    expect(created).toMatchObject({ stopReason: null, rebuilds: 0, hostKeys: null, lease: null, renewalRequestedAt: null, bootCause: null });
    const hostKeys = [{ type: 'ED25519', bits: 256, fingerprint: 'SHA256:abc', comment: 'root@web' }];
    const lease = { expiresAt: '2026-04-01T00:00:00.000Z', remindersSent: [604_800_000, 259_200_000], renewals: 2, stoppedAt: '2026-04-01T00:00:01.000Z' };
    const patched = await store.requests.update(created.id, ['pending'], { stopReason: 'lease', rebuilds: 3, hostKeys, lease, renewalRequestedAt: '2026-03-30T00:00:00.000Z', bootCause: 'rebuild' });
    expect(patched).toMatchObject({ stopReason: 'lease', rebuilds: 3, hostKeys, lease, renewalRequestedAt: '2026-03-30T00:00:00.000Z', bootCause: 'rebuild' });
    expect(await store.requests.get(created.id)).toEqual(patched);
    // A lease without stoppedAt reads back without the key; an untouched field stays.
    const running = await store.requests.update(created.id, ['pending'], { lease: { expiresAt: lease.expiresAt, remindersSent: [], renewals: 0 } });
    expect(running?.lease).toEqual({ expiresAt: lease.expiresAt, remindersSent: [], renewals: 0 });
    expect(running?.rebuilds).toBe(3);
    const cleared = await store.requests.update(created.id, ['pending'], { stopReason: null, hostKeys: null, lease: null, renewalRequestedAt: null, bootCause: null });
    expect(cleared).toMatchObject({ stopReason: null, hostKeys: null, lease: null, renewalRequestedAt: null, bootCause: null, rebuilds: 3 });
  });
});
