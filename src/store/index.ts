// The SQLite store: opens the file, applies migrations, prepares the MAC pool, and
// assembles one module per table behind the Store interface of types.ts.
import { createAuditStore } from './audit.js';
import { createCardStore } from './cards.js';
import { Db } from './db.js';
import { createMacStore, parsePoolConfig, preparePool, type PoolConfig } from './macs.js';
import { createMemberStore } from './members.js';
import { migrate } from './migrations.js';
import { createRequestStore } from './requests.js';
import type { Store } from './types.js';

export type * from './types.js';
export { LATEST_SCHEMA_VERSION } from './migrations.js';
export { MAX_POOL_SIZE, type PoolConfig } from './macs.js';

export interface OpenStoreOptions {
  /** SQLite file; its parent folders are created. */
  path: string;
  /** config.macPool */
  pool: PoolConfig;
  /** Clock for timestamps (tests). */
  now?: () => Date;
  /** How long to wait for another process's write lock (default 10 s). */
  busyTimeoutMs?: number;
}

export async function openStore(opts: OpenStoreOptions): Promise<Store> {
  const now = opts.now ?? (() => new Date());
  const pool = parsePoolConfig(opts.pool);
  const db = await Db.open(opts.path, opts.busyTimeoutMs === undefined ? {} : { busyTimeoutMs: opts.busyTimeoutMs });
  try {
    await migrate(db);
    await preparePool(db, pool, now);
  } catch (err) {
    await db.close();
    throw err;
  }
  return {
    requests: createRequestStore(db, now),
    macs: createMacStore(db, now),
    members: createMemberStore(db, now),
    audit: createAuditStore(db, now),
    cards: createCardStore(db),
    close: () => db.close(),
  };
}
