// `/vm logs` drawn for Discord: the lines as a code block in an embed (4096 characters, where
// a message's 2000 would not hold 40 console lines); lines that do not fit are dropped from
// the oldest and the footer says so; the guest's ``` cannot close the block.
import { describe, expect, it } from 'vitest';
import { consoleLogMessage, LIMITS } from '../../../../src/chat/discord/draw.js';

describe('Discord: the console log reply', () => {
  it('shows 40 boot-length lines whole, in an embed\'s code block', () => {
    const lines = Array.from({ length: 40 }, (_, i) => `[   11.9${String(i).padStart(2, '0')}] cloud-init[512]: ci-info: | ens3 | True | 10.10.0.5 | 255.255.255.0 | global |`);
    const message = consoleLogMessage({ requestId: 'r1', name: 'vm-a', allocation: 'a1b2c3d4', lines });
    expect(message.content).toBe('Last 40 console lines of **vm-a** (allocation `a1b2c3d4`):');
    expect(message.content.length).toBeLessThanOrEqual(LIMITS.content);
    const embed = message.embeds[0]!;
    expect(embed.description).toBe('```\n' + lines.join('\n') + '\n```');
    expect(embed.footer).toBeUndefined();
  });

  it('keeps the newest lines that fit in 4096 characters and says how many are shown', () => {
    const lines = Array.from({ length: 40 }, (_, i) => `${String(i).padStart(2, '0')} ${'y'.repeat(200)}`);
    const embed = consoleLogMessage({ requestId: 'r1', name: 'vm-a', allocation: 'a1b2c3d4', lines }).embeds[0]!;
    expect(embed.description!.length).toBeLessThanOrEqual(LIMITS.description);
    const shown = embed.description!.slice(4, -4).split('\n');
    expect(shown).toEqual(lines.slice(-shown.length));
    expect(shown.length).toBeLessThan(40);
    expect(embed.footer?.text).toBe(`The last ${shown.length} of 40 lines: Discord shows at most 4096 characters here.`);
  });

  it('the guest\'s ``` cannot end the block early; an empty console is said in words', () => {
    const embed = consoleLogMessage({ requestId: 'r1', name: 'vm-a', allocation: 'a1b2c3d4', lines: ['echo ```', 'login: '] }).embeds[0]!;
    expect(embed.description!.slice(3, -3)).not.toContain('```');
    expect(consoleLogMessage({ requestId: 'r1', name: 'vm-a', allocation: 'a1b2c3d4', lines: [] })).toEqual({ content: 'The console of **vm-a** (allocation `a1b2c3d4`) is empty so far.', embeds: [] });
  });
});
