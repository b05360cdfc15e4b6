// The MAC pool: leases (mac PRIMARY KEY, canonical lower case) of kind request,
// reserved or external, and the candidate MACs of the configured ranges.
//
// The candidates live in a TEMP table of this connection, rebuilt from the config at
// open: the pool is configuration, the leases are state. Taking a MAC is then one
// statement — INSERT the lowest candidate that has no lease — and the mac PRIMARY KEY
// makes a double lease impossible even across processes.
import { countMacs, MAX_POOL_SIZE, normaliseMac, parseMacRange, poolRangeProblems, type MacRange } from '../domain/mac.js';
import { VmbotError } from '../domain/problem.js';
import { LIVE_STATES, type RequestState } from '../domain/states.js';
import type { Db, Sql, SqlValue } from './db.js';
import type { MacHolder, MacStore, MacUsage } from './types.js';

export { MAX_POOL_SIZE };

export interface PoolConfig {
  ranges: string[];
  reserved: Array<{ mac: string; note: string }>;
}

/**
 * Parses the configured ranges and refuses absurd ones before anything is written: the
 * same check (domain/mac.ts poolRangeProblems) as the config schema, for callers that
 * build a pool without it.
 */
export function parsePool(ranges: readonly string[]): { ranges: MacRange[]; size: number } {
  if (ranges.length === 0) throw new VmbotError('config_invalid', 'macPool.ranges is empty: add at least one range like 52:54:84:ba:49:00-52:54:84:ba:49:ff.', 'macPool.ranges');
  const problems = poolRangeProblems(ranges);
  if (problems.length > 0) {
    const first = problems[0]!;
    const field = first.index === undefined ? 'macPool.ranges' : `macPool.ranges[${first.index}]`;
    throw new VmbotError('config_invalid', `${field}: ${first.message}`, field);
  }
  const parsed = ranges.map((r, i) => parseMacRange(r.includes('-') ? r : `${r}-${r}`, `macPool.ranges[${i}]`));
  return { ranges: parsed, size: Number(countMacs(parsed)) };
}

export interface ParsedPool {
  ranges: MacRange[];
  size: number;
  reserved: Array<{ mac: string; note: string }>;
}

/** Checks config.macPool before any file is touched. */
export function parsePoolConfig(pool: PoolConfig): ParsedPool {
  const { ranges, size } = parsePool(pool.ranges);
  const reserved = pool.reserved.map((r, i) => ({ mac: normaliseMac(r.mac, `macPool.reserved[${i}].mac`), note: r.note }));
  return { ranges, size, reserved };
}

/** Builds this connection's candidate table and syncs the configured reserved MACs into the leases. */
export async function preparePool(db: Db, { ranges, reserved }: ParsedPool, now: () => Date): Promise<void> {
  await db.transaction(async (sql) => {
    await sql.exec('DROP TABLE IF EXISTS temp.mac_pool; CREATE TEMP TABLE mac_pool (mac TEXT PRIMARY KEY) WITHOUT ROWID;');
    // SQLite counts the range out itself (48-bit values fit in its 64-bit integers).
    for (const range of ranges) {
      await sql.run(
        `WITH RECURSIVE seq(n) AS (SELECT ? UNION ALL SELECT n + 1 FROM seq WHERE n < ?)
         INSERT OR IGNORE INTO temp.mac_pool (mac)
         SELECT printf('%02x:%02x:%02x:%02x:%02x:%02x', (n >> 40) & 255, (n >> 32) & 255, (n >> 24) & 255, (n >> 16) & 255, (n >> 8) & 255, n & 255) FROM seq`,
        [Number(range.first), Number(range.last)],
      );
    }
    const at = now().toISOString();
    for (const r of reserved) {
      // A configured reservation never evicts a MAC in use; an existing reservation gets the config's note.
      await sql.run(
        `INSERT INTO mac_leases (mac, kind, note, created_at) VALUES (?, 'reserved', ?, ?)
         ON CONFLICT (mac) DO UPDATE SET note = excluded.note WHERE mac_leases.kind = 'reserved'`,
        [r.mac, r.note, at],
      );
    }
  });
}

interface LeaseRecord {
  [column: string]: SqlValue;
  mac: string;
  kind: string;
  request_id: string | null;
  job_id: string | null;
  note: string;
  vm_name: string | null;
  state: string | null;
}

const LEASE_SELECT = `SELECT l.mac, l.kind, l.request_id, l.job_id, l.note, r.name AS vm_name, r.state
  FROM mac_leases l LEFT JOIN requests r ON r.id = l.request_id`;

function holderOf(r: LeaseRecord): MacHolder {
  if (r.kind === 'request') return { kind: 'request', requestId: r.request_id!, vmName: r.vm_name ?? '?', state: (r.state ?? 'deleted') as RequestState };
  if (r.kind === 'reserved') return { kind: 'reserved', note: r.note };
  return { kind: 'external', jobId: r.job_id ?? '' };
}

async function poolCounts(sql: Sql): Promise<{ total: number; free: number }> {
  const row = await sql.get<{ total: number; free: number }>(
    `SELECT count(*) AS total, count(*) FILTER (WHERE NOT EXISTS (SELECT 1 FROM mac_leases l WHERE l.mac = p.mac)) AS free FROM temp.mac_pool p`,
  );
  return { total: row?.total ?? 0, free: row?.free ?? 0 };
}

async function leaseCountsInPool(sql: Sql): Promise<{ request: number; reserved: number; external: number }> {
  const rows = await sql.all<{ kind: string; n: number }>(`SELECT l.kind, count(*) AS n FROM mac_leases l JOIN temp.mac_pool p ON p.mac = l.mac GROUP BY l.kind`);
  const count = (kind: string) => rows.find((r) => r.kind === kind)?.n ?? 0;
  return { request: count('request'), reserved: count('reserved'), external: count('external') };
}

export function createMacStore(db: Db, now: () => Date): MacStore {
  return {
    allocate: (requestId) =>
      db.transaction(async (sql) => {
        const held = await sql.get<{ mac: string }>(`SELECT mac FROM mac_leases WHERE request_id = ?`, [requestId]);
        if (held) return held.mac;
        const taken = await sql.all<{ mac: string }>(
          `INSERT INTO mac_leases (mac, kind, request_id, created_at)
           SELECT p.mac, 'request', ?, ? FROM temp.mac_pool p
           WHERE NOT EXISTS (SELECT 1 FROM mac_leases l WHERE l.mac = p.mac)
           ORDER BY p.mac LIMIT 1
           RETURNING mac`,
          [requestId, now().toISOString()],
        );
        const mac = taken[0]?.mac;
        if (mac !== undefined) return mac;
        const { total, free } = await poolCounts(sql);
        const byKind = await leaseCountsInPool(sql);
        throw new VmbotError(
          'pool_exhausted',
          `No free MAC address: ${total - free} of the pool's ${total} MACs are taken (${byKind.request} by VMs, ${byKind.reserved} reserved, ${byKind.external} by hand-made jobs). Extend macPool.ranges, or free MACs with \`vmbot pool release\`.`,
          'macPool.ranges',
        );
      }),

    peekNext: () =>
      db.read(async (sql) => {
        const row = await sql.get<{ mac: string }>(`SELECT p.mac FROM temp.mac_pool p WHERE NOT EXISTS (SELECT 1 FROM mac_leases l WHERE l.mac = p.mac) ORDER BY p.mac LIMIT 1`);
        return row?.mac ?? null;
      }),

    releaseForRequest: (requestId, opts = {}) =>
      db.transaction(async (sql) => {
        if (opts.keptByJob) {
          await sql.run(`UPDATE mac_leases SET kind = 'external', request_id = NULL, job_id = ? WHERE request_id = ? AND kind = 'request'`, [opts.keptByJob, requestId]);
        } else {
          await sql.run(`DELETE FROM mac_leases WHERE request_id = ? AND kind = 'request'`, [requestId]);
        }
      }),

    reserve: async (macText, note) => {
      const mac = normaliseMac(macText);
      return db.transaction(async (sql) => {
        const lease = await sql.get<LeaseRecord>(`${LEASE_SELECT} WHERE l.mac = ?`, [mac]);
        if (lease && lease.kind !== 'reserved') throw inUse(mac, holderOf(lease), 'reserve it');
        await sql.run(
          `INSERT INTO mac_leases (mac, kind, note, created_at) VALUES (?, 'reserved', ?, ?) ON CONFLICT (mac) DO UPDATE SET note = excluded.note`,
          [mac, note, now().toISOString()],
        );
      });
    },

    release: async (macText, opts = {}) => {
      const mac = normaliseMac(macText);
      return db.transaction(async (sql) => {
        const lease = await sql.get<LeaseRecord>(`${LEASE_SELECT} WHERE l.mac = ?`, [mac]);
        if (!lease) throw new VmbotError('not_found', `${mac} is not leased: it is already free (see \`vmbot pool\`).`, 'mac');
        const holder = holderOf(lease);
        if (holder.kind === 'request' && LIVE_STATES.includes(holder.state) && !opts.force) {
          throw inUse(mac, holder, 'release it; delete the VM first, or pass --force if its job is really gone');
        }
        await sql.run('DELETE FROM mac_leases WHERE mac = ?', [mac]);
      });
    },

    syncExternal: async (found) => {
      const seen = new Map<string, string>();
      for (const f of found) seen.set(normaliseMac(f.mac), f.jobId);
      return db.transaction(async (sql) => {
        const added: string[] = [];
        const freed: string[] = [];
        const conflicts: Array<{ mac: string; jobId: string; requestId: string }> = [];
        const at = now().toISOString();
        for (const [mac, jobId] of seen) {
          const lease = await sql.get<LeaseRecord>(`${LEASE_SELECT} WHERE l.mac = ?`, [mac]);
          if (!lease) {
            await sql.run(`INSERT INTO mac_leases (mac, kind, job_id, created_at) VALUES (?, 'external', ?, ?)`, [mac, jobId, at]);
            added.push(mac);
          } else if (lease.kind === 'request') {
            // A hand-made job uses a MAC vmbot gave to one of its VMs: an admin must look.
            conflicts.push({ mac, jobId, requestId: lease.request_id! });
          } else if (lease.kind === 'external' && lease.job_id !== jobId) {
            await sql.run(`UPDATE mac_leases SET job_id = ? WHERE mac = ?`, [jobId, mac]);
          }
          // kind 'reserved': already kept out of the pool; the admin's note stays.
        }
        const externals = await sql.all<{ mac: string }>(`SELECT mac FROM mac_leases WHERE kind = 'external' ORDER BY mac`);
        for (const { mac } of externals) {
          if (seen.has(mac)) continue;
          await sql.run(`DELETE FROM mac_leases WHERE mac = ? AND kind = 'external'`, [mac]);
          freed.push(mac);
        }
        return { added: added.sort(), freed, conflicts };
      });
    },

    usage: () =>
      db.read(async (sql): Promise<MacUsage> => {
        const { total, free } = await poolCounts(sql);
        const byKind = await leaseCountsInPool(sql);
        const leases = await sql.all<LeaseRecord>(`${LEASE_SELECT} ORDER BY l.mac`);
        return {
          total,
          used: byKind.request,
          reserved: byKind.reserved,
          external: byKind.external,
          free,
          holders: leases.map((l) => ({ mac: l.mac, holder: holderOf(l) })),
        };
      }),
  };
}

function inUse(mac: string, holder: MacHolder, cannot: string): VmbotError {
  const who =
    holder.kind === 'request' ? `VM "${holder.vmName}" (${holder.state}, request ${holder.requestId})` : holder.kind === 'external' ? `the hand-made Nomad job "${holder.jobId}"` : `a reservation`;
  return new VmbotError('mac_in_use', `${mac} is held by ${who}: cannot ${cannot}.`, 'mac');
}
