// `/vm ...` text → one normalised command. Anything unrecognised becomes help, so a typo
// gets the list of commands instead of silence.

import { HELP_HINTS, helpWording, type Wording } from '../../workflow/notices.js';
import { mrkdwnOf } from './blocks.js';

export type SlashCommand =
  | { kind: 'request' }
  | { kind: 'list' }
  | { kind: 'ip' | 'status' | 'delete' | 'cancel' | 'logs' | 'stop' | 'start' | 'reboot' | 'rebuild'; name: string }
  | { kind: 'renew'; name: string }
  | { kind: 'expire'; name: string; date: string }
  | { kind: 'help'; hint?: Wording };

const NEEDS_NAME = ['ip', 'status', 'delete', 'cancel', 'logs', 'stop', 'start', 'reboot', 'rebuild'] as const;
type NamedKind = (typeof NEEDS_NAME)[number];

export function parseCommand(text: string): SlashCommand {
  const words = text.trim().split(/\s+/).filter(Boolean);
  const verb = (words[0] ?? '').toLowerCase();
  const args = words.slice(1);
  if (verb === 'request' && args.length === 0) return { kind: 'request' };
  if (verb === 'list' && args.length === 0) return { kind: 'list' };
  if ((NEEDS_NAME as readonly string[]).includes(verb)) {
    if (args.length === 1) return { kind: verb as NamedKind, name: args[0]! };
    return { kind: 'help', hint: HELP_HINTS.needsName(verb) };
  }
  if (verb === 'renew') return args.length === 1 ? { kind: 'renew', name: args[0]! } : { kind: 'help', hint: HELP_HINTS.needsName(verb) };
  if (verb === 'expire') return args.length === 2 ? { kind: 'expire', name: args[0]!, date: args[1]! } : { kind: 'help', hint: HELP_HINTS.needsNameAndDate(verb) };
  if (verb === '' || verb === 'help') return { kind: 'help' };
  // The verb is shown back as code, escaped when drawn (mrkdwnOf).
  return { kind: 'help', hint: HELP_HINTS.unknown(verb.slice(0, 40)) };
}

/** The `/vm help` answer as mrkdwn (worded in src/workflow/notices.ts; the Slack form asks the request's details). */
export function helpText(hint?: Wording): string {
  return mrkdwnOf(helpWording(hint ? { hint } : {}));
}
