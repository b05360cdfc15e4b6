// `/vm ...` text → one normalised command. Anything unrecognised becomes help, so a typo
// gets the list of commands instead of silence.

export type SlashCommand =
  | { kind: 'request' }
  | { kind: 'list' }
  | { kind: 'ip' | 'status' | 'delete' | 'cancel'; name: string }
  | { kind: 'help'; hint?: string };

const NEEDS_NAME = ['ip', 'status', 'delete', 'cancel'] as const;
type NamedKind = (typeof NEEDS_NAME)[number];

export function parseCommand(text: string): SlashCommand {
  const words = text.trim().split(/\s+/).filter(Boolean);
  const verb = (words[0] ?? '').toLowerCase();
  const args = words.slice(1);
  if (verb === 'request' && args.length === 0) return { kind: 'request' };
  if (verb === 'list' && args.length === 0) return { kind: 'list' };
  if ((NEEDS_NAME as readonly string[]).includes(verb)) {
    if (args.length === 1) return { kind: verb as NamedKind, name: args[0]! };
    return { kind: 'help', hint: `\`/vm ${verb}\` needs exactly one VM name, e.g. \`/vm ${verb} my-vm\`.` };
  }
  if (verb === '' || verb === 'help') return { kind: 'help' };
  return { kind: 'help', hint: `Unknown command \`${verb.replace(/[`<>&]/g, '')}\`.` };
}

export const HELP_LINES = [
  '`/vm request` — ask for a new VM (opens a form)',
  '`/vm list` — your VMs (all VMs for admins)',
  '`/vm ip NAME` — the address of a VM and the ssh command',
  '`/vm status NAME` — the state of a VM',
  '`/vm cancel NAME` — withdraw a request that is still waiting for approval',
  '`/vm delete NAME` — delete a VM (asks for confirmation in the admins\' card)',
  '`/vm help` — this text',
] as const;

export function helpText(hint?: string): string {
  return [...(hint ? [hint, ''] : []), '*vmbot commands*', ...HELP_LINES].join('\n');
}
