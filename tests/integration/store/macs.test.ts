import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { enumerateMacs, parseMacRange } from '../../../src/domain/mac.js';
import type { Store } from '../../../src/store/index.js';
import { admin, alice, makeTestDb, newRequest, type TestDb } from './helpers.js';

// SMALL_POOL: 52:54:84:ba:49:00..03, :01 reserved by config ("distro-vm").
let t: TestDb;
let store: Store;
beforeEach(async () => {
  t = await makeTestDb('macs');
  store = await t.open();
});
afterEach(() => t.cleanup());

const mk = async (name: string, s: Store = store) => (await s.requests.create(newRequest(name), { actor: alice, action: 'request' })).id;

describe('allocate', () => {
  it('takes the lowest free MAC, skips reserved ones, and is idempotent per request', async () => {
    const [a, b, c] = [await mk('a'), await mk('b'), await mk('c')];
    expect(await store.macs.peekNext()).toBe('52:54:84:ba:49:00');
    expect(await store.macs.allocate(a)).toBe('52:54:84:ba:49:00');
    expect(await store.macs.allocate(a)).toBe('52:54:84:ba:49:00');
    expect(await store.macs.peekNext()).toBe('52:54:84:ba:49:02');
    expect(await store.macs.allocate(b)).toBe('52:54:84:ba:49:02');
    expect(await store.macs.allocate(c)).toBe('52:54:84:ba:49:03');
    expect(await store.macs.peekNext()).toBeNull();
    // Freed MACs come back, lowest first.
    await store.macs.releaseForRequest(a);
    await store.macs.releaseForRequest(a);
    expect(await store.macs.peekNext()).toBe('52:54:84:ba:49:00');
  });

  it('hands out exactly the MACs domain/mac.ts enumerates, across byte boundaries and overlapping ranges', async () => {
    const ranges = ['52:54:ff:ff:ff:fe-52:55:00:00:00:01', '52:54:84:ba:49:ff-52:54:84:ba:4a:00', '52:54:84:ba:4a:00-52:54:84:ba:4a:01'];
    const s = await t.open({ path: `${t.dir}/other.sqlite`, pool: { ranges, reserved: [] } });
    const expected = [...enumerateMacs(ranges.map((r) => parseMacRange(r)))];
    const got: string[] = [];
    for (let i = 0; i < expected.length; i++) got.push(await s.macs.allocate(await mk(`vm-${i}`, s)));
    expect(got).toEqual(expected);
    expect(got).toHaveLength(7);
    await expect(s.macs.allocate(await mk('one-too-many', s))).rejects.toMatchObject({ code: 'pool_exhausted' });
  });

  it('on exhaustion throws pool_exhausted saying how many are taken and what to do, and changes nothing', async () => {
    for (const n of ['a', 'b', 'c']) await store.macs.allocate(await mk(n));
    const before = await store.macs.usage();
    const d = await mk('d');
    const err = await store.macs.allocate(d).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'pool_exhausted', field: 'macPool.ranges' });
    expect((err as Error).message).toMatch(/4 of the pool's 4 MACs are taken \(3 by VMs, 1 reserved, 0 by hand-made jobs\)/);
    expect((err as Error).message).toMatch(/macPool\.ranges.*vmbot pool release/);
    expect(await store.macs.usage()).toEqual(before);
  });

  it('treats MACs case-insensitively: a reservation in upper case blocks the same MAC', async () => {
    await store.macs.reserve('52:54:84:BA:49:00', 'router');
    expect(await store.macs.allocate(await mk('a'))).toBe('52:54:84:ba:49:02');
  });

  it('refuses to lease for a request that does not exist (foreign key), changing nothing', async () => {
    await expect(store.macs.allocate('nosuchidxx')).rejects.toThrow(/FOREIGN KEY/);
    expect((await store.macs.usage()).used).toBe(0);
  });

  it('honours MACs already leased by another handle (another process in production)', async () => {
    const other = await t.open();
    expect(await other.macs.allocate(await mk('a', other))).toBe('52:54:84:ba:49:00');
    expect(await store.macs.allocate(await mk('b'))).toBe('52:54:84:ba:49:02');
  });
});

describe('config reserved MACs', () => {
  it('are synced at open, update their note, and never evict a MAC in use', async () => {
    const a = await mk('a');
    expect(await store.macs.allocate(a)).toBe('52:54:84:ba:49:00');
    const reopened = await t.open({
      pool: {
        ranges: ['52:54:84:ba:49:00-52:54:84:ba:49:03'],
        reserved: [
          { mac: '52:54:84:ba:49:01', note: 'distro-vm (renamed)' },
          { mac: '52:54:84:ba:49:00', note: 'clash' },
          { mac: '52:54:84:ba:49:03', note: 'printer' },
        ],
      },
    });
    const usage = await reopened.macs.usage();
    expect(usage.holders).toEqual([
      { mac: '52:54:84:ba:49:00', holder: { kind: 'request', requestId: a, vmName: 'a', state: 'pending' } },
      { mac: '52:54:84:ba:49:01', holder: { kind: 'reserved', note: 'distro-vm (renamed)' } },
      { mac: '52:54:84:ba:49:03', holder: { kind: 'reserved', note: 'printer' } },
    ]);
  });
});

describe('reserve / release', () => {
  it('reserves (or re-notes) a free MAC, refuses one in use, releases it again', async () => {
    await store.macs.reserve('52:54:84:ba:49:02', 'switch');
    await store.macs.reserve('52:54:84:BA:49:02', 'switch, port 4');
    expect((await store.macs.usage()).holders.find((h) => h.mac === '52:54:84:ba:49:02')?.holder).toEqual({ kind: 'reserved', note: 'switch, port 4' });
    const a = await mk('a');
    await store.macs.allocate(a);
    await expect(store.macs.reserve('52:54:84:ba:49:00', 'x')).rejects.toMatchObject({ code: 'mac_in_use', field: 'mac' });
    await store.macs.release('52:54:84:BA:49:02');
    expect(await store.macs.peekNext()).toBe('52:54:84:ba:49:02');
    await expect(store.macs.release('52:54:84:ba:49:02')).rejects.toMatchObject({ code: 'not_found' });
    await expect(store.macs.reserve('not-a-mac', 'x')).rejects.toMatchObject({ code: 'invalid_mac', field: 'mac' });
  });

  it('refuses to release the MAC of a live VM without force, allows it with force or once the VM is gone', async () => {
    const a = await mk('a');
    const mac = await store.macs.allocate(a);
    await store.requests.transition(a, 'pending', 'approved', { mac }, { actor: admin, action: 'approve' });
    const err = await store.macs.release(mac).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'mac_in_use', field: 'mac' });
    expect((err as Error).message).toMatch(/VM "a" \(approved.*--force/);
    expect((await store.macs.usage()).used).toBe(1);
    await store.macs.release(mac, { force: true });
    expect((await store.macs.usage()).used).toBe(0);

    // A request that never became a VM (pending → cancelled) does not hold its MAC live.
    const b = await mk('b');
    const macB = await store.macs.allocate(b);
    await store.requests.transition(b, 'pending', 'cancelled', {}, { actor: alice, action: 'cancel' });
    await store.macs.release(macB);
    expect((await store.macs.usage()).used).toBe(0);
  });
});

describe('syncExternal', () => {
  it('adds MACs of hand-made jobs, updates their job, frees those gone, reports clashes with vmbot VMs', async () => {
    const a = await mk('a');
    await store.macs.allocate(a); // :00
    const first = await store.macs.syncExternal([
      { mac: '52:54:84:BA:49:02', jobId: 'distro-vm' },
      { mac: '52:54:84:ba:49:00', jobId: 'hand-made' },
      { mac: '52:54:84:ba:49:01', jobId: 'reserved-one' },
      { mac: '52:54:84:ba:49:22', jobId: 'outside-pool' },
    ]);
    expect(first).toEqual({ added: ['52:54:84:ba:49:02', '52:54:84:ba:49:22'], freed: [], conflicts: [{ mac: '52:54:84:ba:49:00', jobId: 'hand-made', requestId: a }] });
    let usage = await store.macs.usage();
    expect(usage).toMatchObject({ total: 4, used: 1, reserved: 1, external: 1, free: 1 });
    expect(usage.holders.find((h) => h.mac === '52:54:84:ba:49:01')?.holder).toEqual({ kind: 'reserved', note: 'distro-vm' });
    expect(await store.macs.allocate(await mk('b'))).toBe('52:54:84:ba:49:03');

    const second = await store.macs.syncExternal([{ mac: '52:54:84:ba:49:02', jobId: 'distro-vm-2' }]);
    expect(second).toEqual({ added: [], freed: ['52:54:84:ba:49:22'], conflicts: [] });
    usage = await store.macs.usage();
    expect(usage.holders.find((h) => h.mac === '52:54:84:ba:49:02')?.holder).toEqual({ kind: 'external', jobId: 'distro-vm-2' });

    expect(await store.macs.syncExternal([])).toEqual({ added: [], freed: ['52:54:84:ba:49:02'], conflicts: [] });
    expect(await store.macs.peekNext()).toBe('52:54:84:ba:49:02');
  });
});
