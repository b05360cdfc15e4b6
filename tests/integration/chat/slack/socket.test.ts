// The same flow over Socket Mode: apps.connections.open with the app-level token, `hello`,
// envelopes acked over the websocket (the ack carries response_action for forms).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN1, MEMBER, buttonsOf, cardText, startSlackWorld, type SlackWorld } from './world.js';

describe('Slack (Socket Mode)', () => {
  let w: SlackWorld;
  beforeAll(async () => {
    // Reconnects on, with a 2 s back-off (and pong timeout): Slack recycles Socket Mode connections.
    w = await startSlackWorld({ mode: 'socket', adapter: { socketModeOptions: { autoReconnectEnabled: true, clientPingTimeout: 2_000 } } });
  });
  afterAll(async () => {
    await w.close();
  });

  it('connected with the app-level token to the configured API URL', () => {
    const open = w.double.callsTo('apps.connections.open');
    expect(open).toHaveLength(1);
    expect(open[0]!.tokenKind).toBe('app');
    expect(open[0]!.response['ok']).toBe(true);
  });

  it('request → approve → address, every envelope acked', async () => {
    const submitted = await w.request(MEMBER, { name: 'sock-1' });
    expect(submitted).toEqual({ status: 200, body: {} });
    const card = await w.card('sock-1', (m) => buttonsOf(m).includes('vm:approve'));
    const ack = await w.double.pressButton({ user: ADMIN1, message: card, actionId: 'vm:approve' });
    expect(ack.status).toBe(200);
    await w.reach('sock-1', 'running');
    const up = await w.double.waitFor(() => w.double.dmsTo(MEMBER).find((m) => m.text.includes('Log in with')), 8_000, 'the up DM');
    const address = /ssh alice@(\S+?)[\s`]/.exec(up.text)?.[1];
    expect(address).toBeTruthy();
    await w.card('sock-1', (m) => cardText(m).includes(address!), 'card with address');
    // slash command, view submission, button: three envelopes, three acks.
    expect(w.double.acks.length).toBeGreaterThanOrEqual(3);
  });

  it('invalid form input comes back in the ack as response_action errors', async () => {
    const before = (await w.h.core.store.requests.list()).length;
    const res = await w.request(MEMBER, { name: 'sock-1' });
    expect(res.body).toMatchObject({ response_action: 'errors', errors: { name: expect.any(String) } });
    expect((await w.h.core.store.requests.list()).length).toBe(before);
  });

  it('a re-delivered envelope (retry_attempt) is acked and changes nothing', async () => {
    const opened = w.double.callsTo('views.open').length;
    const res = await w.double.slashCommand({ user: MEMBER, text: 'request' }, { retryNum: 1 });
    expect(res.status).toBe(200);
    await w.double.slashCommand({ user: MEMBER, text: 'list' });
    await w.double.waitFor(() => w.double.ephemeralsFor(MEMBER).find((m) => m.text.includes('Your VMs')), 5_000, 'list reply');
    expect(w.double.callsTo('views.open').length).toBe(opened);
  });

  it('reconnects when Slack recycles the connection, and keeps answering', async () => {
    const opens = w.double.callsTo('apps.connections.open').length;
    const connections = w.double.socketConnections;
    w.double.requestReconnect();
    await w.double.waitFor(() => w.double.socketConnections > connections, 8_000, 'a new connection');
    // A fresh URL for each connection, asked for with the app-level token.
    expect(w.double.callsTo('apps.connections.open').length).toBeGreaterThan(opens);
    const replies = w.double.ephemeralsFor(MEMBER).length;
    const ack = await w.double.slashCommand({ user: MEMBER, text: 'help' });
    expect(ack.status).toBe(200);
    await w.double.waitFor(() => w.double.ephemeralsFor(MEMBER).slice(replies).find((m) => m.text.includes('/vm request')), 5_000, 'help after the reconnect');
  });
});
