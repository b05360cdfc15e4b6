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
  {
    version: 3,
    description: 'watch_progress: the watcher\'s allocation and console offset, out of the request row (they move on every poll)',
    sql: `
      -- Where the watcher got to (the allocation it follows, the offset after the last whole
      -- console line), so a restart continues there. Kept apart from requests: the offset
      -- changes on every log read, and a request row changes only when its card does.
      CREATE TABLE watch_progress (
        request_id TEXT PRIMARY KEY REFERENCES requests (id),
        alloc_id   TEXT,
        log_offset INTEGER NOT NULL DEFAULT 0 CHECK (log_offset >= 0)
      ) WITHOUT ROWID;
      INSERT INTO watch_progress (request_id, alloc_id, log_offset)
        SELECT id, alloc_id, log_offset FROM requests WHERE alloc_id IS NOT NULL OR log_offset <> 0;
      ALTER TABLE requests DROP COLUMN alloc_id;
      ALTER TABLE requests DROP COLUMN log_offset;
    `,
  },
  {
    version: 4,
    description: "a VM's whole life: state 'stopped' and its moves, stop reason, rebuild count, host keys, lease columns",
    sql: `
      -- The state CHECK must admit 'stopped', and SQLite cannot change a CHECK in place:
      -- the table is rebuilt, keeping every row, its rowid (list order) and every column,
      -- and its indexes and trigger are made again. The rows are set aside in a plain
      -- table, requests is dropped and created anew under its own name (so the foreign
      -- keys of mac_leases, cards and watch_progress, which name it, find it), and the rows
      -- go back. Foreign keys are deferred to the commit: dropping the table counts its
      -- children as violations, and putting their parents back counts them off again.
      PRAGMA defer_foreign_keys = ON;
      CREATE TABLE requests_v3 AS SELECT rowid AS old_rowid, * FROM requests;
      DROP TABLE requests;
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
        state             TEXT NOT NULL CHECK (state IN ('pending','approved','provisioning','running','stopped','denied','cancelled','failed','deleting','deleted','lost')),
        mac               TEXT CHECK (mac IS NULL OR (length(mac) = 17 AND mac = lower(mac))),
        job_id            TEXT,
        seed_token        TEXT,
        eval_id           TEXT,
        progress          TEXT CHECK (progress IS NULL OR progress IN ('mac','submitted','allocation_running','booting','address')),
        address           TEXT CHECK (address IS NULL OR json_valid(address)),
        decision          TEXT CHECK (decision IS NULL OR json_valid(decision)),
        failure           TEXT CHECK (failure IS NULL OR json_valid(failure)),
        created_at        TEXT NOT NULL,
        updated_at        TEXT NOT NULL,
        approved_at       TEXT,
        cluster           TEXT,
        -- Why the VM is stopped (set with the move to stopped).
        stop_reason       TEXT CHECK (stop_reason IS NULL OR stop_reason IN ('member','admin','lease')),
        -- Rebuilds so far: the cloud-init instance-id changes with each.
        rebuilds          INTEGER NOT NULL DEFAULT 0 CHECK (rebuilds >= 0),
        -- The SSH host key fingerprints seen on the console (JSON array); NULL until seen.
        host_keys         TEXT CHECK (host_keys IS NULL OR json_valid(host_keys)),
        -- The lease (domain/lease.ts LeaseRecord); NULL expiry: the VM never expires.
        lease_expires_at  TEXT,
        lease_renewals    INTEGER NOT NULL DEFAULT 0 CHECK (lease_renewals >= 0),
        lease_reminders_sent TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(lease_reminders_sent)),
        lease_stopped_at  TEXT,
        lease_renewal_requested_at TEXT,
        -- Why a VM that ran is booting again (start, rebuild, a reschedule to another node):
        -- the "up" notice says its host keys changed. Cleared when it runs again.
        boot_cause        TEXT CHECK (boot_cause IS NULL OR boot_cause IN ('start','rebuild','moved'))
      );
      INSERT INTO requests (rowid, id, name, distro, size, login, ssh_keys, reason, requester_platform, requester_user_id, requester_name,
                            state, mac, job_id, seed_token, eval_id, progress, address, decision, failure, created_at, updated_at, approved_at, cluster)
        SELECT old_rowid, id, name, distro, size, login, ssh_keys, reason, requester_platform, requester_user_id, requester_name,
               state, mac, job_id, seed_token, eval_id, progress, address, decision, failure, created_at, updated_at, approved_at, cluster
        FROM requests_v3 ORDER BY old_rowid;
      DROP TABLE requests_v3;
      CREATE UNIQUE INDEX requests_live_name ON requests (name)
        WHERE state IN ('pending','approved','provisioning','running','stopped','failed','deleting','lost');
      CREATE INDEX requests_requester ON requests (requester_platform, requester_user_id);
      CREATE INDEX requests_state ON requests (state);
      INSERT INTO state_transitions (from_state, to_state) VALUES
        ('running','stopped'), ('running','provisioning'),
        ('stopped','provisioning'), ('stopped','deleting'), ('stopped','lost');
      CREATE TRIGGER requests_legal_transition BEFORE UPDATE OF state ON requests
        WHEN NEW.state <> OLD.state
         AND NOT EXISTS (SELECT 1 FROM state_transitions WHERE from_state = OLD.state AND to_state = NEW.state)
      BEGIN
        SELECT RAISE(ABORT, 'illegal request state transition');
      END;
    `,
  },
  {
    version: 5,
    description: "the requester's groups when they asked (their quota's group overrides, shown on the admin card)",
    sql: `
      ALTER TABLE requests ADD COLUMN requester_groups TEXT NOT NULL DEFAULT '[]';
    `,
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
