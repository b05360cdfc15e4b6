// Admin decisions from the card against the real workflow: deny with a reason (inert mentions),
// refusals for non-admins (ephemeral + audited), two admins at once, cancel and delete.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buttonIds, messageText } from '../../../support/discord-double.js';
import { ALICE, CAROL_ADMIN, DAVE_ADMIN, EVE, startWorld, type World } from './world.js';

const EPHEMERAL = 64;
const flagsOf = (data: unknown) => Number((data as { flags?: number } | undefined)?.flags ?? 0);

describe('discord: decisions on the admin card', () => {
  let w: World;
  beforeAll(async () => {
    w = await startWorld({ harness: { sim: { startDelayMs: 20, chunkDelayMs: 5 } } });
  });
  afterAll(async () => {
    await w?.close();
  });

  it('denies with a reason from a modal; @everyone and role mentions in it stay inert', async () => {
    const { double } = w;
    const { requestId, where } = await w.request(ALICE, 'deny-me');
    const press = double.pressButton(CAROL_ADMIN, where, `vm:deny:${requestId}`);
    expect((await press.response()).type).toBe(9);
    const reason = 'no GPU here @everyone <@&200000000000000011> @here';
    const submit = double.submitModal(CAROL_ADMIN, press, { deny_reason: reason });
    expect((await submit.response()).type).toBe(6);

    const card = await double.waitFor(() => {
      const m = double.message(where.channelId, where.messageId)!;
      return messageText(m).includes('Denied by') && m;
    }, { what: 'the card showing the denial' });
    expect(buttonIds(card)).toEqual([]);
    expect(messageText(card)).toContain(`Denied by <@${CAROL_ADMIN}>`);
    expect(messageText(card)).not.toContain('@everyone');
    expect(messageText(card)).not.toContain('<@&');

    const dm = await double.waitFor(() => double.dmsTo(ALICE).find((m) => m.content.includes('was denied')), { what: 'the denial DM' });
    expect(dm.allowed_mentions).toEqual({ parse: [] });
    expect(dm.pinged).toEqual({ users: [], roles: [], everyone: false });
    expect(dm.content).toContain('no GPU here');
    expect(dm.content).not.toMatch(/@everyone|@here|<@&/);
    expect((await w.h.core.store.requests.get(requestId))?.state).toBe('denied');
  });

  it('refuses Approve from a non-admin ephemerally, audits it, and leaves the card as it was', async () => {
    const { double } = w;
    const { requestId, where, card } = await w.request(ALICE, 'not-yours');
    const edits = double.message(where.channelId, where.messageId)!.edits;
    const press = double.pressButton(EVE, where, `vm:approve:${requestId}`);
    const cb = await press.response();
    expect([4, 5, 6]).toContain(cb.type); // answered at once, or deferred when the machine is slow
    if (cb.type !== 6) expect(flagsOf(cb.data) & EPHEMERAL).toBe(EPHEMERAL);
    expect((await press.ephemeralText())).toContain('Only vmbot admins can approve');
    const audit = await w.h.core.store.audit.list({ requestId });
    expect(audit.some((a) => a.action === 'approve_refused' && a.actor.userId === EVE && a.actor.platform === 'discord')).toBe(true);
    expect((await w.h.core.store.requests.get(requestId))?.state).toBe('pending');
    expect(double.message(where.channelId, where.messageId)!.edits).toBe(edits);
    expect(buttonIds(double.message(where.channelId, where.messageId)!)).toEqual(buttonIds(card));

    // The requester cannot approve their own request either (and is an ordinary member anyway).
    const own = double.pressButton(ALICE, where, `vm:approve:${requestId}`);
    await own.response();
    expect((await own.ephemeralText())).toContain('Only vmbot admins');
  });

  it('two admins pressing Approve at once make exactly one approval and one job', async () => {
    const { double, h } = w;
    const { requestId, where } = await w.request(ALICE, 'race1');
    const a = double.pressButton(CAROL_ADMIN, where, `vm:approve:${requestId}`);
    const b = double.pressButton(DAVE_ADMIN, where, `vm:approve:${requestId}`);
    await Promise.all([a.response(), b.response()]);
    // One press approves (a silent ack: the card changes); the other is told, privately, that
    // the request was already approved.
    const told = await double.waitFor(() => {
      const texts = [a, b].map((x) => x.ephemeralTexts().filter((t) => t.length > 0));
      return texts.some((t) => t.length > 0) && texts;
    }, { what: 'the second admin told' });
    expect(told.map((t) => t.length).sort()).toEqual([0, 1]);
    expect(told.flat()[0]).toMatch(/already/i);
    const audit = await h.core.store.audit.list({ requestId });
    expect(audit.filter((x) => x.action === 'approve')).toHaveLength(1);
    const jobs = await h.waitFor(async () => {
      const all = await h.core.nomad.listJobs();
      return all.some((j) => j.id === 'uservm-race1') && all;
    }, { what: 'the job of race1' });
    expect(jobs.filter((j) => j.id === 'uservm-race1')).toHaveLength(1);
  });

  it('cancel from /vm cancel by the requester; the card loses its buttons and says who cancelled', async () => {
    const { double, h } = w;
    const { requestId, where } = await w.request(ALICE, 'cancel-me');
    const byEve = double.slashCommand(EVE, 'cancel', { name: 'cancel-me' });
    await byEve.response();
    expect((await byEve.ephemeralText())).toContain('Only the member who asked');
    const i = double.slashCommand(ALICE, 'cancel', { name: 'cancel-me' });
    const cb = await i.response();
    if (cb.type !== 6) expect(flagsOf(cb.data) & EPHEMERAL).toBe(EPHEMERAL);
    expect((await i.ephemeralText())).toContain('cancelled');
    expect((await h.core.store.requests.get(requestId))?.state).toBe('cancelled');
    const card = await double.waitFor(() => {
      const m = double.message(where.channelId, where.messageId)!;
      return buttonIds(m).length === 0 && m;
    }, { what: 'the cancelled card without buttons' });
    expect(messageText(card)).toContain(`Cancelled by <@${ALICE}>`);
  });

  it('delete by the owner with /vm delete and a confirmation; refused for another member', async () => {
    const { double, h } = w;
    const { requestId, where } = await w.request(ALICE, 'del1');
    await double.pressButton(CAROL_ADMIN, where, `vm:approve:${requestId}`).response();
    await h.waitFor(async () => (await h.core.store.requests.get(requestId))?.state === 'running', { what: 'del1 running', timeoutMs: 20_000 });

    const byEve = double.slashCommand(EVE, 'delete', { name: 'del1' });
    await byEve.response();
    expect((await byEve.ephemeralText())).toContain('is not your VM: you can only delete your own VMs');
    expect(byEve.original!.components).toEqual([]);
    expect((await h.core.store.requests.get(requestId))?.state).toBe('running');
    // Refused as a delete (not as a status look-up), before any confirmation was offered.
    expect((await h.core.store.audit.list({ requestId })).some((a) => a.action === 'delete_refused' && a.actor.userId === EVE)).toBe(true);

    // The owner is asked to confirm; the deletion starts on the press.
    const i = double.slashCommand(ALICE, 'delete', { name: 'del1' });
    await i.response();
    expect((await i.ephemeralText())).toContain('Delete VM **del1**?');
    expect((await h.core.store.requests.get(requestId))?.state).toBe('running');
    const confirm = double.pressButton(ALICE, { ephemeralOf: i }, `vm:delete-confirm:${requestId}`);
    expect((await confirm.response()).type).toBe(7);
    expect(i.original!.content).toContain('is being deleted');
    expect(i.original!.components).toEqual([]);
    await h.waitFor(async () => (await h.core.store.requests.get(requestId))?.state === 'deleted', { what: 'del1 deleted', timeoutMs: 20_000 });
    await double.waitFor(() => double.dmsTo(ALICE).find((m) => m.content.includes('del1') && m.content.includes('was deleted')), { what: 'the deleted DM' });
  });
});

describe('discord: a failed VM on the card', () => {
  let w: World;
  beforeAll(async () => {
    w = await startWorld({ harness: { sim: { startDelayMs: 20, chunkDelayMs: 5 } } });
  });
  afterAll(async () => {
    await w?.close();
  });

  it('shows the failure with Retry; Retry by an admin brings the VM up, Retry by a member is refused', async () => {
    const { double, h } = w;
    const { requestId, where } = await w.request(ALICE, 'flaky1');
    h.sim.control.failNextTask();
    await double.pressButton(CAROL_ADMIN, where, `vm:approve:${requestId}`).response();
    const failed = await double.waitFor(() => {
      const m = double.message(where.channelId, where.messageId)!;
      return buttonIds(m).includes(`vm:retry:${requestId}`) && m;
    }, { what: 'the card with Retry', timeoutMs: 20_000 });
    expect(messageText(failed)).toContain('Failed (');
    expect(buttonIds(failed)).toEqual([`vm:retry:${requestId}`, `vm:delete:${requestId}`]);

    const byAlice = double.pressButton(ALICE, where, `vm:retry:${requestId}`);
    expect([4, 6]).toContain((await byAlice.response()).type);
    expect((await byAlice.ephemeralText())).toContain('Only vmbot admins can retry');

    const retry = double.pressButton(DAVE_ADMIN, where, `vm:retry:${requestId}`);
    expect((await retry.response()).type).toBe(6);
    await double.waitFor(() => double.dmsTo(ALICE).find((m) => m.content.includes('flaky1') && m.content.includes('is up')), { what: 'flaky1 up after Retry', timeoutMs: 20_000 });
    const card = await double.waitFor(() => {
      const m = double.message(where.channelId, where.messageId)!;
      return !buttonIds(m).includes(`vm:retry:${requestId}`) && messageText(m).includes('ssh alice@') && m;
    }, { what: 'the card without Retry, with the address' });
    expect(buttonIds(card)).toEqual([`vm:delete:${requestId}`]);
  });
});
