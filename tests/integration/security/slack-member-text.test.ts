// DESIGN §4 on Slack: member text, and cluster text quoted back to members, can neither ping
// nor hide a link: `&`, `<`, `>` are escaped wherever it appears — the card's failure
// section, DMs, ephemeral replies that echo what was typed, and list output.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN1, MEMBER, buttonsOf, cardText, startSlackWorld, type SlackWorld } from '../chat/slack/world.js';
import type { StoredMessage } from '../../support/slack-double.js';

/** Everything Slack would parse in a message: its fallback text and every block. */
const shown = (m: StoredMessage): string => `${m.text}\n${cardText(m)}`;
/** Special mentions, mentions of other users, and masked links: none may come from text we did not write. */
const PINGS = /<!channel>|<!here>|<!everyone>|<@U2>|<https?:\/\//;

describe('security: Slack escapes member and cluster text everywhere', () => {
  let w: SlackWorld;
  beforeAll(async () => {
    w = await startSlackWorld({ mode: 'http' });
  });
  afterAll(async () => {
    await w?.close();
  });

  it('a Nomad failure message quoting hostile text is inert on the card, in DMs and in /vm list', async () => {
    w.h.sim.control.failNextTask(undefined, 'qemu: <!channel> <!here> <@U2> & <https://evil.example|click me>');
    expect((await w.request(MEMBER, { name: 'sec-fail' })).status).toBe(200);
    const pending = await w.card('sec-fail', (m) => buttonsOf(m).includes('vm:approve'));
    expect((await w.double.pressButton({ user: ADMIN1, message: pending, actionId: 'vm:approve' })).status).toBe(200);
    await w.reach('sec-fail', 'failed');
    const card = await w.card('sec-fail', (m) => buttonsOf(m).includes('vm:retry') && cardText(m).includes('click me'), 'the failed card');
    expect(shown(card)).not.toMatch(PINGS);
    expect(cardText(card)).toContain('&lt;!channel&gt;');

    for (const dm of w.double.dmsTo(MEMBER)) expect(shown(dm)).not.toMatch(PINGS);

    const before = w.double.ephemeralsFor(ADMIN1).length;
    await w.double.slashCommand({ user: ADMIN1, text: 'list' });
    const list = await w.double.waitFor(() => w.double.ephemeralsFor(ADMIN1).slice(before).find((m) => cardText(m).includes('sec-fail')), 5_000, 'the admin list');
    expect(cardText(list)).toContain('click me');
    expect(shown(list)).not.toMatch(PINGS);
  });

  it('a command argument echoed in a refusal is inert', async () => {
    for (const text of ['ip <!channel>', 'status <https://evil.example|x>', 'cancel <@U2>', 'delete <!here>']) {
      const before = w.double.ephemeralsFor(MEMBER).length;
      await w.double.slashCommand({ user: MEMBER, text });
      const reply = await w.double.waitFor(() => w.double.ephemeralsFor(MEMBER).slice(before)[0], 5_000, `the answer to /vm ${text}`);
      expect(reply.text).toContain('not_found');
      expect(reply.text).toContain('&lt;');
      expect(shown(reply)).not.toMatch(PINGS);
    }
  });
});
