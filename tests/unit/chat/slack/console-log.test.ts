// `/vm logs` drawn for Slack: code blocks within the 3000-character section limit, whole
// lines each, member-proof (a guest printing ``` or <!channel> can neither close the block
// nor ping anyone), an empty console said in words.
import { describe, expect, it } from 'vitest';
import { consoleLogMessage } from '../../../../src/chat/slack/blocks.js';
import { LIMITS } from '../../../../src/chat/slack/limits.js';

const texts = (blocks: ReturnType<typeof consoleLogMessage>['blocks']) => blocks.map((b) => (b as { text?: { text: string } }).text?.text ?? '');

describe('Slack: the console log reply', () => {
  it('packs 40 long lines into code blocks of whole lines, each section within Slack\'s limit', () => {
    const lines = Array.from({ length: 40 }, (_, i) => `[ ${String(i).padStart(2, '0')} ] ${'x'.repeat(180)}`);
    const message = consoleLogMessage({ requestId: 'r1', name: 'vm-a', allocation: 'a1b2c3d4', lines });
    expect(message.text).toBe('Last 40 console lines of *vm-a* (allocation `a1b2c3d4`):');
    const [title, ...code] = texts(message.blocks);
    expect(title).toBe(message.text);
    expect(code.length).toBeGreaterThan(1);
    for (const text of code) {
      expect(text.length).toBeLessThanOrEqual(LIMITS.sectionText);
      expect(text.startsWith('```') && text.endsWith('```')).toBe(true);
    }
    // Every line once, in order.
    expect(code.map((t) => t.slice(3, -3)).join('\n').split('\n')).toEqual(lines);
  });

  it('escapes what the guest printed: no early end of the block, no mention, no link', () => {
    const message = consoleLogMessage({ requestId: 'r1', name: 'vm-a', allocation: 'a1b2c3d4', lines: ['```', '<!channel> <https://evil.example|x> & more', ''] });
    const code = texts(message.blocks)[1]!;
    expect(code.slice(3, -3)).not.toContain('```');
    expect(code).toContain('&lt;!channel&gt; &lt;https://evil.example|x&gt; &amp; more');
    expect(code).not.toMatch(/<!channel>|<https:/);
  });

  it('says so when the console is empty', () => {
    const message = consoleLogMessage({ requestId: 'r1', name: 'vm-a', allocation: 'a1b2c3d4', lines: [] });
    expect(message.text).toBe('The console of *vm-a* (allocation `a1b2c3d4`) is empty so far.');
    expect(message.blocks).toHaveLength(1);
  });
});
