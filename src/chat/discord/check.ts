// `vmbot doctor`'s lines for Discord: the bot token (GET /users/@me), the guild, the admin
// channel and the admin roles. Reads only; asks once (no retries) and says what to fix.
import { REST, Routes, DiscordAPIError } from 'discord.js';
import { checkFailed as fail, checkOk as ok, checkSkipped as skip, type CheckResult } from '../../components.js';
import type { DiscordSection } from './platform.js';

export async function checkDiscord(discord: DiscordSection, token: string | undefined, timeoutMs: number): Promise<CheckResult[]> {
  if (!token) return [skip('discord: API', 'not checked: DISCORD_TOKEN is not set')];
  // No retries and no sweeper timers: a doctor asks once and exits.
  const rest = new REST({ api: discord.apiUrl, version: '10', retries: 0, timeout: timeoutMs, hashSweepInterval: 0, handlerSweepInterval: 0 }).setToken(token);
  const out: CheckResult[] = [];
  try {
    const me = (await rest.get(Routes.user())) as { id: string; username: string };
    out.push(ok('discord: bot token', `authenticated as ${me.username} (${me.id})`));
  } catch (err) {
    return [fail('discord: bot token', `GET /users/@me failed: ${discordError(err)}`, 'check DISCORD_TOKEN (the bot token from the Developer Portal) and discord.apiUrl')];
  }
  try {
    const guild = (await rest.get(Routes.guild(discord.guildId))) as { name: string };
    out.push(ok('discord: guild', `${discord.guildId} (${guild.name})`));
  } catch (err) {
    out.push(fail('discord: guild', `${discord.guildId}: ${discordError(err)}`, 'set discord.guildId to your server\'s ID and invite the bot to it'));
    return out;
  }
  try {
    const channel = (await rest.get(Routes.channel(discord.adminChannel))) as { name?: string; guild_id?: string };
    out.push(channel.guild_id === discord.guildId
      ? ok('discord: admin channel', `${discord.adminChannel} (#${channel.name ?? '?'})`)
      : fail('discord: admin channel', `${discord.adminChannel} is not a channel of guild ${discord.guildId}`, 'set discord.adminChannel to a text channel of that server'));
  } catch (err) {
    out.push(fail('discord: admin channel', `${discord.adminChannel}: ${discordError(err)}`, 'set discord.adminChannel to a channel ID the bot can see'));
  }
  try {
    const roles = (await rest.get(Routes.guildRoles(discord.guildId))) as Array<{ id: string; name: string }>;
    const missing = discord.adminRoles.filter((id) => !roles.some((r) => r.id === id));
    if (discord.adminRoles.length === 0 && discord.admins.length === 0) out.push(fail('discord: admin roles', 'no adminRoles and no admins: nobody can approve', 'list role IDs in discord.adminRoles (or user IDs in discord.admins)'));
    else if (missing.length > 0) out.push(fail('discord: admin roles', `unknown role(s) ${missing.join(', ')}`, 'copy the role IDs from Server Settings → Roles (Developer Mode on)'));
    else out.push(ok('discord: admin roles', discord.adminRoles.map((id) => `${roles.find((r) => r.id === id)!.name} (${id})`).join(', ') || `admins: ${discord.admins.join(', ')}`));
  } catch (err) {
    out.push(fail('discord: admin roles', discordError(err), 'give the bot access to the server'));
  }
  return out;
}

function discordError(err: unknown): string {
  if (err instanceof DiscordAPIError) return `${err.status} ${err.message}${err.code ? ` (code ${err.code})` : ''}`;
  return (err as Error).message;
}
