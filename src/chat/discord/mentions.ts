// Member text must never ping or spoof (DESIGN §4). Two layers: every message we send carries
// allowed_mentions with an empty `parse` (Discord then pings nobody but the users we list), and
// member text is made inert before it is shown (no markdown tricks, no rendered mentions).
import type { APIAllowedMentions } from 'discord.js';

/** Pings nobody: for every message that is not meant to mention anyone. */
export function noPings(): APIAllowedMentions {
  return { parse: [] };
}

/** Pings exactly these users, nothing that member text might contain. */
export function pingOnly(userIds: readonly string[]): APIAllowedMentions {
  return { parse: [], users: [...userIds] };
}

const SNOWFLAKE = /^\d{15,22}$/;

/** `<@id>` for an ID we got from Discord itself; anything else is shown as inert text. */
export function mentionUser(userId: string): string {
  return SNOWFLAKE.test(userId) ? `<@${userId}>` : inert(userId);
}

/**
 * Member text as plain, inert text: markdown is escaped, and a zero-width space after every
 * `@` breaks `@everyone`, `@here`, `<@id>` and `<@&role>` so they neither ping nor render.
 * Linear in the text's length: discord.js's escapeMarkdown is not (30 000 characters take
 * seconds there), and member text must never be a way to stall the bot.
 */
export function inert(text: string): string {
  return text
    .replace(/[\\*_~`|[\]]/g, '\\$&') // emphasis, code, spoilers, masked links
    .replace(/^([ \t]*)([>#-])/gm, '$1\\$2') // quotes, headings, lists: only at a line start
    .replaceAll('@', '@\u200b');
}

/** Shortens to `max` characters (Discord counts UTF-16 code units for limits), marking the cut. */
export function clip(text: string, max: number): string {
  if (text.length <= max) return text;
  return text.slice(0, Math.max(0, max - 1)) + '…';
}
