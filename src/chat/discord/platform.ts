// Discord as vmbot sees it from outside this folder (src/chat/platform.ts): the `discord:`
// config section, its secret, its admins, its doctor check and how its adapter is made. The
// adapter and the check are loaded only when used, so reading the config does not load discord.js.
import { z } from 'zod';
import { urlSchema } from '../../config/fields.js';
import type { ChatAdapter } from '../adapter.js';
import type { ChatPlatform } from '../platform.js';
import { registerDiscordCommands } from './cli.js';

export const discordSection = z.strictObject({
  apiUrl: urlSchema.default('https://discord.com/api'),
  applicationId: z.string().regex(/^\d{15,22}$/, { error: 'expected a Discord snowflake ID (digits)' }),
  guildId: z.string().regex(/^\d{15,22}$/, { error: 'expected a Discord snowflake ID (digits)' }),
  adminChannel: z.string().regex(/^\d{15,22}$/, { error: 'expected a Discord channel ID (digits)' }),
  adminRoles: z.array(z.string()).default([]),
  admins: z.array(z.string()).default([]),
  fallbackChannel: z.string().optional(),
});

export type DiscordSection = z.output<typeof discordSection>;

export const discordPlatform = {
  name: 'discord' as const,
  title: 'Discord',
  section: discordSection,
  sectionHint: 'applicationId, guildId, adminChannel, adminRoles',
  secretNames: ['DISCORD_TOKEN'],
  secretNeeds: () => [{ name: 'DISCORD_TOKEN', required: true }],
  // Listed user IDs, or one of the admin roles (the adapter reports the member's roles in `groups`).
  isAdmin(section, actor) {
    return section.admins.includes(actor.userId) || section.adminRoles.some((role) => actor.groups.includes(role));
  },
  async check(section, secrets, timeoutMs) {
    const { checkDiscord } = await import('./check.js');
    return checkDiscord(section, secrets.DISCORD_TOKEN, timeoutMs);
  },
  async create({ section, secrets, workflow, logger }): Promise<ChatAdapter> {
    const { createDiscordAdapter } = await import('./index.js');
    return createDiscordAdapter({ config: section, token: secrets.DISCORD_TOKEN!, workflow, logger });
  },
  describe(section) {
    const admins = `${section.admins.length} admin(s), ${section.adminRoles.length} admin role(s)`;
    return `discord (guild ${section.guildId}, admin channel ${section.adminChannel}, ${admins})`;
  },
  registerCommands: registerDiscordCommands,
} satisfies ChatPlatform<DiscordSection>;
