// Request → approve → (simulated cluster) → address, over HTTP mode with signed requests.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ADMIN1, ADMIN_CHANNEL, MEMBER, buttonsOf, cardText, startSlackWorld, type SlackWorld } from './world.js';

describe('Slack (HTTP mode): request → approve → address', () => {
  let w: SlackWorld;
  beforeEach(async () => {
    w = await startSlackWorld({ mode: 'http' });
  });
  afterEach(async () => {
    await w.close();
  });

  it('opens the modal, posts the card, provisions on approval, DMs the address and updates the card', async () => {
    const submitted = await w.request(MEMBER, { name: 'web-1' });
    expect(submitted).toEqual({ status: 200, body: '' });

    const pending = await w.card('web-1', (m) => buttonsOf(m).includes('vm:approve'));
    expect(buttonsOf(pending)).toEqual(['vm:approve', 'vm:deny']);
    expect(cardText(pending)).toContain(`<@${MEMBER}>`);
    // The requester is told the request went to the admins.
    await w.double.waitFor(() => w.double.dmsTo(MEMBER).length > 0, 5_000, 'the "requested" DM');

    const press = await w.double.pressButton({ user: ADMIN1, message: pending, actionId: 'vm:approve' });
    expect(press.status).toBe(200);

    const up = await w.double.waitFor(() => w.double.dmsTo(MEMBER).find((m) => m.text.includes('Log in with')), 8_000, 'the "up" DM');
    expect(up.text).toMatch(/ssh alice@\d+\.\d+\.\d+\.\d+/);
    const address = /ssh alice@(\d+\.\d+\.\d+\.\d+)/.exec(up.text)![1]!;

    const running = await w.card('web-1', (m) => cardText(m).includes(address), 'the card with the address');
    // The buttons gave way to who decided and when; Delete is what is left.
    expect(buttonsOf(running)).not.toContain('vm:approve');
    expect(cardText(running)).toContain(`Approved by <@${ADMIN1}>`);
    // One card, edited in place.
    expect(w.double.messagesIn(ADMIN_CHANNEL).filter((m) => cardText(m).includes('VM request: web-1'))).toHaveLength(1);
    expect(w.double.callsTo('chat.update').length).toBeGreaterThan(0);

    // /vm ip by the owner answers with the address (through the response_url).
    await w.double.slashCommand({ user: MEMBER, text: 'ip web-1' });
    const reply = await w.double.waitFor(() => w.double.ephemeralsFor(MEMBER).find((m) => m.text.includes(address)), 5_000, 'the /vm ip reply');
    expect(reply.text).toContain(`ssh alice@${address}`);
  });
});
