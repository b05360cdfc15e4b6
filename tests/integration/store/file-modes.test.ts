// The SQLite file holds SSH keys, logins, addresses and seed tokens: the folder vmbot creates
// for it is 0700, the file and its -wal/-shm 0600, even under a permissive umask.
import { chmod, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openStore } from '../../../src/store/index.js';
import { makeTempDir } from '../../support/tmp.js';
import { alice, newRequest, SMALL_POOL } from './helpers.js';

const AUDIT = { actor: alice, action: 'request' } as const;

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function modeOf(path: string): Promise<number> {
  return (await stat(path)).mode & 0o777;
}

/** Runs `work` with the given umask (tests run in forks, so the process umask is settable). */
async function withUmask<T>(mask: number, work: () => Promise<T>): Promise<T> {
  const old = process.umask(mask);
  try {
    return await work();
  } finally {
    process.umask(old);
  }
}

describe('database file modes', () => {
  it('creates the folders 0700 and the file, -wal and -shm 0600 under umask 000', async () => {
    const tmp = await makeTempDir('store-modes');
    cleanups.push(() => tmp.cleanup());
    const path = join(tmp.dir, 'var', 'data', 'vmbot.sqlite');
    const store = await withUmask(0o000, () => openStore({ path, pool: SMALL_POOL }));
    cleanups.push(() => store.close());
    await store.requests.create(newRequest('modes1'), AUDIT);

    expect((await modeOf(join(tmp.dir, 'var'))).toString(8)).toBe('700');
    expect((await modeOf(join(tmp.dir, 'var', 'data'))).toString(8)).toBe('700');
    for (const file of [path, `${path}-wal`, `${path}-shm`]) expect({ file, mode: (await modeOf(file)).toString(8) }).toEqual({ file, mode: '600' });
  });

  it('tightens an existing world-readable file and its -wal/-shm, and keeps an existing folder as it is', async () => {
    const tmp = await makeTempDir('store-modes');
    cleanups.push(() => tmp.cleanup());
    await chmod(tmp.dir, 0o755);
    const path = join(tmp.dir, 'vmbot.sqlite');
    const first = await openStore({ path, pool: SMALL_POOL });
    await first.requests.create(newRequest('modes2'), AUDIT);
    await first.close();
    await chmod(path, 0o644);
    // Left behind by an older vmbot with a loose mode.
    await writeFile(`${path}-wal`, '', { mode: 0o644 });
    await chmod(`${path}-wal`, 0o644);

    const store = await openStore({ path, pool: SMALL_POOL });
    cleanups.push(() => store.close());
    await store.requests.create(newRequest('modes3'), AUDIT);
    expect((await store.requests.list()).map((r) => r.name).sort()).toEqual(['modes2', 'modes3']);
    for (const file of [path, `${path}-wal`, `${path}-shm`]) expect({ file, mode: (await modeOf(file)).toString(8) }).toEqual({ file, mode: '600' });
    expect((await modeOf(tmp.dir)).toString(8)).toBe('755');
  });
});
