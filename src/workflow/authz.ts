// Who may do what (DESIGN §4). Decided here from the configuration on every call; chat
// adapters only report who pressed the button and which groups/roles they hold.
import type { Config } from '../config/schema.js';
import type { Actor, MemberRef } from '../domain/request.js';

/**
 * Admins are listed user IDs and/or a group (Slack user group, Discord role) of the actor's
 * own platform. The CLI runs on the server with the database in reach, so it acts as an admin.
 */
export function isAdmin(config: Config, actor: Actor): boolean {
  switch (actor.platform) {
    case 'slack': {
      const slack = config.slack;
      if (!slack) return false;
      return slack.admins.includes(actor.userId) || (slack.adminGroup !== undefined && actor.groups.includes(slack.adminGroup));
    }
    case 'discord': {
      const discord = config.discord;
      if (!discord) return false;
      return discord.admins.includes(actor.userId) || discord.adminRoles.some((role) => actor.groups.includes(role));
    }
    case 'web':
      return config.web.admins.includes(actor.userId);
    case 'cli':
      return true;
  }
}

/** Members are identified per platform: the same user id on another platform is someone else. */
export function sameMember(a: MemberRef, b: MemberRef): boolean {
  return a.platform === b.platform && a.userId === b.userId;
}

export function describeMember(member: MemberRef): string {
  return member.displayName ? `${member.displayName} (${member.platform} ${member.userId})` : `${member.platform} user ${member.userId}`;
}
