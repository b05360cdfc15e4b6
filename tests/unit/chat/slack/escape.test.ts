import { describe, expect, it } from 'vitest';
import { escapeCodeBlock, escapeMrkdwn, fitEscaped, mentionUser, mrkdwn, plain } from '../../../../src/chat/slack/escape.js';

describe('escapeMrkdwn', () => {
  it('makes mentions and links inert', () => {
    expect(escapeMrkdwn('<!channel> see <https://evil|click> & <@U123>')).toBe('&lt;!channel&gt; see &lt;https://evil|click&gt; &amp; &lt;@U123&gt;');
  });

  it('escapes an ampersand before the angle brackets (no double decoding)', () => {
    expect(escapeMrkdwn('&lt;')).toBe('&amp;lt;');
  });
});

describe('escapeCodeBlock', () => {
  it('stops member text from closing a ``` block', () => {
    const out = escapeCodeBlock('a```<!here>');
    expect(out).not.toContain('```');
    expect(out).toContain('&lt;!here&gt;');
  });
});

describe('fitEscaped', () => {
  it('keeps short text as it is', () => {
    expect(fitEscaped('abc', 3)).toBe('abc');
  });

  it('cuts to the limit with an ellipsis', () => {
    const out = fitEscaped('x'.repeat(4000), 3000);
    expect(out).toHaveLength(3000);
    expect(out.endsWith('…')).toBe(true);
  });

  it('never leaves half an entity', () => {
    const escaped = escapeMrkdwn('ab<');
    // 'ab&lt;' cut at 5 would leave 'ab&l'
    const out = fitEscaped(escaped, 5);
    expect(out).toBe('ab…');
    expect(mrkdwn('<'.repeat(1000), 3000).length).toBeLessThanOrEqual(3000);
    expect(mrkdwn('<'.repeat(1000), 3000)).toMatch(/^(&lt;)+…$/);
  });
});

describe('plain and mentionUser', () => {
  it('fits plain text', () => {
    expect(plain('y'.repeat(80), 75)).toHaveLength(75);
  });

  it('mentions only well-formed Slack user IDs', () => {
    expect(mentionUser('U0ADMIN01')).toBe('<@U0ADMIN01>');
    expect(mentionUser('U1|x> <!channel')).toBeUndefined();
    expect(mentionUser('alice')).toBeUndefined();
  });
});
