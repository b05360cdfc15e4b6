// Provisioning failures shown on the card with a Retry button: an exhausted MAC pool, and
// Nomad down then back.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN1, MEMBER, buttonsOf, cardText, startSlackWorld, type SlackWorld } from './world.js';

describe('Slack (HTTP mode): failures and Retry', () => {
  let w: SlackWorld;
  beforeAll(async () => {
    // One usable MAC: the second VM finds the pool exhausted.
    w = await startSlackWorld({ mode: 'http', harness: { config: { macPool: { ranges: ['52:54:84:ba:49:10-52:54:84:ba:49:10'], reserved: [] } } } });
  });
  afterAll(async () => {
    await w.close();
  });

  const approve = async (name: string) => {
    const card = await w.card(name, (m) => buttonsOf(m).includes('vm:approve'), `${name} pending`);
    await w.double.pressButton({ user: ADMIN1, message: card, actionId: 'vm:approve' });
  };

  it('pool exhausted: the card shows the failure and Retry; Retry works once a MAC is free', async () => {
    await w.request(MEMBER, { name: 'first' });
    await approve('first');
    await w.reach('first', 'running');

    await w.request(MEMBER, { name: 'second' });
    await approve('second');
    const failed = await w.card('second', (m) => buttonsOf(m).includes('vm:retry'), 'second failed with Retry');
    expect(cardText(failed)).toContain('pool_exhausted');
    await w.double.waitFor(() => w.double.dmsTo(MEMBER).find((m) => m.text.includes('second') && m.text.includes('delayed')), 5_000, 'the delayed DM');

    // Free the MAC: delete the first VM (confirmed), then Retry the second.
    const first = await w.card('first', (m) => buttonsOf(m).includes('vm:delete'));
    await w.double.pressButton({ user: ADMIN1, message: first, actionId: 'vm:delete', confirmed: true });
    await w.reach('first', 'deleted');
    await w.double.pressButton({ user: ADMIN1, message: failed, actionId: 'vm:retry' });
    await w.reach('second', 'running');
    await w.card('second', (m) => cardText(m).includes('ssh alice@'), 'second card with the address');
  });

  it('Nomad down: failure on the card; back up: Retry provisions the same job', async () => {
    await w.request(MEMBER, { name: 'third' });
    // The only MAC is held by "second"; delete it first so this one fails only on Nomad.
    const second = await w.card('second', (m) => buttonsOf(m).includes('vm:delete'));
    await w.double.pressButton({ user: ADMIN1, message: second, actionId: 'vm:delete', confirmed: true });
    await w.reach('second', 'deleted');

    w.h.sim.control.failRequests('always');
    await approve('third');
    const failed = await w.card('third', (m) => buttonsOf(m).includes('vm:retry'), 'third failed with Retry');
    expect(cardText(failed)).toMatch(/nomad_/);

    w.h.sim.control.failRequests('off');
    await w.double.pressButton({ user: ADMIN1, message: failed, actionId: 'vm:retry' });
    await w.reach('third', 'running');
    const req = await w.h.core.store.requests.get(await w.requestId('third'));
    expect(req?.jobId).toBe('uservm-third');
  });
});
