// DESIGN §4 on Discord: every button press is decided by the workflow with the presser's
// Actor, and a refusal reaches only the presser (ephemeral) and leaves an audit row. Here:
// the admin card's Delete button pressed by a member who neither owns the VM nor is an admin.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buttonIds } from '../../support/discord-double.js';
import { ALICE, CAROL_ADMIN, EVE, startWorld, type World } from '../chat/discord/world.js';

describe('security: Discord buttons are authorized on the first press', () => {
  let w: World;
  beforeAll(async () => {
    w = await startWorld({ harness: { sim: { startDelayMs: 20, chunkDelayMs: 5 } } });
  });
  afterAll(async () => {
    await w?.close();
  });

  it('Delete on the card by another member is refused and audited; no confirmation is offered', async () => {
    const { double } = w;
    const { requestId, where } = await w.request(ALICE, 'sec-del');
    await double.pressButton(CAROL_ADMIN, where, `vm:approve:${requestId}`).response();
    await double.waitFor(() => buttonIds(double.message(where.channelId, where.messageId)!).includes(`vm:delete:${requestId}`), { what: 'the Delete button on the card' });

    const byEve = double.pressButton(EVE, where, `vm:delete:${requestId}`);
    const text = await byEve.ephemeralText();
    expect(text).toContain('not your VM');
    const offered = [byEve.original, ...byEve.followups].flatMap((m) => (m ? buttonIds(m) : []));
    expect(offered).not.toContain(`vm:delete-confirm:${requestId}`);
    const audit = await w.h.core.store.audit.list({ requestId });
    expect(audit.some((a) => a.action.endsWith('_refused') && a.actor.platform === 'discord' && a.actor.userId === EVE)).toBe(true);

    // The owner still gets the confirmation.
    const byAlice = double.pressButton(ALICE, where, `vm:delete:${requestId}`);
    expect(await byAlice.ephemeralText()).toContain('Delete VM **sec-del**?');
    expect([byAlice.original, ...byAlice.followups].flatMap((m) => (m ? buttonIds(m) : []))).toContain(`vm:delete-confirm:${requestId}`);
    expect(['approved', 'provisioning', 'running']).toContain((await w.h.core.store.requests.get(requestId))?.state);
  });

  it('a confirmation button forged to name another member’s request deletes nothing', async () => {
    const { double } = w;
    const target = await w.request(ALICE, 'alice-pend');
    // Eve's own VM, approved, so that /vm delete offers her the confirmation to forge.
    const own = await w.request(EVE, 'eve-own');
    await double.pressButton(CAROL_ADMIN, own.where, `vm:approve:${own.requestId}`).response();
    await w.h.inState(own.requestId, 'running');
    const offer = double.slashCommand(EVE, 'delete', { name: 'eve-own' });
    expect(await offer.ephemeralText()).toContain('Delete VM **eve-own**?');
    // What a forged interaction would carry: the custom_id of Alice's request.
    const row = offer.original!.components[0] as { components: Array<{ custom_id: string }> };
    row.components[0]!.custom_id = `vm:delete-confirm:${target.requestId}`;
    const forged = double.pressButton(EVE, { ephemeralOf: offer }, `vm:delete-confirm:${target.requestId}`);
    await forged.response();
    await double.waitFor(() => offer.original!.content.includes('only delete your own'), { what: 'the refusal in place of the offer' });
    const audit = await w.h.core.store.audit.list({ requestId: target.requestId });
    expect(audit.some((a) => a.action === 'delete_refused' && a.actor.userId === EVE)).toBe(true);
    expect((await w.h.core.store.requests.get(target.requestId))?.state).toBe('pending');
  });
});

