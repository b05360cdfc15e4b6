// What Slack's transport can throw at the app: re-deliveries, forged or stale signatures,
// invalid form input. None of them may store or change anything.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN1, MEMBER, buttonsOf, startSlackWorld, type SlackWorld } from './world.js';

describe('Slack (HTTP mode): transport safety', () => {
  let w: SlackWorld;
  beforeAll(async () => {
    w = await startSlackWorld({ mode: 'http' });
  });
  afterAll(async () => {
    await w.close();
  });

  const count = async () => (await w.h.core.store.requests.list()).length;

  it('refuses a forged signature and a timestamp older than 5 minutes with 401, storing nothing', async () => {
    const before = await count();
    const forged = await w.double.slashCommand({ user: MEMBER, text: 'request' }, { badSignature: true });
    expect(forged.status).toBe(401);
    const stale = await w.double.slashCommand({ user: MEMBER, text: 'request' }, { timestampSkewSeconds: -6 * 60 });
    expect(stale.status).toBe(401);
    expect(w.double.callsTo('views.open')).toHaveLength(0);

    // A forged view submission with a valid-looking payload stores nothing either.
    const ok = await w.double.slashCommand({ user: MEMBER, text: 'request' });
    expect(ok.status).toBe(200);
    const view = await w.double.waitFor(() => w.double.lastViewFor(MEMBER), 5_000, 'modal');
    const body = new URLSearchParams({ payload: JSON.stringify({ type: 'view_submission', user: { id: MEMBER }, view: { ...view.view, id: view.id, state: { values: {} } } }) }).toString();
    const forgedSubmit = await w.double.postSigned(w.adapter.url!, body, { badSignature: true });
    expect(forgedSubmit.status).toBe(401);
    expect(await count()).toBe(before);
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

  it('a re-delivered button press (X-Slack-Retry-Num) changes nothing', async () => {
    await w.request(MEMBER, { name: 'retry-1' });
    const card = await w.card('retry-1', (m) => buttonsOf(m).includes('vm:approve'));
    const id = await w.requestId('retry-1');
    const audit = (await w.h.core.store.audit.list({ requestId: id })).length;
    const redelivered = await w.double.pressButton({ user: ADMIN1, message: card, actionId: 'vm:approve' }, { retryNum: 1 });
    expect(redelivered.status).toBe(200);
    // The re-delivery is acked and dropped: still pending, no audit row, no card update.
    const updates = w.double.callsTo('chat.update').length;
    const opened = w.double.callsTo('views.open').length;
    const redeliveredCommand = await w.double.slashCommand({ user: MEMBER, text: 'request' }, { retryNum: 2 });
    expect(redeliveredCommand.status).toBe(200);
    // A later first delivery is processed, proving the app was listening all along.
    await w.double.slashCommand({ user: MEMBER, text: 'list' });
    await w.double.waitFor(() => w.double.ephemeralsFor(MEMBER).find((m) => m.text.includes('Your VMs')), 5_000, 'list reply');
    expect(w.double.callsTo('views.open').length).toBe(opened);
    expect((await w.h.core.store.requests.get(id))?.state).toBe('pending');
    expect((await w.h.core.store.audit.list({ requestId: id })).length).toBe(audit);
    expect(w.double.callsTo('chat.update').length).toBe(updates);
  });
});
