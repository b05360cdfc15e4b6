// Numbered schema migrations, applied at open inside one write transaction.
// PRAGMA user_version records the last one applied, so each runs exactly once even
// when several processes open a new file at the same moment (the second one waits for
// the first one's transaction, then finds nothing left to do).
//
// Migrations are history: never edit one that has shipped; add the next number.
// The state lists below are literal on purpose (the schema must not change when the
// code's constants do); tests check they agree with domain/states.ts.
import { VmbotError } from '../domain/problem.js';
import type { Db } from './db.js';

export interface Migration {
  version: number;
  description: string;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'requests, MAC leases, members, cards, append-only audit log',
    sql: `
      CREATE TABLE requests (
        id                TEXT PRIMARY KEY CHECK (length(id) = 10),
        name              TEXT NOT NULL,
        distro            TEXT NOT NULL,
        size              TEXT NOT NULL,
        login             TEXT NOT NULL,
        ssh_keys          TEXT NOT NULL CHECK (json_valid(ssh_keys)),
        reason            TEXT NOT NULL,
        requester_platform TEXT NOT NULL,
        requester_user_id TEXT NOT NULL,
        requester_name    TEXT,
        state             TEXT NOT NULL CHECK (state IN ('pending','approved','provisioning','running','denied','cancelled','failed','deleting','deleted','lost')),
        mac               TEXT CHECK (mac IS NULL OR (length(mac) = 17 AND mac = lower(mac))),
        job_id            TEXT,
        seed_token        TEXT,
        eval_id           TEXT,
        alloc_id          TEXT,
        log_offset        INTEGER NOT NULL DEFAULT 0 CHECK (log_offset >= 0),
        progress          TEXT CHECK (progress IS NULL OR progress IN ('mac','submitted','allocation_running','booting','address')),
        address           TEXT CHECK (address IS NULL OR json_valid(address)),
        decision          TEXT CHECK (decision IS NULL OR json_valid(decision)),
        failure           TEXT CHECK (failure IS NULL OR json_valid(failure)),
        created_at        TEXT NOT NULL,
        updated_at        TEXT NOT NULL,
        approved_at       TEXT
      );
      -- A name belongs to at most one request that still holds it (NAME_HOLDING_STATES);
      -- after deleted/denied/cancelled it can be used again.
      CREATE UNIQUE INDEX requests_live_name ON requests (name)
        WHERE state IN ('pending','approved','provisioning','running','failed','deleting','lost');
      CREATE INDEX requests_requester ON requests (requester_platform, requester_user_id);
      CREATE INDEX requests_state ON requests (state);

      -- The legal moves of domain/states.ts TRANSITIONS, enforced by a trigger as a
      -- second line of defence behind the store's own check.
      CREATE TABLE state_transitions (
        from_state TEXT NOT NULL,
        to_state   TEXT NOT NULL,
        PRIMARY KEY (from_state, to_state)
      ) WITHOUT ROWID;
      INSERT INTO state_transitions (from_state, to_state) VALUES
        ('pending','approved'), ('pending','denied'), ('pending','cancelled'),
        ('approved','provisioning'), ('approved','failed'), ('approved','deleting'),
        ('provisioning','running'), ('provisioning','failed'), ('provisioning','deleting'),
        ('running','deleting'), ('running','lost'),
        ('failed','provisioning'), ('failed','deleting'),
        ('deleting','deleted'),
        ('lost','deleting');
      CREATE TRIGGER requests_legal_transition BEFORE UPDATE OF state ON requests
        WHEN NEW.state <> OLD.state
         AND NOT EXISTS (SELECT 1 FROM state_transitions WHERE from_state = OLD.state AND to_state = NEW.state)
      BEGIN
        SELECT RAISE(ABORT, 'illegal request state transition');
      END;

      CREATE TABLE mac_leases (
        mac        TEXT PRIMARY KEY CHECK (length(mac) = 17 AND mac = lower(mac)),
        kind       TEXT NOT NULL CHECK (kind IN ('request','reserved','external')),
        request_id TEXT REFERENCES requests (id),
        job_id     TEXT,
        note       TEXT NOT NULL DEFAULT '',
        created_at TEXT NOT NULL,
        CHECK ((kind = 'request') = (request_id IS NOT NULL)),
        CHECK (kind <> 'external' OR job_id IS NOT NULL)
      ) WITHOUT ROWID;
      -- One MAC per request: allocate() is idempotent.
      CREATE UNIQUE INDEX mac_leases_request ON mac_leases (request_id) WHERE request_id IS NOT NULL;

      CREATE TABLE members (
        platform   TEXT NOT NULL,
        user_id    TEXT NOT NULL,
        login      TEXT NOT NULL,
        ssh_keys   TEXT NOT NULL CHECK (json_valid(ssh_keys)),
        updated_at TEXT NOT NULL,
        PRIMARY KEY (platform, user_id)
      ) WITHOUT ROWID;

      CREATE TABLE cards (
        request_id TEXT NOT NULL REFERENCES requests (id),
        platform   TEXT NOT NULL,
        ref        TEXT NOT NULL,
        PRIMARY KEY (request_id, platform)
      ) WITHOUT ROWID;

      -- Append-only: no foreign key (an audit row outlives anything it mentions, and
      -- refused actions may name requests that do not exist).
      CREATE TABLE audit (
        id             INTEGER PRIMARY KEY AUTOINCREMENT,
        at             TEXT NOT NULL,
        actor_platform TEXT NOT NULL,
        actor_user_id  TEXT NOT NULL,
        actor_name     TEXT,
        action         TEXT NOT NULL,
        request_id     TEXT,
        vm_name        TEXT,
        detail         TEXT
      );
      CREATE INDEX audit_request ON audit (request_id);
      CREATE INDEX audit_vm_name ON audit (vm_name);
      CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
      BEGIN
        SELECT RAISE(ABORT, 'the audit log is append-only: rows cannot be changed');
      END;
      CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
      BEGIN
        SELECT RAISE(ABORT, 'the audit log is append-only: rows cannot be deleted');
      END;
    `,
  },
  {
    version: 2,
    description: 'requests.cluster: the Nomad cluster chosen at approval (NULL = the default cluster)',
    sql: `ALTER TABLE requests ADD COLUMN cluster TEXT;`,
  },
];

export const LATEST_SCHEMA_VERSION = MIGRATIONS.at(-1)!.version;

/** Applies the migrations the file lacks; refuses a file written by a newer vmbot. Returns the versions applied. */
export async function migrate(db: Db, migrations: readonly Migration[] = MIGRATIONS): Promise<number[]> {
  const latest = migrations.at(-1)?.version ?? 0;
  return db.transaction(async (sql) => {
    const row = await sql.get<{ user_version: number }>('PRAGMA user_version');
    const current = row?.user_version ?? 0;
    if (current > latest) {
      throw new VmbotError(
        'config_invalid',
        `The database ${db.path} has schema version ${current}, but this vmbot knows versions 1 to ${latest}: it was written by a newer vmbot. Upgrade vmbot, or point database.path at another file.`,
        'database.path',
      );
    }
    const applied: number[] = [];
    for (const migration of migrations) {
      if (migration.version <= current) continue;
      await sql.exec(migration.sql);
      // user_version is part of the transaction: a failed migration leaves it unchanged.
      await sql.exec(`PRAGMA user_version = ${Number(migration.version)}`);
      applied.push(migration.version);
    }
    return applied;
  });
}
