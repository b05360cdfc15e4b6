// The requests table: rows ↔ VmRequest, and the conditional state changes.
// Every state change is one `UPDATE … WHERE id = ? AND state IN (…)` and its audit row,
// in one transaction: if someone else moved the request first, nothing is written.
// The watcher's bookkeeping (allocation, console offset) lives in watch_progress, joined
// in on every read: it moves on every poll, the request row only when its card changes,
// and each committed change of the row is told to the onChange listeners.
import { VmbotError } from '../domain/problem.js';
import type { HostKeyFingerprint } from '../domain/hostkeys.js';
import type { LeaseRecord } from '../domain/lease.js';
import type { BootCause, StopReason, VmRequest } from '../domain/request.js';
import { canTransition, NAME_HOLDING_STATES, REQUEST_STATES, type ProgressStep, type RequestState } from '../domain/states.js';
import { insertAudit, memberFromColumns } from './audit.js';
import { sqliteCode, type Db, type Sql, type SqlValue } from './db.js';
import { newRequestId } from './ids.js';
import type { NewRequest, RequestPatch, RequestStore } from './types.js';

interface RequestRecord {
  [column: string]: SqlValue;
  id: string;
  name: string;
  distro: string;
  size: string;
  login: string;
  ssh_keys: string;
  reason: string;
  requester_platform: string;
  requester_user_id: string;
  requester_name: string | null;
  requester_groups: string;
  state: string;
  mac: string | null;
  job_id: string | null;
  cluster: string | null;
  seed_token: string | null;
  eval_id: string | null;
  /** Joined in from watch_progress (null when the watcher has recorded nothing). */
  alloc_id: string | null;
  log_offset: number | null;
  progress: string | null;
  address: string | null;
  decision: string | null;
  failure: string | null;
  created_at: string;
  updated_at: string;
  approved_at: string | null;
  stop_reason: string | null;
  rebuilds: number;
  host_keys: string | null;
  lease_expires_at: string | null;
  lease_renewals: number;
  lease_reminders_sent: string;
  lease_stopped_at: string | null;
  lease_renewal_requested_at: string | null;
  boot_cause: string | null;
}

const parseJson = <T>(text: string | null): T | null => (text === null ? null : (JSON.parse(text) as T));
const toJson = (value: unknown): string | null => (value === null || value === undefined ? null : JSON.stringify(value));

export function toRequest(r: RequestRecord): VmRequest {
  return {
    id: r.id,
    name: r.name,
    distro: r.distro,
    size: r.size,
    login: r.login,
    sshKeys: JSON.parse(r.ssh_keys) as string[],
    reason: r.reason,
    requester: memberFromColumns(r.requester_platform, r.requester_user_id, r.requester_name),
    requesterGroups: JSON.parse(r.requester_groups) as string[],
    state: r.state as RequestState,
    mac: r.mac,
    jobId: r.job_id,
    cluster: r.cluster,
    seedToken: r.seed_token,
    evalId: r.eval_id,
    allocId: r.alloc_id ?? null,
    logOffset: r.log_offset ?? 0,
    progress: r.progress as ProgressStep | null,
    address: parseJson<VmRequest['address']>(r.address),
    decision: parseJson<VmRequest['decision']>(r.decision),
    failure: parseJson<VmRequest['failure']>(r.failure),
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    approvedAt: r.approved_at,
    stopReason: r.stop_reason as StopReason | null,
    rebuilds: r.rebuilds,
    hostKeys: parseJson<HostKeyFingerprint[]>(r.host_keys),
    lease: leaseFromColumns(r),
    renewalRequestedAt: r.lease_renewal_requested_at,
    bootCause: r.boot_cause as BootCause | null,
  };
}

/** The lease columns as a LeaseRecord; null when there is no expiry (the VM never expires). */
function leaseFromColumns(r: RequestRecord): LeaseRecord | null {
  if (r.lease_expires_at === null) return null;
  const record: LeaseRecord = { expiresAt: r.lease_expires_at, remindersSent: JSON.parse(r.lease_reminders_sent) as number[], renewals: r.lease_renewals };
  return r.lease_stopped_at === null ? record : { ...record, stoppedAt: r.lease_stopped_at };
}

/** The fields kept in watch_progress rather than in the request row. */
const WATCH_FIELDS = ['allocId', 'logOffset'] as const;
type WatchField = (typeof WATCH_FIELDS)[number];
type RowField = Exclude<keyof RequestPatch, WatchField | 'lease'>;
const isWatchField = (key: string): key is WatchField => (WATCH_FIELDS as readonly string[]).includes(key);

/** Column and encoding of each patchable field of the request row; with WATCH_FIELDS, exactly RequestPatch's keys. */
const PATCH_COLUMNS: { [K in RowField]-?: { column: string; encode: (v: RequestPatch[K]) => SqlValue } } = {
  mac: { column: 'mac', encode: (v) => v ?? null },
  jobId: { column: 'job_id', encode: (v) => v ?? null },
  cluster: { column: 'cluster', encode: (v) => v ?? null },
  seedToken: { column: 'seed_token', encode: (v) => v ?? null },
  evalId: { column: 'eval_id', encode: (v) => v ?? null },
  progress: { column: 'progress', encode: (v) => v ?? null },
  address: { column: 'address', encode: toJson },
  decision: { column: 'decision', encode: toJson },
  failure: { column: 'failure', encode: toJson },
  approvedAt: { column: 'approved_at', encode: (v) => v ?? null },
  stopReason: { column: 'stop_reason', encode: (v) => v ?? null },
  rebuilds: { column: 'rebuilds', encode: (v) => v ?? 0 },
  hostKeys: { column: 'host_keys', encode: toJson },
  renewalRequestedAt: { column: 'lease_renewal_requested_at', encode: (v) => v ?? null },
  bootCause: { column: 'boot_cause', encode: (v) => v ?? null },
};

/** The lease is four columns: a patch's `lease` sets them all (null clears the lease). */
function leaseAssignments(lease: LeaseRecord | null): { sets: string[]; params: SqlValue[] } {
  return {
    sets: ['lease_expires_at = ?', 'lease_renewals = ?', 'lease_reminders_sent = ?', 'lease_stopped_at = ?'],
    params: lease === null ? [null, 0, '[]', null] : [lease.expiresAt, lease.renewals, JSON.stringify(lease.remindersSent), lease.stoppedAt ?? null],
  };
}

/** `SET` fragments of the request row for a patch; only keys present with a value are touched (null clears, undefined leaves alone). */
function patchAssignments(patch: RequestPatch): { sets: string[]; params: SqlValue[] } {
  const sets: string[] = [];
  const params: SqlValue[] = [];
  for (const key of Object.keys(patch) as Array<keyof RequestPatch>) {
    if (patch[key] === undefined || isWatchField(key)) continue;
    if (key === 'lease') {
      const lease = leaseAssignments(patch.lease!);
      sets.push(...lease.sets);
      params.push(...lease.params);
      continue;
    }
    const spec = PATCH_COLUMNS[key] as { column: string; encode: (v: unknown) => SqlValue } | undefined;
    if (!spec) throw new TypeError(`RequestPatch has no field ${String(key)}`);
    sets.push(`${spec.column} = ?`);
    params.push(spec.encode(patch[key]));
  }
  return { sets, params };
}

/**
 * Writes the patch's watch fields (if any) to watch_progress. Returns true when the
 * allocation changed: the card shows it, unlike the offset.
 */
async function writeWatchProgress(sql: Sql, id: string, patch: RequestPatch): Promise<boolean> {
  const { allocId, logOffset } = patch;
  if (allocId === undefined && logOffset === undefined) return false;
  const before = await sql.get<{ alloc_id: string | null }>('SELECT alloc_id FROM watch_progress WHERE request_id = ?', [id]);
  const updates = [...(allocId !== undefined ? ['alloc_id = excluded.alloc_id'] : []), ...(logOffset !== undefined ? ['log_offset = excluded.log_offset'] : [])];
  await sql.run(
    `INSERT INTO watch_progress (request_id, alloc_id, log_offset) VALUES (?, ?, ?)
     ON CONFLICT (request_id) DO UPDATE SET ${updates.join(', ')}`,
    [id, allocId ?? null, logOffset ?? 0],
  );
  return allocId !== undefined && (before?.alloc_id ?? null) !== allocId;
}

/** Every read of a request: the row with the watcher's bookkeeping joined in. */
const SELECT_REQUEST = `SELECT requests.*, watch.alloc_id AS alloc_id, watch.log_offset AS log_offset
  FROM requests LEFT JOIN watch_progress AS watch ON watch.request_id = requests.id`;

async function readRequest(sql: Sql, id: string): Promise<VmRequest | undefined> {
  const row = await sql.get<RequestRecord>(`${SELECT_REQUEST} WHERE requests.id = ?`, [id]);
  return row && toRequest(row);
}

const placeholders = (n: number): string => Array.from({ length: n }, () => '?').join(', ');

function assertStates(states: readonly RequestState[]): void {
  for (const s of states) if (!REQUEST_STATES.includes(s)) throw new TypeError(`unknown request state ${JSON.stringify(s)}`);
}

// Written out as literals (they are code constants, not input) so that SQLite can see
// the query matches the partial index requests_live_name; with bound parameters it
// cannot prove that and scans instead.
const NAME_HOLDING_SQL = NAME_HOLDING_STATES.map((s) => {
  if (!/^[a-z]+$/.test(s)) throw new Error(`unexpected state name ${s}`);
  return `'${s}'`;
}).join(', ');

export function createRequestStore(db: Db, now: () => Date): RequestStore {
  const holdersOf = (sql: Sql, name: string) => sql.get<RequestRecord>(`${SELECT_REQUEST} WHERE requests.name = ? AND requests.state IN (${NAME_HOLDING_SQL})`, [name]);
  const listeners = new Set<(request: VmRequest) => void>();
  /** After the commit: a listener sees only what is in the database. */
  const changed = (request: VmRequest | undefined): VmRequest | undefined => {
    if (!request) return request;
    for (const listener of listeners) {
      try {
        listener(request);
      } catch {
        // The write is committed; a listener that throws must not make it look failed.
      }
    }
    return request;
  };

  return {
    onChange: (listener) => {
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
      };
    },

    create: async (input: NewRequest, audit) => {
      const created = await db.transaction(async (sql) => {
        // Checked inside the write transaction, so no other process can take the name in
        // between; the partial unique index is the backstop.
        const holder = await holdersOf(sql, input.name);
        if (holder) throw nameTaken(input.name, holder.state);
        const at = now().toISOString();
        for (let attempt = 0; ; attempt++) {
          const id = newRequestId();
          try {
            const rows = await sql.all<{ id: string }>(
              `INSERT INTO requests (id, name, distro, size, login, ssh_keys, reason, requester_platform, requester_user_id, requester_name, requester_groups, state, created_at, updated_at)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?) RETURNING id`,
              [id, input.name, input.distro, input.size, input.login, JSON.stringify(input.sshKeys), input.reason, input.requester.platform, input.requester.userId, input.requester.displayName ?? null, JSON.stringify(input.requesterGroups ?? []), at, at],
            );
            const request = (await readRequest(sql, rows[0]!.id))!;
            await insertAudit(sql, { ...audit, requestId: request.id, vmName: request.name }, at);
            return request;
          } catch (err) {
            const message = (err as Error).message;
            if (sqliteCode(err) === 'SQLITE_CONSTRAINT' && message.includes('requests.name')) throw nameTaken(input.name, 'pending');
            // 50 random bits: a collision is rare; try another id a few times.
            if (sqliteCode(err) === 'SQLITE_CONSTRAINT' && message.includes('requests.id') && attempt < 5) continue;
            throw err;
          }
        }
      });
      changed(created);
      return created;
    },

    get: (id) => db.read((sql) => readRequest(sql, id)),

    findLiveByName: (name) => db.read(async (sql) => {
      const row = await holdersOf(sql, name);
      return row && toRequest(row);
    }),

    list: (filter = {}) =>
      db.read(async (sql) => {
        const where: string[] = [];
        const params: SqlValue[] = [];
        if (filter.requester) {
          where.push('requester_platform = ? AND requester_user_id = ?');
          params.push(filter.requester.platform, filter.requester.userId);
        }
        if (filter.states) {
          if (filter.states.length === 0) return [];
          assertStates(filter.states);
          where.push(`state IN (${placeholders(filter.states.length)})`);
          params.push(...filter.states);
        }
        const rows = await sql.all<RequestRecord>(`${SELECT_REQUEST} ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY requests.created_at, requests.rowid`, params);
        return rows.map(toRequest);
      }),

    transition: async (id, from, to, patch, audit) => {
      const fromStates: readonly RequestState[] = typeof from === 'string' ? [from] : from;
      assertStates([...fromStates, to]);
      const illegal = fromStates.filter((f) => !canTransition(f, to));
      if (illegal.length > 0 || fromStates.length === 0) {
        // A programming error in the caller, not a race: say so loudly.
        throw new VmbotError('internal', `Illegal request transition ${illegal.join('|') || '(no states)'} -> ${to} (see domain/states.ts TRANSITIONS).`);
      }
      const moved = await db.transaction(async (sql) => {
        const at = now().toISOString();
        const { sets, params } = patchAssignments(patch);
        const rows = await sql.all<{ id: string; name: string }>(
          `UPDATE requests SET state = ?, ${[...sets, 'updated_at = ?'].join(', ')}
           WHERE id = ? AND state IN (${placeholders(fromStates.length)}) RETURNING id, name`,
          [to, ...params, at, id, ...fromStates],
        );
        const row = rows[0];
        if (!row) return undefined;
        await writeWatchProgress(sql, id, patch);
        await insertAudit(sql, { ...audit, requestId: row.id, vmName: row.name }, at);
        return readRequest(sql, id);
      });
      return changed(moved);
    },

    update: async (id, inStates, patch) => {
      assertStates(inStates);
      if (inStates.length === 0) return undefined;
      const result = await db.transaction(async (sql) => {
        const { sets, params } = patchAssignments(patch);
        const inState = `id = ? AND state IN (${placeholders(inStates.length)})`;
        // Bookkeeping alone leaves the row (and its updated_at) as it is; the state is still checked.
        const found =
          sets.length > 0
            ? (await sql.all<{ id: string }>(`UPDATE requests SET ${[...sets, 'updated_at = ?'].join(', ')} WHERE ${inState} RETURNING id`, [...params, now().toISOString(), id, ...inStates]))[0]
            : await sql.get<{ id: string }>(`SELECT id FROM requests WHERE ${inState}`, [id, ...inStates]);
        if (!found) return undefined;
        const allocationChanged = await writeWatchProgress(sql, id, patch);
        const request = await readRequest(sql, id);
        return request && { request, shown: sets.length > 0 || allocationChanged };
      });
      if (result?.shown) changed(result.request);
      return result?.request;
    },
  };
}

function nameTaken(name: string, state: string): VmbotError {
  return new VmbotError('name_taken', `The name "${name}" is already used by a VM that is ${state}. Choose another name, or delete that VM first.`, 'name');
}

