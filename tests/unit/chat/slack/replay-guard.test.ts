// The replay cache behind the Slack HTTP receiver: a signature is refused again while its
// timestamp is inside Slack's 5-minute window, forgotten after, and the cache never holds
// more than its cap (it refuses rather than forgets a signature that could still be replayed).
import { describe, expect, it } from 'vitest';
import { ReplayCache, SIGNATURE_WINDOW_SECONDS } from '../../../../src/chat/slack/replay-guard.js';

describe('ReplayCache', () => {
  const T0 = 1_800_000_000; // seconds

  it('refuses a signature seen again within the window and forgets it once the window has passed', () => {
    let nowMs = T0 * 1000;
    const cache = new ReplayCache({ now: () => nowMs });
    expect(cache.check('v0=aa', T0)).toBe('fresh');
    expect(cache.check('v0=bb', T0)).toBe('fresh');
    nowMs += (SIGNATURE_WINDOW_SECONDS - 1) * 1000;
    expect(cache.check('v0=aa', T0)).toBe('replay');
    // Bolt refuses the timestamp as stale from here on; the entry can go.
    nowMs = (T0 + SIGNATURE_WINDOW_SECONDS + 2) * 1000;
    expect(cache.check('v0=aa', T0)).toBe('fresh');
  });

  it('keeps a signature stamped ahead of the clock until its own timestamp leaves the window', () => {
    let nowMs = T0 * 1000;
    const cache = new ReplayCache({ now: () => nowMs });
    expect(cache.check('v0=ahead', T0 + 240)).toBe('fresh');
    nowMs += (SIGNATURE_WINDOW_SECONDS + 200) * 1000;
    expect(cache.check('v0=ahead', T0 + 240)).toBe('replay');
  });

  it('holds at most `max` signatures: expired ones are swept, live ones are never dropped', () => {
    let nowMs = T0 * 1000;
    const cache = new ReplayCache({ max: 3, now: () => nowMs });
    for (const s of ['a', 'b', 'c']) expect(cache.check(s, T0)).toBe('fresh');
    expect(cache.check('d', T0)).toBe('full');
    expect(cache.size).toBe(3);
    expect(cache.check('a', T0)).toBe('replay');

    nowMs = (T0 + SIGNATURE_WINDOW_SECONDS + 2) * 1000;
    const now = Math.floor(nowMs / 1000);
    expect(cache.check('d', now)).toBe('fresh');
    expect(cache.size).toBe(1);
  });
});
