// Slack user → Actor. `groups` holds the admin user group's ID when the user is in it; the
// group's members come from usergroups.users.list and are cached briefly, so a burst of
// clicks costs one API call and a removal from the group takes effect within `ttlMs`.
import type { Actor } from '../../domain/request.js';
import type { Logger } from '../../log.js';

export interface UsergroupClient {
  usergroups: { users: { list(args: { usergroup: string }): Promise<{ users?: string[] }> } };
}

export interface ActorResolver {
  actorFor(userId: string, displayName?: string): Promise<Actor>;
}

export function createActorResolver(opts: { client: UsergroupClient; adminGroup?: string | undefined; ttlMs?: number; logger: Logger; now?: () => number }): ActorResolver {
  const ttl = opts.ttlMs ?? 60_000;
  const now = opts.now ?? Date.now;
  let cached: { at: number; members: Promise<ReadonlySet<string>> } | undefined;

  async function groupMembers(group: string): Promise<ReadonlySet<string>> {
    if (cached && now() - cached.at < ttl) return cached.members;
    const members = opts.client.usergroups.users
      .list({ usergroup: group })
      .then((res) => new Set(res.users ?? []))
      .catch((err: unknown) => {
        // Fail closed: nobody is an admin through the group until Slack answers again.
        opts.logger.warn({ err: (err as Error).message, usergroup: group }, 'could not read the admin user group; treating its members as non-admins');
        cached = undefined;
        return new Set<string>();
      });
    cached = { at: now(), members };
    return members;
  }

  return {
    async actorFor(userId, displayName) {
      const groups: string[] = [];
      if (opts.adminGroup && (await groupMembers(opts.adminGroup)).has(userId)) groups.push(opts.adminGroup);
      return { platform: 'slack', userId, ...(displayName ? { displayName } : {}), groups };
    },
  };
}
