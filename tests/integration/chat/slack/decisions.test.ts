// Admin decisions and member commands over HTTP mode: deny with a reason, cancel, delete
// with confirmation, who may see an address, refusals, and two admins at once.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN1, ADMIN2, ADMIN_CHANNEL, GROUP_ADMIN, MEMBER, OTHER, buttonsOf, cardText, startSlackWorld, type SlackWorld } from './world.js';

describe('Slack (HTTP mode): decisions and commands', () => {
  let w: SlackWorld;
  beforeAll(async () => {
    w = await startSlackWorld({ mode: 'http' });
  });
  afterAll(async () => {
    await w.close();
  });

  const pendingCard = (name: string) => w.card(name, (m) => buttonsOf(m).includes('vm:approve'), `${name} pending`);

  it('deny asks for a reason, DMs it to the member inertly, and the card shows who denied', async () => {
    await w.request(MEMBER, { name: 'deny-me' });
    const card = await pendingCard('deny-me');
    await w.double.pressButton({ user: ADMIN1, message: card, actionId: 'vm:deny' });
    const modal = await w.double.waitFor(() => w.double.lastViewFor(ADMIN1), 5_000, 'the deny modal');
    expect(modal.view['callback_id']).toBe('vm:deny');

    // An empty reason comes back inline; nothing changes.
    const empty = await w.double.submitView({ user: ADMIN1, view: modal, values: { reason: '   ' } });
    expect(empty.body).toMatchObject({ response_action: 'errors', errors: { reason: expect.stringContaining('reason') } });
    expect((await w.h.core.store.requests.get(await w.requestId('deny-me')))?.state).toBe('pending');

    const hostile = 'Not now <!channel> — see <https://evil.example|click here>';
    const done = await w.double.submitView({ user: ADMIN1, view: modal, values: { reason: hostile } });
    expect(done).toEqual({ status: 200, body: '' });

    const dm = await w.double.waitFor(() => w.double.dmsTo(MEMBER).find((m) => m.text.includes('denied')), 5_000, 'the denial DM');
    const shown = dm.text + JSON.stringify(dm.blocks);
    expect(shown).not.toContain('<!channel>');
    expect(shown).not.toContain('<https://evil');
    expect(shown).toContain('&lt;!channel&gt;');
    expect(shown).toContain('&lt;https://evil.example|click here&gt;');

    const decided = await w.card('deny-me', (m) => cardText(m).includes('Denied by'), 'the denied card');
    expect(buttonsOf(decided)).toEqual([]);
    expect(cardText(decided)).not.toContain('<!channel>');
  });

  it('a member who is not an admin gets an ephemeral refusal, and the refusal is audited', async () => {
    await w.request(MEMBER, { name: 'not-yours' });
    const card = await pendingCard('not-yours');
    const id = await w.requestId('not-yours');
    await w.double.pressButton({ user: OTHER, message: card, actionId: 'vm:approve' });
    const refusal = await w.double.waitFor(() => w.double.ephemeralsFor(OTHER).find((m) => m.text.includes('forbidden')), 5_000, 'the ephemeral refusal');
    expect(refusal.channel).toBe(ADMIN_CHANNEL);
    expect((await w.h.core.store.requests.get(id))?.state).toBe('pending');
    const audit = await w.h.core.store.audit.list({ requestId: id });
    expect(audit.some((a) => a.actor.userId === OTHER && /refus/.test(a.action))).toBe(true);

    // Deny by a non-admin is refused before any modal opens.
    const views = w.double.views.length;
    await w.double.pressButton({ user: OTHER, message: card, actionId: 'vm:deny' });
    await w.double.waitFor(() => w.double.ephemeralsFor(OTHER).length >= 2, 5_000, 'the second refusal');
    expect(w.double.views.length).toBe(views);
  });

  it('two admins pressing Approve at once make one decision and one job', async () => {
    await w.request(MEMBER, { name: 'race-1' });
    const card = await pendingCard('race-1');
    const id = await w.requestId('race-1');
    const [a, b] = await Promise.all([
      w.double.pressButton({ user: ADMIN1, message: card, actionId: 'vm:approve' }),
      w.double.pressButton({ user: ADMIN2, message: card, actionId: 'vm:approve' }),
    ]);
    expect([a.status, b.status]).toEqual([200, 200]);
    await w.h.waitFor(async () => (await w.h.core.store.requests.get(id))?.state === 'running', { what: 'race-1 running', timeoutMs: 8_000 });
    const audit = await w.h.core.store.audit.list({ requestId: id });
    expect(audit.filter((r) => r.action === 'approve')).toHaveLength(1);
    const req = await w.h.core.store.requests.get(id);
    expect(w.h.sim.control.registrations(req!.jobId!)).toBe(1);
    // The loser is told, privately, that the request was already decided.
    await w.double.waitFor(() => [ADMIN1, ADMIN2].some((u) => w.double.ephemeralsFor(u).length > 0), 5_000, 'the loser\'s notice');
  });

  it('/vm ip answers the owner and an admin, and refuses someone else', async () => {
    const id = await w.requestId('race-1');
    const vm = await w.h.core.store.requests.get(id);
    const address = vm!.address!.ipv4!;
    await w.double.slashCommand({ user: MEMBER, text: 'ip race-1' });
    await w.double.waitFor(() => w.double.ephemeralsFor(MEMBER).find((m) => m.text.includes(address)), 5_000, 'owner reply');
    await w.double.slashCommand({ user: ADMIN2, text: 'ip race-1' });
    await w.double.waitFor(() => w.double.ephemeralsFor(ADMIN2).find((m) => m.text.includes(address)), 5_000, 'admin reply');
    const before = w.double.ephemeralsFor(OTHER).length;
    await w.double.slashCommand({ user: OTHER, text: 'ip race-1' });
    const refused = await w.double.waitFor(() => w.double.ephemeralsFor(OTHER).slice(before)[0], 5_000, 'refusal');
    expect(refused.text).not.toContain(address);
    expect(refused.text).toMatch(/forbidden|not_found/);
  });

  it('delete from the card needs a confirmation, then the VM goes and the member is told', async () => {
    const card = await w.card('race-1', (m) => buttonsOf(m).includes('vm:delete'), 'race-1 with Delete');
    expect(() => w.double.pressButton({ user: ADMIN1, message: card, actionId: 'vm:delete' })).toThrow(/confirmation/);
    await w.double.pressButton({ user: ADMIN1, message: card, actionId: 'vm:delete', confirmed: true });
    const id = await w.requestId('race-1');
    await w.h.waitFor(async () => (await w.h.core.store.requests.get(id))?.state === 'deleted', { what: 'race-1 deleted', timeoutMs: 8_000 });
    await w.double.waitFor(() => w.double.dmsTo(MEMBER).find((m) => m.text.includes('race-1') && m.text.includes('deleted')), 5_000, 'the deleted DM');
  });

  it('/vm delete by the owner offers a confirmed Delete button in an ephemeral message', async () => {
    await w.request(MEMBER, { name: 'mine-1' });
    const card = await pendingCard('mine-1');
    await w.double.pressButton({ user: GROUP_ADMIN, message: card, actionId: 'vm:approve' });
    const id = await w.requestId('mine-1');
    await w.h.waitFor(async () => (await w.h.core.store.requests.get(id))?.state === 'running', { what: 'mine-1 running (approved by a user-group admin)', timeoutMs: 8_000 });

    const before = w.double.ephemeralsFor(MEMBER).length;
    await w.double.slashCommand({ user: MEMBER, text: 'delete mine-1' });
    const offer = await w.double.waitFor(() => w.double.ephemeralsFor(MEMBER).slice(before).find((m) => buttonsOf(m).includes('vm:delete')), 5_000, 'the delete offer');
    // Nothing is deleted until the confirmed press.
    expect((await w.h.core.store.requests.get(id))?.state).toBe('running');
    await w.double.pressButton({ user: MEMBER, message: offer, actionId: 'vm:delete', confirmed: true });
    await w.h.waitFor(async () => (await w.h.core.store.requests.get(id))?.state === 'deleted', { what: 'mine-1 deleted', timeoutMs: 8_000 });
  });

  it('/vm cancel withdraws a pending request; the card loses its buttons', async () => {
    await w.request(MEMBER, { name: 'cancel-me' });
    await pendingCard('cancel-me');
    await w.double.slashCommand({ user: MEMBER, text: 'cancel cancel-me' });
    await w.double.waitFor(() => w.double.ephemeralsFor(MEMBER).find((m) => m.text.includes('cancelled')), 5_000, 'the cancel reply');
    const card = await w.card('cancel-me', (m) => buttonsOf(m).length === 0, 'the cancelled card');
    expect(cardText(card)).toContain('Cancelled by');
    expect((await w.h.core.store.requests.get(await w.requestId('cancel-me')))?.state).toBe('cancelled');
  });

  it('/vm list and unknown commands answer only the caller', async () => {
    await w.double.slashCommand({ user: MEMBER, text: 'list' });
    await w.double.waitFor(() => w.double.ephemeralsFor(MEMBER).find((m) => m.text.startsWith('Your VMs')), 5_000, 'list reply');
    await w.double.slashCommand({ user: MEMBER, text: 'frobnicate' });
    const help = await w.double.waitFor(() => w.double.ephemeralsFor(MEMBER).find((m) => m.text.includes('Unknown command')), 5_000, 'help reply');
    expect(help.text).toContain('/vm request');
  });
});
