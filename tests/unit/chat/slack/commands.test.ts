import { describe, expect, it } from 'vitest';
import { helpText, parseCommand } from '../../../../src/chat/slack/commands.js';

describe('parseCommand', () => {
  it.each([
    ['request', { kind: 'request' }],
    ['  LIST ', { kind: 'list' }],
    ['ip my-vm', { kind: 'ip', name: 'my-vm' }],
    ['status  web-1', { kind: 'status', name: 'web-1' }],
    ['delete old', { kind: 'delete', name: 'old' }],
    ['cancel new', { kind: 'cancel', name: 'new' }],
    ['', { kind: 'help' }],
    ['help', { kind: 'help' }],
  ])('%j → %j', (text, expected) => {
    expect(parseCommand(text)).toEqual(expected);
  });

  it('asks for the name when it is missing or doubled', () => {
    const hintOf = (text: string) => {
      const parsed = parseCommand(text);
      if (parsed.kind !== 'help' || !parsed.hint) throw new Error(`no hint for ${text}`);
      return helpText(parsed.hint);
    };
    expect(hintOf('ip')).toContain('`/vm ip my-vm`');
    expect(hintOf('delete a b')).toContain('exactly one VM name');
  });

  it('turns anything else into help, without echoing markup', () => {
    const parsed = parseCommand('<!channel> now');
    expect(parsed.kind).toBe('help');
    if (parsed.kind !== 'help') throw new Error('not help');
    expect(helpText(parsed.hint)).toContain('Unknown command `&lt;!channel&gt;`');
    expect(helpText(parsed.hint)).not.toMatch(/[<>]/);
    expect(parseCommand('request extra').kind).toBe('help');
  });

  it('help text lists every command', () => {
    const text = helpText();
    for (const verb of ['request', 'list', 'ip NAME', 'status NAME', 'cancel NAME', 'delete NAME', 'help']) expect(text).toContain(`/vm ${verb}`);
  });
});
