// One SQLite connection (sqlite3, async) and the queue that serialises its work.
//
// sqlite3 runs statements on a thread pool and a connection has one transaction at a
// time: if two flows both issued BEGIN ... COMMIT on the same handle, their statements
// would interleave inside one transaction. So every unit of work — a write transaction
// or a read — runs from one promise chain per handle, one after the other. Other
// processes writing the same file are handled by SQLite itself: WAL, a busy timeout,
// and BEGIN IMMEDIATE (take the write lock up front, so a transaction never has to
// upgrade a stale read snapshot, which fails with SQLITE_BUSY without waiting).
import { chmod, mkdir, open as openFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import sqlite3 from 'sqlite3';
import { VmbotError } from '../domain/problem.js';

/** Values we bind: SQLite's own types. */
export type SqlValue = string | number | null;
export type Row = Record<string, SqlValue>;

/** What a unit of work may do; only valid inside the callback it was handed to. */
export interface Sql {
  run(sql: string, params?: readonly SqlValue[]): Promise<{ changes: number; lastID: number }>;
  get<T extends Row = Row>(sql: string, params?: readonly SqlValue[]): Promise<T | undefined>;
  all<T extends Row = Row>(sql: string, params?: readonly SqlValue[]): Promise<T[]>;
  exec(sql: string): Promise<void>;
}

/** SQLite's extended error code as sqlite3 reports it, e.g. "SQLITE_CONSTRAINT". */
export function sqliteCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

export const DEFAULT_BUSY_TIMEOUT_MS = 10_000;

export class Db {
  private tail: Promise<unknown> = Promise.resolve();
  private closed = false;
  private readonly sql: Sql;

  private constructor(
    private readonly handle: sqlite3.Database,
    readonly path: string,
  ) {
    this.sql = {
      run: (sql, params = []) =>
        new Promise((resolve, reject) => {
          this.handle.run(sql, params, function (err) {
            if (err) reject(err);
            else resolve({ changes: this.changes, lastID: this.lastID });
          });
        }),
      get: <T extends Row>(sql: string, params: readonly SqlValue[] = []) =>
        new Promise<T | undefined>((resolve, reject) => {
          this.handle.get<T>(sql, params, (err, row) => (err ? reject(err) : resolve(row)));
        }),
      all: <T extends Row>(sql: string, params: readonly SqlValue[] = []) =>
        new Promise<T[]>((resolve, reject) => {
          this.handle.all<T>(sql, params, (err, rows) => (err ? reject(err) : resolve(rows)));
        }),
      exec: (sql) =>
        new Promise((resolve, reject) => {
          this.handle.exec(sql, (err) => (err ? reject(err) : resolve()));
        }),
    };
  }

  /**
   * Opens (creating the file and its parent folders) with WAL, foreign keys and a busy timeout.
   * The file holds SSH keys, logins, addresses and seed tokens: folders it creates are 0700,
   * the file and its -wal/-shm 0600, whatever the umask.
   */
  static async open(path: string, opts: { busyTimeoutMs?: number } = {}): Promise<Db> {
    let handle: sqlite3.Database;
    const onDisk = path !== ':memory:' && path !== '';
    try {
      if (onDisk) await preparePrivateFile(path);
      handle = await new Promise<sqlite3.Database>((resolve, reject) => {
        const db: sqlite3.Database = new sqlite3.Database(path, (err) => (err ? reject(err) : resolve(db)));
      });
    } catch (err) {
      throw new VmbotError('config_invalid', `Cannot open the database ${path}: ${(err as Error).message}. Check database.path and that vmbot may write there.`, 'database.path', { cause: err });
    }
    const db = new Db(handle, path);
    try {
      // The busy timeout first: the WAL switch itself may wait for another process.
      handle.configure('busyTimeout', opts.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS);
      await db.sql.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; PRAGMA temp_store = MEMORY;');
      // SQLite gives -wal/-shm the database file's mode; this also tightens ones left by an older vmbot.
      if (onDisk) for (const suffix of ['-wal', '-shm']) await tighten(path + suffix);
    } catch (err) {
      await db.close();
      throw err;
    }
    return db;
  }

  private enqueue<T>(job: () => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new Error(`the database ${this.path} is closed`));
    const result = this.tail.then(job);
    // The chain must survive a failed job; the caller still sees the failure.
    this.tail = result.catch(() => undefined);
    return result;
  }

  /** A write transaction (BEGIN IMMEDIATE … COMMIT), rolled back if `work` throws. */
  transaction<T>(work: (sql: Sql) => Promise<T>): Promise<T> {
    return this.enqueue(async () => {
      await this.sql.exec('BEGIN IMMEDIATE');
      let value: T;
      try {
        value = await work(this.sql);
      } catch (err) {
        // SQLite may already have rolled back (e.g. after SQLITE_FULL); that is fine.
        await this.sql.exec('ROLLBACK').catch(() => undefined);
        throw err;
      }
      try {
        await this.sql.exec('COMMIT');
      } catch (err) {
        // Never leave the handle inside a transaction: the next unit of work would fail.
        await this.sql.exec('ROLLBACK').catch(() => undefined);
        throw err;
      }
      return value;
    });
  }

  /** Reads in one consistent snapshot (a deferred transaction), queued like writes. */
  read<T>(work: (sql: Sql) => Promise<T>): Promise<T> {
    return this.enqueue(async () => {
      await this.sql.exec('BEGIN');
      try {
        return await work(this.sql);
      } finally {
        await this.sql.exec('COMMIT').catch(() => undefined);
      }
    });
  }

  /** Waits for queued work, then closes the connection. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    const drained = this.tail;
    this.closed = true;
    await drained;
    await new Promise<void>((resolve, reject) => this.handle.close((err) => (err ? reject(err) : resolve())));
  }
}

const PRIVATE_FILE = 0o600;
const PRIVATE_DIR = 0o700;

/** Creates missing parent folders 0700 and the file 0600 (before SQLite opens it); tightens an existing file. */
async function preparePrivateFile(path: string): Promise<void> {
  const dir = dirname(path);
  // mkdir's mode is filtered by the umask; the folders it created are set exactly afterwards.
  const first = await mkdir(dir, { recursive: true, mode: PRIVATE_DIR });
  if (first !== undefined) {
    for (let d = dir; ; d = dirname(d)) {
      await chmod(d, PRIVATE_DIR);
      if (d === first || dirname(d) === d) break;
    }
  }
  // 'a': create if missing, never truncate. The mode applies only when it creates the file.
  const file = await openFile(path, 'a', PRIVATE_FILE);
  try {
    const { mode } = await file.stat();
    if ((mode & 0o777) !== PRIVATE_FILE) await file.chmod(PRIVATE_FILE);
  } catch (err) {
    // Another user's file (e.g. a CLI run by an admin next to the service): leave it as it is.
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') throw err;
  } finally {
    await file.close();
  }
}

/** chmod 0600 if the file exists and is ours; a missing file is fine. */
async function tighten(path: string): Promise<void> {
  try {
    await chmod(path, PRIVATE_FILE);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT' && code !== 'EPERM') throw err;
  }
}
