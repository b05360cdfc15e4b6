// The invite URL and the permissions the bot needs — no more. Interaction responses, ephemeral
// replies and DMs need no guild permission; the bot itself posts and edits the admin card (and
// the fallback notices), which needs View Channel, Send Messages and Embed Links there.
import { OAuth2Scopes, PermissionFlagsBits } from 'discord.js';

export const BOT_PERMISSIONS = (PermissionFlagsBits.ViewChannel | PermissionFlagsBits.SendMessages | PermissionFlagsBits.EmbedLinks).toString();
export const BOT_SCOPES = [OAuth2Scopes.Bot, OAuth2Scopes.ApplicationsCommands] as const;

export function inviteUrl(applicationId: string, guildId?: string): string {
  const params = new URLSearchParams({ client_id: applicationId, scope: BOT_SCOPES.join(' '), permissions: BOT_PERMISSIONS });
  if (guildId) {
    params.set('guild_id', guildId);
    params.set('disable_guild_select', 'true');
  }
  return `https://discord.com/oauth2/authorize?${params.toString()}`;
}
