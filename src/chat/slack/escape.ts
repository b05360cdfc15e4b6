// Member text shown in Slack (DESIGN §4): mrkdwn treats `<...>` as links and mentions
// (`<!channel>`, `<@U1>`, `<https://evil|click>`), so the three control characters are
// escaped as Slack documents. Everything a member typed goes through here before it is
// put into a mrkdwn text object; plain_text objects are never parsed for mentions.

/** Escapes `&`, `<`, `>` so member text can neither ping nor hide a link. */
export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Escaped member text for inside a ``` block: a member's own ``` cannot close it early. */
export function escapeCodeBlock(text: string): string {
  return escapeMrkdwn(text).replace(/```/g, '`\u200b`\u200b`');
}

/**
 * Cuts already-escaped mrkdwn to at most `max` characters, never in the middle of an
 * entity (`&amp;`), and marks the cut with an ellipsis. Slack rejects over-long texts
 * (invalid_blocks), so every variable text is fitted before it is sent.
 */
export function fitEscaped(escaped: string, max: number): string {
  if (escaped.length <= max) return escaped;
  let cut = escaped.slice(0, Math.max(0, max - 1));
  const amp = cut.lastIndexOf('&');
  if (amp !== -1 && amp >= cut.length - 5 && !cut.slice(amp).includes(';')) cut = cut.slice(0, amp);
  return cut + '…';
}

/** Escapes member text and fits it into `max` characters. */
export function mrkdwn(text: string, max: number): string {
  return fitEscaped(escapeMrkdwn(text), max);
}

/** Plain text (no parsing in Slack): only the length needs care. */
export function plain(text: string, max: number): string {
  return text.length <= max ? text : text.slice(0, Math.max(0, max - 1)) + '…';
}

/** A Slack user mention, only for IDs that look like Slack user IDs (never built from free text). */
export function mentionUser(userId: string): string | undefined {
  return /^[UW][A-Z0-9]{1,20}$/.test(userId) ? `<@${userId}>` : undefined;
}
