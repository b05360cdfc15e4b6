// DESIGN §4 on Slack, against forged inputs: a button whose value names someone else's request,
// and a Deny form submitted by someone who was never shown it. The adapter hands both to the
// workflow with the presser's Actor; the workflow refuses, tells only the presser, and audits.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN1, MEMBER, OTHER, buttonsOf, startSlackWorld, type SlackWorld } from '../chat/slack/world.js';
import type { StoredMessage } from '../../support/slack-double.js';

type Json = Record<string, unknown>;

/** The same message with every button's value replaced: what a forged payload would carry. */
function withButtonValue(message: StoredMessage, value: string): StoredMessage {
  const blocks = message.blocks.map((b: Json) =>
    b['type'] === 'actions' ? { ...b, elements: (b['elements'] as Json[]).map((e) => ({ ...e, value })) } : b,
  );
  return { ...message, blocks } as StoredMessage;
}

describe('security: forged Slack inputs are refused by the workflow and audited', () => {
  let w: SlackWorld;
  beforeAll(async () => {
    w = await startSlackWorld({ mode: 'http' });
  });
  afterAll(async () => {
    await w?.close();
  });

  async function running(user: string, name: string): Promise<string> {
    await w.request(user, { name });
    const card = await w.card(name, (m) => buttonsOf(m).includes('vm:approve'));
    await w.double.pressButton({ user: ADMIN1, message: card, actionId: 'vm:approve' });
    await w.reach(name, 'running');
    return w.requestId(name);
  }

  it('a Delete button whose value names another member’s VM deletes nothing', async () => {
    const victim = await running(MEMBER, 'sec-victim');
    await running(OTHER, 'sec-own');

    const before = w.double.ephemeralsFor(OTHER).length;
    await w.double.slashCommand({ user: OTHER, text: 'delete sec-own' });
    const offer = await w.double.waitFor(() => w.double.ephemeralsFor(OTHER).slice(before).find((m) => buttonsOf(m).includes('vm:delete')), 5_000, 'the delete offer');
    const answered = w.double.responseUrlPosts.length;
    await w.double.pressButton({ user: OTHER, message: withButtonValue(offer, victim), actionId: 'vm:delete', confirmed: true });

    const refusal = await w.double.waitFor(() => w.double.responseUrlPosts.slice(answered).find((p) => p.user === OTHER), 5_000, 'the refusal');
    expect(JSON.stringify(refusal.body)).toContain('forbidden');
    const audit = await w.h.core.store.audit.list({ requestId: victim });
    expect(audit.some((a) => a.action === 'delete_refused' && a.actor.platform === 'slack' && a.actor.userId === OTHER)).toBe(true);
    expect((await w.h.core.store.requests.get(victim))?.state).toBe('running');
    expect((await w.h.core.store.requests.get(await w.requestId('sec-own')))?.state).toBe('running');
  });

  it('a Deny form submitted by a member (never shown to them) is refused inline and audited', async () => {
    await w.request(MEMBER, { name: 'sec-pend' });
    const id = await w.requestId('sec-pend');
    const card = await w.card('sec-pend', (m) => buttonsOf(m).includes('vm:deny'));
    await w.double.pressButton({ user: ADMIN1, message: card, actionId: 'vm:deny' });
    const modal = await w.double.waitFor(() => w.double.lastViewFor(ADMIN1), 5_000, 'the deny modal');
    expect(modal.view['callback_id']).toBe('vm:deny');

    const forged = await w.double.submitView({ user: OTHER, view: { ...modal, user: OTHER }, values: { reason: 'I say no' } });
    expect(forged.body).toMatchObject({ response_action: 'errors', errors: { reason: expect.stringContaining('Only vmbot admins') } });
    const audit = await w.h.core.store.audit.list({ requestId: id });
    expect(audit.some((a) => a.action === 'deny_refused' && a.actor.userId === OTHER)).toBe(true);
    expect((await w.h.core.store.requests.get(id))?.state).toBe('pending');

    // A form whose private_metadata is not ours is refused without touching anything.
    const garbled = await w.double.submitView({ user: ADMIN1, view: { ...modal, view: { ...modal.view, private_metadata: 'not json' } }, values: { reason: 'no' } });
    expect(garbled.body).toMatchObject({ response_action: 'errors' });
    expect((await w.h.core.store.requests.get(id))?.state).toBe('pending');
  });
});
