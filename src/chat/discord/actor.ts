// Who pressed or typed: the Actor the workflow decides on. Groups are the member's role IDs
// in the guild (the workflow matches them against discord.adminRoles).
import type { BaseInteraction } from 'discord.js';
import type { Actor } from '../../domain/request.js';

export function actorFrom(interaction: BaseInteraction): Actor {
  const member = interaction.member;
  let groups: string[] = [];
  if (member) {
    // A cached GuildMember exposes a role manager; an uncached one is the raw API member.
    groups = Array.isArray(member.roles) ? [...member.roles] : [...member.roles.cache.keys()];
  }
  // @everyone's role ID is the guild ID: it is not a group anyone was given.
  groups = groups.filter((id) => id !== interaction.guildId);
  return {
    platform: 'discord',
    userId: interaction.user.id,
    displayName: interaction.user.globalName ?? interaction.user.username,
    groups,
  };
}
