// The append-only audit log: rows ↔ AuditRow. The table's triggers refuse UPDATE and
// DELETE, so nothing here (or anywhere) can rewrite history.
import type { MemberRef, Platform } from '../domain/request.js';
import type { Db, Sql, SqlValue } from './db.js';
import type { AuditEntry, AuditRow, AuditStore } from './types.js';

interface AuditRecord {
  [column: string]: SqlValue;
  id: number;
  at: string;
  actor_platform: string;
  actor_user_id: string;
  actor_name: string | null;
  action: string;
  request_id: string | null;
  vm_name: string | null;
  detail: string | null;
}

export function memberFromColumns(platform: string, userId: string, name: string | null): MemberRef {
  const member: MemberRef = { platform: platform as Platform, userId };
  if (name !== null) member.displayName = name;
  return member;
}

function toAuditRow(r: AuditRecord): AuditRow {
  return {
    id: r.id,
    at: r.at,
    actor: memberFromColumns(r.actor_platform, r.actor_user_id, r.actor_name),
    action: r.action,
    requestId: r.request_id,
    vmName: r.vm_name,
    detail: r.detail,
  };
}

/** Appends inside the caller's transaction, so a change and its audit row commit together. */
export async function insertAudit(sql: Sql, entry: AuditEntry, at: string): Promise<void> {
  await sql.run(
    'INSERT INTO audit (at, actor_platform, actor_user_id, actor_name, action, request_id, vm_name, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    [at, entry.actor.platform, entry.actor.userId, entry.actor.displayName ?? null, entry.action, entry.requestId ?? null, entry.vmName ?? null, entry.detail ?? null],
  );
}

export const DEFAULT_AUDIT_LIMIT = 1000;

export function createAuditStore(db: Db, now: () => Date): AuditStore {
  return {
    append: (entry) => db.transaction((sql) => insertAudit(sql, entry, now().toISOString())),

    // The newest `limit` rows matching the filter, returned oldest first (reading order).
    list: (filter = {}) =>
      db.read(async (sql) => {
        const where: string[] = [];
        const params: SqlValue[] = [];
        if (filter.requestId !== undefined) {
          where.push('request_id = ?');
          params.push(filter.requestId);
        }
        if (filter.vmName !== undefined) {
          where.push('vm_name = ?');
          params.push(filter.vmName);
        }
        const limit = filter.limit ?? DEFAULT_AUDIT_LIMIT;
        params.push(Math.max(0, Math.floor(limit)));
        const rows = await sql.all<AuditRecord>(
          `SELECT * FROM (SELECT * FROM audit ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY id DESC LIMIT ?) ORDER BY id ASC`,
          params,
        );
        return rows.map(toAuditRow);
      }),
  };
}
