// Shared by the store tests: a store on a real SQLite file in a fresh temp dir.
import { join } from 'node:path';
import type { MemberRef } from '../../../src/domain/request.js';
import { Db } from '../../../src/store/db.js';
import { openStore, type OpenStoreOptions, type NewRequest, type Store } from '../../../src/store/index.js';
import { makeTempDir } from '../../support/tmp.js';

export const alice: MemberRef = { platform: 'slack', userId: 'U0ALICE', displayName: 'Alice' };
export const admin: MemberRef = { platform: 'slack', userId: 'U0ADMIN' };

/** Four MACs, one of them reserved by config: 52:54:84:ba:49:00..03, :01 reserved. */
export const SMALL_POOL = { ranges: ['52:54:84:ba:49:00-52:54:84:ba:49:03'], reserved: [{ mac: '52:54:84:BA:49:01', note: 'distro-vm' }] };

export function newRequest(name: string, over: Partial<NewRequest> = {}): NewRequest {
  return { name, distro: 'debian-12', size: 'small', login: 'alice', sshKeys: ['ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA alice@laptop'], reason: 'coursework', requester: alice, ...over };
}

export interface TestDb {
  dir: string;
  path: string;
  open(over?: Partial<OpenStoreOptions>): Promise<Store>;
  /** Closes every store opened here and removes the folder. */
  cleanup(): Promise<void>;
}

export async function makeTestDb(prefix = 'store'): Promise<TestDb> {
  const tmp = await makeTempDir(prefix);
  const path = join(tmp.dir, 'data', 'vmbot.sqlite');
  const opened: Store[] = [];
  return {
    dir: tmp.dir,
    path,
    async open(over = {}) {
      const store = await openStore({ path, pool: SMALL_POOL, ...over });
      opened.push(store);
      return store;
    },
    async cleanup() {
      await Promise.all(opened.map((s) => s.close()));
      await tmp.cleanup();
    },
  };
}

/** The raw database file, for tests that set up or inspect what the store API would not write. */
export async function withRaw<T>(path: string, work: (db: Db) => Promise<T>): Promise<T> {
  const db = await Db.open(path);
  try {
    return await work(db);
  } finally {
    await db.close();
  }
}
