import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { VmbotError } from '../../../src/domain/problem.js';
import type { RequestState } from '../../../src/domain/states.js';
import type { Store } from '../../../src/store/index.js';
import { admin, alice, makeTestDb, newRequest, type TestDb } from './helpers.js';

let t: TestDb;
let store: Store;
beforeEach(async () => {
  t = await makeTestDb('requests');
  store = await t.open({ now: () => new Date('2026-01-02T03:04:05.000Z') });
});
afterEach(() => t.cleanup());

const auditOf = (id: string) => store.audit.list({ requestId: id });

describe('requests.create / get / list', () => {
  it('stores every field and reads it back, with a random base32 id and an audit row', async () => {
    const created = await store.requests.create(newRequest('web'), { actor: alice, action: 'request', detail: 'coursework' });
    expect(created.id).toMatch(/^[a-z2-7]{10}$/);
    expect(created).toMatchObject({
      name: 'web', distro: 'debian-12', size: 'small', login: 'alice', reason: 'coursework', state: 'pending',
      requester: alice, mac: null, jobId: null, cluster: null, logOffset: 0, progress: null, address: null, decision: null, failure: null,
      createdAt: '2026-01-02T03:04:05.000Z', updatedAt: '2026-01-02T03:04:05.000Z', approvedAt: null,
    });
    expect(created.sshKeys).toEqual(['ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA alice@laptop']);
    expect(await store.requests.get(created.id)).toEqual(created);
    expect(await store.requests.get('nosuchidxx')).toBeUndefined();
    const audit = await auditOf(created.id);
    expect(audit.map((a) => [a.action, a.vmName, a.detail, a.actor.userId])).toEqual([['request', 'web', 'coursework', 'U0ALICE']]);
  });

  it('gives every request a different id', async () => {
    const ids = new Set<string>();
    for (let i = 0; i < 30; i++) ids.add((await store.requests.create(newRequest(`vm-${i}`), { actor: alice, action: 'request' })).id);
    expect(ids.size).toBe(30);
  });

  it('lists by requester and by state, oldest first', async () => {
    const bob = { platform: 'discord' as const, userId: '1234' };
    const a = await store.requests.create(newRequest('a'), { actor: alice, action: 'request' });
    const b = await store.requests.create(newRequest('b', { requester: bob }), { actor: bob, action: 'request' });
    // Same user id on another platform is another member.
    const c = await store.requests.create(newRequest('c', { requester: { platform: 'discord', userId: 'U0ALICE' } }), { actor: alice, action: 'request' });
    await store.requests.transition(b.id, 'pending', 'approved', {}, { actor: admin, action: 'approve' });
    expect((await store.requests.list()).map((r) => r.name)).toEqual(['a', 'b', 'c']);
    expect((await store.requests.list({ requester: alice })).map((r) => r.id)).toEqual([a.id]);
    expect((await store.requests.list({ states: ['approved', 'provisioning'] })).map((r) => r.id)).toEqual([b.id]);
    expect((await store.requests.list({ requester: { platform: 'discord', userId: 'U0ALICE' }, states: ['pending'] })).map((r) => r.id)).toEqual([c.id]);
    expect(await store.requests.list({ states: [] })).toEqual([]);
  });
});

describe('names', () => {
  it('refuses a name held by a live request, with code name_taken and field name, writing nothing', async () => {
    await store.requests.create(newRequest('web'), { actor: alice, action: 'request' });
    const err = await store.requests.create(newRequest('web'), { actor: alice, action: 'request' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VmbotError);
    expect(err).toMatchObject({ code: 'name_taken', field: 'name' });
    expect((err as Error).message).toMatch(/"web".*pending.*another name/);
    expect(await store.requests.list()).toHaveLength(1);
    expect(await store.audit.list()).toHaveLength(1);
  });

  it.each([
    ['denied', ['denied']],
    ['cancelled', ['cancelled']],
    ['deleted', ['approved', 'deleting', 'deleted']],
  ] as Array<[string, RequestState[]]>)('can reuse a name after the request is %s', async (_label, path) => {
    const first = await store.requests.create(newRequest('web'), { actor: alice, action: 'request' });
    let from: RequestState = 'pending';
    for (const to of path) {
      // Not free yet while the request is still on its way.
      await expect(store.requests.create(newRequest('web'), { actor: alice, action: 'request' })).rejects.toMatchObject({ code: 'name_taken' });
      expect(await store.requests.transition(first.id, from, to, {}, { actor: admin, action: `state:${from}->${to}` })).toBeDefined();
      from = to;
    }
    expect(await store.requests.findLiveByName('web')).toBeUndefined();
    const second = await store.requests.create(newRequest('web'), { actor: alice, action: 'request' });
    expect(second.id).not.toBe(first.id);
    expect((await store.requests.findLiveByName('web'))?.id).toBe(second.id);
  });

  it('keeps the name taken in failed and lost states', async () => {
    const r = await store.requests.create(newRequest('web'), { actor: alice, action: 'request' });
    await store.requests.transition(r.id, 'pending', 'approved', {}, { actor: admin, action: 'approve' });
    await store.requests.transition(r.id, 'approved', 'failed', {}, { actor: admin, action: 'fail' });
    await expect(store.requests.create(newRequest('web'), { actor: alice, action: 'request' })).rejects.toMatchObject({ code: 'name_taken' });
    expect((await store.requests.findLiveByName('web'))?.state).toBe('failed');
  });
});

describe('transition', () => {
  it('moves the state, applies the patch, stamps updatedAt and writes one audit row', async () => {
    let clock = new Date('2026-01-02T03:04:05.000Z');
    const s2 = await t.open({ now: () => clock });
    const r = await s2.requests.create(newRequest('web'), { actor: alice, action: 'request' });
    clock = new Date('2026-01-02T04:00:00.000Z');
    const decision = { by: admin, at: clock.toISOString(), verb: 'approved' as const, reason: 'ok' };
    const approved = await s2.requests.transition(r.id, 'pending', 'approved', { decision, jobId: 'uservm-web', seedToken: 'tok', approvedAt: clock.toISOString() }, { actor: admin, action: 'approve', detail: 'ok' });
    expect(approved).toMatchObject({ state: 'approved', decision, jobId: 'uservm-web', seedToken: 'tok', approvedAt: '2026-01-02T04:00:00.000Z', updatedAt: '2026-01-02T04:00:00.000Z', createdAt: '2026-01-02T03:04:05.000Z' });
    const running = await s2.requests.transition(r.id, ['approved'], 'provisioning', { mac: '52:54:84:ba:49:00', progress: 'mac' }, { actor: admin, action: 'provision' });
    const address = { ipv4: '10.10.0.42', ipv6: ['2001:db8::1'], seenAt: clock.toISOString() };
    const up = await s2.requests.transition(r.id, 'provisioning', 'running', { address, progress: 'address', allocId: 'a1', evalId: 'e1', logOffset: 1234 }, { actor: admin, action: 'up' });
    expect(running?.mac).toBe('52:54:84:ba:49:00');
    expect(up).toMatchObject({ state: 'running', address, progress: 'address', allocId: 'a1', evalId: 'e1', logOffset: 1234, decision, jobId: 'uservm-web' });
    expect(await s2.requests.get(r.id)).toEqual(up);
    expect((await auditOf(r.id)).map((a) => a.action)).toEqual(['request', 'approve', 'provision', 'up']);
  });

  it('writes nothing (no state, no patch, no audit row) when `from` is stale', async () => {
    const r = await store.requests.create(newRequest('web'), { actor: alice, action: 'request' });
    await store.requests.transition(r.id, 'pending', 'denied', {}, { actor: admin, action: 'deny' });
    const before = await store.requests.get(r.id);
    const result = await store.requests.transition(r.id, 'pending', 'approved', { jobId: 'uservm-web' }, { actor: admin, action: 'approve' });
    expect(result).toBeUndefined();
    expect(await store.requests.get(r.id)).toEqual(before);
    expect((await auditOf(r.id)).map((a) => a.action)).toEqual(['request', 'deny']);
    expect(await store.requests.transition('nosuchidxx', 'pending', 'approved', {}, { actor: admin, action: 'approve' })).toBeUndefined();
  });

  it('refuses a move that domain/states.ts does not allow', async () => {
    const r = await store.requests.create(newRequest('web'), { actor: alice, action: 'request' });
    await expect(store.requests.transition(r.id, 'pending', 'running', {}, { actor: admin, action: 'x' })).rejects.toMatchObject({ code: 'internal' });
    await expect(store.requests.transition(r.id, ['pending', 'approved'], 'denied', {}, { actor: admin, action: 'x' })).rejects.toThrow(/approved -> denied/);
    expect((await store.requests.get(r.id))?.state).toBe('pending');
  });

  it('failure and retry keep the MAC and job id', async () => {
    const r = await store.requests.create(newRequest('web'), { actor: alice, action: 'request' });
    await store.requests.transition(r.id, 'pending', 'approved', { jobId: 'uservm-web', mac: '52:54:84:ba:49:00' }, { actor: admin, action: 'approve' });
    const failure = { code: 'ip_timeout', message: 'no address after 10m', consoleTail: ['line 1', 'line "2"'] };
    const failed = await store.requests.transition(r.id, ['approved', 'provisioning'], 'failed', { failure }, { actor: admin, action: 'fail' });
    expect(failed?.failure).toEqual(failure);
    const retried = await store.requests.transition(r.id, 'failed', 'provisioning', { failure: null }, { actor: admin, action: 'retry' });
    expect(retried).toMatchObject({ state: 'provisioning', failure: null, mac: '52:54:84:ba:49:00', jobId: 'uservm-web' });
  });

  it('serialises many concurrent transitions on one handle: exactly one wins', async () => {
    const r = await store.requests.create(newRequest('web'), { actor: alice, action: 'request' });
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => store.requests.transition(r.id, 'pending', i % 2 ? 'approved' : 'denied', {}, { actor: admin, action: `try-${i}` })),
    );
    expect(results.filter((x) => x !== undefined)).toHaveLength(1);
    expect(await auditOf(r.id)).toHaveLength(2);
  });

  it('two handles on one file pressing Approve and Deny at once: exactly one wins', async () => {
    const other = await t.open();
    for (let round = 0; round < 10; round++) {
      const r = await store.requests.create(newRequest(`vm-${round}`), { actor: alice, action: 'request' });
      const [a, b] = await Promise.all([
        store.requests.transition(r.id, 'pending', 'approved', { jobId: 'uservm-x' }, { actor: admin, action: 'approve' }),
        other.requests.transition(r.id, 'pending', 'denied', {}, { actor: admin, action: 'deny' }),
      ]);
      expect([a, b].filter((x) => x !== undefined)).toHaveLength(1);
      const final = await other.requests.get(r.id);
      expect(final?.state).toBe((a ?? b)?.state);
      const actions = (await auditOf(r.id)).map((x) => x.action);
      expect(actions).toEqual(['request', final?.state === 'approved' ? 'approve' : 'deny']);
    }
  });
});

describe('update', () => {
  it('changes fields only while the request is in one of the given states', async () => {
    const r = await store.requests.create(newRequest('web'), { actor: alice, action: 'request' });
    await store.requests.transition(r.id, 'pending', 'approved', {}, { actor: admin, action: 'approve' });
    const u = await store.requests.update(r.id, ['approved', 'provisioning'], { progress: 'submitted', evalId: 'e-1' });
    expect(u).toMatchObject({ state: 'approved', progress: 'submitted', evalId: 'e-1' });
    expect(await store.requests.update(r.id, ['running'], { progress: 'address' })).toBeUndefined();
    expect((await store.requests.get(r.id))?.progress).toBe('submitted');
    // Fields not in the patch are left alone; update writes no audit row.
    expect((await store.requests.get(r.id))?.jobId).toBeNull();
    expect(await auditOf(r.id)).toHaveLength(2);
  });

  it('leaves a field alone when the patch has it as undefined, and clears it with null', async () => {
    const r = await store.requests.create(newRequest('web'), { actor: alice, action: 'request' });
    await store.requests.update(r.id, ['pending'], { evalId: 'e-1', allocId: 'a-1' });
    const u = await store.requests.update(r.id, ['pending'], { evalId: undefined, allocId: null });
    expect(u).toMatchObject({ evalId: 'e-1', allocId: null });
  });
});
