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
    expect(parseCommand('ip')).toMatchObject({ kind: 'help', hint: expect.stringContaining('/vm ip my-vm') });
    expect(parseCommand('delete a b')).toMatchObject({ kind: 'help', hint: expect.stringContaining('exactly one VM name') });
  });

  it('turns anything else into help, without echoing markup', () => {
    const parsed = parseCommand('<!channel> now');
    expect(parsed.kind).toBe('help');
    expect(parsed.kind === 'help' && parsed.hint).not.toMatch(/[<>]/);
    expect(parseCommand('request extra').kind).toBe('help');
  });

  it('help text lists every command', () => {
    const text = helpText();
    for (const verb of ['request', 'list', 'ip NAME', 'status NAME', 'cancel NAME', 'delete NAME', 'help']) expect(text).toContain(`/vm ${verb}`);
  });
});
