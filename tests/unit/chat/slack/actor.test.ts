import { describe, expect, it } from 'vitest';
import { createActorResolver, type UsergroupClient } from '../../../../src/chat/slack/actor.js';
import { silentLogger } from '../../../../src/log.js';

/** usergroups.users.list as Slack answers it, counting calls; `fail` makes it throw like WebClient does. */
function groupClient(members: string[]): UsergroupClient & { calls: number; fail: boolean; members: string[] } {
  const client = {
    calls: 0,
    fail: false,
    members,
    usergroups: {
      users: {
        list: async ({ usergroup }: { usergroup: string }) => {
          client.calls++;
          if (client.fail) throw Object.assign(new Error('An API error occurred: ratelimited'), { data: { ok: false, error: 'ratelimited' } });
          return usergroup === 'S0ADMINS' ? { users: client.members } : { users: [] };
        },
      },
    },
  };
  return client;
}

describe('createActorResolver', () => {
  it('puts the admin group in groups only for its members', async () => {
    const client = groupClient(['UADMIN']);
    const actors = createActorResolver({ client, adminGroup: 'S0ADMINS', logger: silentLogger });
    expect(await actors.actorFor('UADMIN', 'ann')).toEqual({ platform: 'slack', userId: 'UADMIN', displayName: 'ann', groups: ['S0ADMINS'] });
    expect((await actors.actorFor('UOTHER')).groups).toEqual([]);
  });

  it('caches the membership briefly, then reads it again', async () => {
    let now = 0;
    const client = groupClient(['UADMIN']);
    const actors = createActorResolver({ client, adminGroup: 'S0ADMINS', ttlMs: 1_000, logger: silentLogger, now: () => now });
    await Promise.all([actors.actorFor('UADMIN'), actors.actorFor('UOTHER'), actors.actorFor('UADMIN')]);
    expect(client.calls).toBe(1);
    client.members = [];
    now = 1_001;
    expect((await actors.actorFor('UADMIN')).groups).toEqual([]);
    expect(client.calls).toBe(2);
  });

  it('fails closed when Slack cannot answer, and asks again next time', async () => {
    const client = groupClient(['UADMIN']);
    client.fail = true;
    const actors = createActorResolver({ client, adminGroup: 'S0ADMINS', logger: silentLogger });
    expect((await actors.actorFor('UADMIN')).groups).toEqual([]);
    client.fail = false;
    expect((await actors.actorFor('UADMIN')).groups).toEqual(['S0ADMINS']);
  });

  it('makes no call without an admin group', async () => {
    const client = groupClient(['UADMIN']);
    const actors = createActorResolver({ client, logger: silentLogger });
    expect((await actors.actorFor('UADMIN')).groups).toEqual([]);
    expect(client.calls).toBe(0);
  });
});
