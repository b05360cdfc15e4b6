// Slack in HTTP mode against the double (signed requests) and the harness: the request →
// approve → address flow, admin decisions and member commands, and what Slack's transport can
// throw at the app (re-deliveries, forged or stale signatures, invalid form input).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN1, ADMIN2, ADMIN_CHANNEL, GROUP_ADMIN, MEMBER, OTHER, buttonsOf, cardText, startSlackWorld, type SlackWorld } from './world.js';

describe('Slack (HTTP mode)', () => {
  let w: SlackWorld;
  beforeAll(async () => {
    w = await startSlackWorld({ mode: 'http' });
  });
  afterAll(async () => {
    await w.close();
  });

  const pendingCard = (name: string) => w.card(name, (m) => buttonsOf(m).includes('vm:approve'), `${name} pending`);
  const count = async () => (await w.h.core.store.requests.list()).length;

  it('opens the modal, posts the card, provisions on approval, DMs the address and updates the card', async () => {
    const submitted = await w.request(MEMBER, { name: 'web-1', reason: 'Thesis <!channel> <https://evil.example|free stuff> & more' });
    expect(submitted).toEqual({ status: 200, body: '' });

    const pending = await w.card('web-1', (m) => buttonsOf(m).includes('vm:approve'));
    expect(buttonsOf(pending)).toEqual(['vm:approve', 'vm:deny']);
    expect(cardText(pending)).toContain(`<@${MEMBER}>`);
    // The member's reason is shown, inert: no channel ping, no disguised link.
    expect(cardText(pending)).toContain('Thesis &lt;!channel&gt; &lt;https://evil.example|free stuff&gt; &amp; more');
    expect(cardText(pending) + pending.text).not.toMatch(/<!channel>|<https:\/\/evil/);
    // The requester is told the request went to the admins.
    await w.double.waitFor(() => w.double.dmsTo(MEMBER).length > 0, 5_000, 'the "requested" DM');

    const press = await w.double.pressButton({ user: ADMIN1, message: pending, actionId: 'vm:approve' });
    expect(press.status).toBe(200);
    await w.reach('web-1', 'running');

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
    await w.reach('race-1', 'running');
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
    const mine = w.double.ephemeralsFor(MEMBER).length;
    await w.double.slashCommand({ user: MEMBER, text: 'ip race-1' });
    await w.double.waitFor(() => w.double.ephemeralsFor(MEMBER).slice(mine).find((m) => m.text.includes(`\`${address}\``)), 5_000, 'owner reply');
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
    await w.reach('race-1', 'deleted');
    await w.double.waitFor(() => w.double.dmsTo(MEMBER).find((m) => m.text.includes('race-1') && m.text.includes('deleted')), 5_000, 'the deleted DM');
  });

  it('/vm delete by the owner offers a confirmed Delete button in an ephemeral message', async () => {
    await w.request(MEMBER, { name: 'mine-1' });
    const card = await pendingCard('mine-1');
    await w.double.pressButton({ user: GROUP_ADMIN, message: card, actionId: 'vm:approve' });
    const id = await w.requestId('mine-1');
    await w.reach('mine-1', 'running');

    const before = w.double.ephemeralsFor(MEMBER).length;
    await w.double.slashCommand({ user: MEMBER, text: 'delete mine-1' });
    const offer = await w.double.waitFor(() => w.double.ephemeralsFor(MEMBER).slice(before).find((m) => buttonsOf(m).includes('vm:delete')), 5_000, 'the delete offer');
    // Nothing is deleted until the confirmed press.
    expect((await w.h.core.store.requests.get(id))?.state).toBe('running');
    await w.double.pressButton({ user: MEMBER, message: offer, actionId: 'vm:delete', confirmed: true });
    await w.reach('mine-1', 'deleted');
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

  it('refuses a forged signature and a timestamp older than 5 minutes with 401, storing nothing', async () => {
    const before = await count();
    const opened = w.double.callsTo('views.open').length;
    const forged = await w.double.slashCommand({ user: MEMBER, text: 'request' }, { badSignature: true });
    expect(forged.status).toBe(401);
    const stale = await w.double.slashCommand({ user: MEMBER, text: 'request' }, { timestampSkewSeconds: -6 * 60 });
    expect(stale.status).toBe(401);
    expect(w.double.callsTo('views.open')).toHaveLength(opened);

    // A forged view submission with a valid-looking payload stores nothing either.
    const ok = await w.double.slashCommand({ user: MEMBER, text: 'request' });
    expect(ok.status).toBe(200);
    const view = await w.double.waitFor(() => w.double.lastViewFor(MEMBER), 5_000, 'modal');
    const body = new URLSearchParams({ payload: JSON.stringify({ type: 'view_submission', user: { id: MEMBER }, view: { ...view.view, id: view.id, state: { values: {} } } }) }).toString();
    const forgedSubmit = await w.double.postSigned(w.adapter.url!, body, { badSignature: true });
    expect(forgedSubmit.status).toBe(401);
    expect(await count()).toBe(before);
  });

  it('refuses a timestamp more than 5 minutes ahead with 401 (Bolt checks only the past); a small skew ahead is fine', async () => {
    const opened = w.double.callsTo('views.open').length;
    const replies = w.double.ephemeralsFor(MEMBER).length;
    const future = await w.double.slashCommand({ user: MEMBER, text: 'request' }, { timestampSkewSeconds: 6 * 60 });
    expect(future.status).toBe(401);
    // A clock a minute ahead is within Slack's window: answered.
    const ahead = await w.double.slashCommand({ user: MEMBER, text: 'list' }, { timestampSkewSeconds: 60 });
    expect(ahead.status).toBe(200);
    await w.double.waitFor(() => w.double.ephemeralsFor(MEMBER).slice(replies)[0], 5_000, 'the /vm list reply');
    // The app handles deliveries in order: the refused one opened no modal.
    expect(w.double.callsTo('views.open')).toHaveLength(opened);
  });

  it('refuses the same signed request posted again with 401 and acts once', async () => {
    // A slash command: one modal, not two.
    const opened = w.double.callsTo('views.open').length;
    expect((await w.double.slashCommand({ user: MEMBER, text: 'request' })).status).toBe(200);
    const command = w.double.signedPosts.at(-1)!;
    await w.double.waitFor(() => w.double.callsTo('views.open').length > opened, 5_000, 'the modal');
    const replayed = await w.double.postSigned(command.url, command.body, { timestamp: command.timestamp });
    expect(replayed.status).toBe(401);
    expect(w.double.signedPosts.at(-1)!.signature).toBe(command.signature);

    // A form submission: one request stored, not two.
    const submitted = await w.request(MEMBER, { name: 'replay-1' });
    expect(submitted).toEqual({ status: 200, body: '' });
    const submission = w.double.signedPosts.at(-1)!;
    const stored = await count();
    const again = await w.double.postSigned(submission.url, submission.body, { timestamp: submission.timestamp });
    expect(again.status).toBe(401);

    // A later first delivery is answered, so the refused ones were not merely slow.
    const replies = w.double.ephemeralsFor(MEMBER).length;
    await w.double.slashCommand({ user: MEMBER, text: 'list' });
    await w.double.waitFor(() => w.double.ephemeralsFor(MEMBER).slice(replies)[0], 5_000, 'the /vm list reply');
    expect(w.double.callsTo('views.open')).toHaveLength(opened + 2);
    expect(await count()).toBe(stored);
    expect((await w.h.core.store.requests.list()).filter((r) => r.name === 'replay-1')).toHaveLength(1);
  });

  it('a re-delivery (X-Slack-Retry-Num) of a request already seen is still acked with 200 and dropped', async () => {
    const opened = w.double.callsTo('views.open').length;
    expect((await w.double.slashCommand({ user: MEMBER, text: 'request' })).status).toBe(200);
    const first = w.double.signedPosts.at(-1)!;
    await w.double.waitFor(() => w.double.callsTo('views.open').length > opened, 5_000, 'the modal');
    // Slack's retry of the very same signed request: not a replay to refuse, a re-delivery to drop.
    const retried = await w.double.postSigned(first.url, first.body, { timestamp: first.timestamp, retryNum: 1 });
    expect(retried).toEqual({ status: 200, body: '' });
    const replies = w.double.ephemeralsFor(MEMBER).length;
    await w.double.slashCommand({ user: MEMBER, text: 'list' });
    await w.double.waitFor(() => w.double.ephemeralsFor(MEMBER).slice(replies)[0], 5_000, 'the /vm list reply');
    expect(w.double.callsTo('views.open')).toHaveLength(opened + 1);
  });

  it('answers a body over Bolt\'s 4 MiB limit with 413, and keeps answering', async () => {
    const big = await w.double.postSigned(w.adapter.url!, `command=%2Fvm&text=${'x'.repeat(4 * 1024 * 1024 + 1)}`);
    expect(big.status).toBe(413);
    const replies = w.double.ephemeralsFor(MEMBER).length;
    expect((await w.double.slashCommand({ user: MEMBER, text: 'list' })).status).toBe(200);
    await w.double.waitFor(() => w.double.ephemeralsFor(MEMBER).slice(replies)[0], 5_000, 'the /vm list reply');
  });

  it('answers invalid modal input inline (response_action: errors) and stores nothing', async () => {
    const before = await count();
    const res = await w.request(MEMBER, { name: 'Bad_Name!', sshKeys: '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----', login: 'root' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ response_action: 'errors' });
    const errors = (res.body as { errors: Record<string, string> }).errors;
    expect(Object.keys(errors)).toEqual(expect.arrayContaining(['name', 'sshKeys']));
    // Keys are block ids of the modal's input blocks, as Slack requires.
    for (const key of Object.keys(errors)) expect(['name', 'distro', 'size', 'login', 'sshKeys', 'reason']).toContain(key);
    expect(await count()).toBe(before);
  });

  it('a re-delivered button press or command (X-Slack-Retry-Num) changes nothing', async () => {
    await w.request(MEMBER, { name: 'retry-1' });
    const card = await pendingCard('retry-1');
    const id = await w.requestId('retry-1');
    const audit = (await w.h.core.store.audit.list({ requestId: id })).length;
    const updates = w.double.callsTo('chat.update').length;
    const opened = w.double.callsTo('views.open').length;
    const replies = w.double.ephemeralsFor(MEMBER).length;

    const redelivered = await w.double.pressButton({ user: ADMIN1, message: card, actionId: 'vm:approve' }, { retryNum: 1 });
    expect(redelivered.status).toBe(200);
    const redeliveredCommand = await w.double.slashCommand({ user: MEMBER, text: 'request' }, { retryNum: 2 });
    expect(redeliveredCommand.status).toBe(200);
    // A later first delivery is answered: the app was listening, and handles events in order.
    await w.double.slashCommand({ user: MEMBER, text: 'list' });
    await w.double.waitFor(() => w.double.ephemeralsFor(MEMBER).slice(replies).find((m) => m.text.includes('Your VMs')), 5_000, 'list reply');

    // The re-deliveries were acked and dropped: still pending, no audit row, no card update, no modal.
    expect(w.double.callsTo('views.open').length).toBe(opened);
    expect((await w.h.core.store.requests.get(id))?.state).toBe('pending');
    expect((await w.h.core.store.audit.list({ requestId: id })).length).toBe(audit);
    expect(w.double.callsTo('chat.update').length).toBe(updates);
  });

  it('tells the member to try again when the form could not open in time (expired trigger_id)', async () => {
    const replies = w.double.ephemeralsFor(MEMBER).length;
    w.double.triggerTtlMs = -1;
    try {
      await w.double.slashCommand({ user: MEMBER, text: 'request' });
      const answer = await w.double.waitFor(() => w.double.ephemeralsFor(MEMBER).slice(replies)[0], 5_000, 'the retry hint');
      expect(answer.text).toContain('/vm request');
      expect(w.double.callsTo('views.open').at(-1)!.response['error']).toBe('expired_trigger_id');
    } finally {
      w.double.triggerTtlMs = 3_000;
    }
  });
});
