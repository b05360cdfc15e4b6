// The requests table: rows ↔ VmRequest, and the conditional state changes.
// Every state change is one `UPDATE … WHERE id = ? AND state IN (…)` and its audit row,
// in one transaction: if someone else moved the request first, nothing is written.
import { VmbotError } from '../domain/problem.js';
import type { VmRequest } from '../domain/request.js';
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
  state: string;
  mac: string | null;
  job_id: string | null;
  cluster: string | null;
  seed_token: string | null;
  eval_id: string | null;
  alloc_id: string | null;
  log_offset: number;
  progress: string | null;
  address: string | null;
  decision: string | null;
  failure: string | null;
  created_at: string;
  updated_at: string;
  approved_at: string | null;
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
    state: r.state as RequestState,
    mac: r.mac,
    jobId: r.job_id,
    cluster: r.cluster,
    seedToken: r.seed_token,
    evalId: r.eval_id,
    allocId: r.alloc_id,
    logOffset: r.log_offset,
    progress: r.progress as ProgressStep | null,
    address: parseJson<VmRequest['address']>(r.address),
    decision: parseJson<VmRequest['decision']>(r.decision),
    failure: parseJson<VmRequest['failure']>(r.failure),
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    approvedAt: r.approved_at,
  };
}

/** Column and encoding of each patchable field; the keys are exactly RequestPatch's. */
const PATCH_COLUMNS: { [K in keyof Required<RequestPatch>]: { column: string; encode: (v: RequestPatch[K]) => SqlValue } } = {
  mac: { column: 'mac', encode: (v) => v ?? null },
  jobId: { column: 'job_id', encode: (v) => v ?? null },
  cluster: { column: 'cluster', encode: (v) => v ?? null },
  seedToken: { column: 'seed_token', encode: (v) => v ?? null },
  evalId: { column: 'eval_id', encode: (v) => v ?? null },
  allocId: { column: 'alloc_id', encode: (v) => v ?? null },
  logOffset: { column: 'log_offset', encode: (v) => v ?? 0 },
  progress: { column: 'progress', encode: (v) => v ?? null },
  address: { column: 'address', encode: toJson },
  decision: { column: 'decision', encode: toJson },
  failure: { column: 'failure', encode: toJson },
  approvedAt: { column: 'approved_at', encode: (v) => v ?? null },
};

/** `SET` fragments for a patch; only keys present with a value are touched (null clears, undefined leaves alone). */
function patchAssignments(patch: RequestPatch): { sets: string[]; params: SqlValue[] } {
  const sets: string[] = [];
  const params: SqlValue[] = [];
  for (const key of Object.keys(patch) as Array<keyof RequestPatch>) {
    if (patch[key] === undefined) continue;
    const spec = PATCH_COLUMNS[key] as { column: string; encode: (v: unknown) => SqlValue } | undefined;
    if (!spec) throw new TypeError(`RequestPatch has no field ${String(key)}`);
    sets.push(`${spec.column} = ?`);
    params.push(spec.encode(patch[key]));
  }
  return { sets, params };
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
  const holdersOf = (sql: Sql, name: string) => sql.get<RequestRecord>(`SELECT * FROM requests WHERE name = ? AND state IN (${NAME_HOLDING_SQL})`, [name]);

  return {
    create: (input: NewRequest, audit) =>
      db.transaction(async (sql) => {
        // Checked inside the write transaction, so no other process can take the name in
        // between; the partial unique index is the backstop.
        const holder = await holdersOf(sql, input.name);
        if (holder) throw nameTaken(input.name, holder.state);
        const at = now().toISOString();
        for (let attempt = 0; ; attempt++) {
          const id = newRequestId();
          try {
            const rows = await sql.all<RequestRecord>(
              `INSERT INTO requests (id, name, distro, size, login, ssh_keys, reason, requester_platform, requester_user_id, requester_name, state, created_at, updated_at)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?) RETURNING *`,
              [id, input.name, input.distro, input.size, input.login, JSON.stringify(input.sshKeys), input.reason, input.requester.platform, input.requester.userId, input.requester.displayName ?? null, at, at],
            );
            const request = toRequest(rows[0]!);
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
      }),

    get: (id) => db.read(async (sql) => {
      const row = await sql.get<RequestRecord>('SELECT * FROM requests WHERE id = ?', [id]);
      return row && toRequest(row);
    }),

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
        const rows = await sql.all<RequestRecord>(`SELECT * FROM requests ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY created_at, rowid`, params);
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
      return db.transaction(async (sql) => {
        const at = now().toISOString();
        const { sets, params } = patchAssignments(patch);
        const rows = await sql.all<RequestRecord>(
          `UPDATE requests SET state = ?, ${[...sets, 'updated_at = ?'].join(', ')}
           WHERE id = ? AND state IN (${placeholders(fromStates.length)}) RETURNING *`,
          [to, ...params, at, id, ...fromStates],
        );
        const row = rows[0];
        if (!row) return undefined;
        await insertAudit(sql, { ...audit, requestId: row.id, vmName: row.name }, at);
        return toRequest(row);
      });
    },

    update: async (id, inStates, patch) => {
      assertStates(inStates);
      if (inStates.length === 0) return undefined;
      return db.transaction(async (sql) => {
        const { sets, params } = patchAssignments(patch);
        const rows = await sql.all<RequestRecord>(
          `UPDATE requests SET ${[...sets, 'updated_at = ?'].join(', ')} WHERE id = ? AND state IN (${placeholders(inStates.length)}) RETURNING *`,
          [...params, now().toISOString(), id, ...inStates],
        );
        return rows[0] && toRequest(rows[0]);
      });
    },
  };
}

function nameTaken(name: string, state: string): VmbotError {
  return new VmbotError('name_taken', `The name "${name}" is already used by a VM that is ${state}. Choose another name, or delete that VM first.`, 'name');
}

