import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Store } from '../../../src/store/index.js';
import { alice, makeTestDb, newRequest, type TestDb } from './helpers.js';

let t: TestDb;
let store: Store;
beforeEach(async () => {
  t = await makeTestDb('members');
  store = await t.open();
});
afterEach(() => t.cleanup());

describe('members', () => {
  it('saves and replaces a profile per platform + user id', async () => {
    expect(await store.members.getProfile(alice)).toBeUndefined();
    await store.members.saveProfile(alice, { login: 'alice', sshKeys: ['ssh-ed25519 AAAA a'] });
    await store.members.saveProfile(alice, { login: 'al', sshKeys: ['ssh-ed25519 BBBB b', 'ssh-rsa CCCC c'] });
    expect(await store.members.getProfile(alice)).toEqual({ login: 'al', sshKeys: ['ssh-ed25519 BBBB b', 'ssh-rsa CCCC c'] });
    // The same id on Discord is another member.
    expect(await store.members.getProfile({ platform: 'discord', userId: alice.userId })).toBeUndefined();
  });
});

describe('cards', () => {
  it('remembers one ref per request and platform, replacing it on set', async () => {
    const r = await store.requests.create(newRequest('web'), { actor: alice, action: 'request' });
    expect(await store.cards.get(r.id, 'slack')).toBeUndefined();
    await store.cards.set(r.id, 'slack', 'C1:1.1');
    await store.cards.set(r.id, 'discord', '99:100');
    await store.cards.set(r.id, 'slack', 'C1:2.2');
    expect(await store.cards.get(r.id, 'slack')).toBe('C1:2.2');
    expect(await store.cards.get(r.id, 'discord')).toBe('99:100');
  });

  it('refuses a card for a request that does not exist (foreign key)', async () => {
    await expect(store.cards.set('nosuchidxx', 'slack', 'C1:1.1')).rejects.toThrow(/FOREIGN KEY/);
  });
});
