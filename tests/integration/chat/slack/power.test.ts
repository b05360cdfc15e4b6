// Power actions through Slack (HTTP mode, the double, the simulated cluster): /vm stop and
// /vm start answer the caller and change the VM on the cluster; the card of a stopped VM
// offers Start and Delete; /vm rebuild offers a button that needs Slack's confirmation and
// changes nothing until it is confirmed; /vm reboot restarts the allocation; another
// member is refused.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN1, MEMBER, OTHER, buttonsOf, cardText, startSlackWorld, type SlackWorld } from './world.js';

describe('Slack: /vm stop, start, reboot, rebuild', () => {
  let w: SlackWorld;
  beforeAll(async () => {
    w = await startSlackWorld({ mode: 'http' });
  });
  afterAll(async () => {
    await w.close();
  });

  /** Runs a slash command and returns the caller's next ephemeral answer. */
  async function command(user: string, text: string, what: string) {
    const before = w.double.ephemeralsFor(user).length;
    expect((await w.double.slashCommand({ user, text })).status).toBe(200);
    return w.double.waitFor(() => w.double.ephemeralsFor(user)[before], 5_000, what);
  }

  const stateOf = async (name: string) => (await w.h.core.store.requests.get(await w.requestId(name)))!;

  it('stop, then start: the same job again with the same MAC; the card offers Start and Delete while stopped', async () => {
    await w.request(MEMBER, { name: 'power-1' });
    const pending = await w.card('power-1', (m) => buttonsOf(m).includes('vm:approve'));
    await w.double.pressButton({ user: ADMIN1, message: pending, actionId: 'vm:approve' });
    await w.reach('power-1', 'running');
    const running = await stateOf('power-1');

    const refused = await command(OTHER, 'stop power-1', 'the refusal');
    expect(refused.text).toContain('is not your VM');
    expect((await stateOf('power-1')).state).toBe('running');

    const stopped = await command(MEMBER, 'stop power-1', 'the stop answer');
    expect(stopped.text).toContain('is stopped');
    expect(stopped.text).toContain('/vm start power-1');
    expect(await stateOf('power-1')).toMatchObject({ state: 'stopped', stopReason: 'member', mac: running.mac });
    expect(w.h.sim.control.jobs().find((j) => j.id === running.jobId)).toMatchObject({ stop: true });
    const card = await w.card('power-1', (m) => buttonsOf(m).includes('vm:start'), 'the stopped card');
    expect(buttonsOf(card)).toEqual(['vm:start', 'vm:delete']);
    expect(cardText(card)).toContain('Stopped');

    const started = await command(MEMBER, 'start power-1', 'the start answer');
    expect(started.text).toContain('is starting');
    await w.h.waitFor(async () => {
      const req = await stateOf('power-1');
      return req.state === 'running' && req.allocId !== running.allocId;
    }, { what: 'power-1 running again' });
    expect(await stateOf('power-1')).toMatchObject({ mac: running.mac, seedToken: running.seedToken, address: { ipv4: running.address!.ipv4 } });
    expect(w.h.sim.control.registrations(running.jobId!)).toBe(2);
    const up = await w.double.waitFor(() => w.double.dmsTo(MEMBER).filter((m) => m.text.includes('power-1') && m.text.includes('is up'))[1], 8_000, 'the second up DM');
    expect(up.text).toContain('started again on a fresh disk');
  });

  it('/vm reboot restarts the allocation in place', async () => {
    const before = await stateOf('power-1');
    const answer = await command(MEMBER, 'reboot power-1', 'the reboot answer');
    expect(answer.text).toContain('is rebooting');
    await w.h.waitFor(() => (w.h.sim.control.allocations(before.jobId!).find((a) => a.ID === before.allocId)?.TaskStates?.['vm']?.Restarts ?? 0) >= 1, { what: 'the restart' });
    expect(await stateOf('power-1')).toMatchObject({ state: 'running', allocId: before.allocId });
  });

  it('/vm rebuild offers a button that needs confirmation; nothing changes until it is confirmed', async () => {
    const before = await stateOf('power-1');
    const offer = await command(MEMBER, 'rebuild power-1', 'the rebuild offer');
    expect(buttonsOf(offer)).toEqual(['vm:rebuild']);
    expect(offer.text).toContain('everything on its disk is lost');
    expect(() => w.double.pressButton({ user: MEMBER, message: offer, actionId: 'vm:rebuild' })).toThrow(/confirmation/);
    expect(await stateOf('power-1')).toMatchObject({ state: 'running', rebuilds: 0 });

    await w.double.pressButton({ user: MEMBER, message: offer, actionId: 'vm:rebuild', confirmed: true });
    await w.h.waitFor(async () => {
      const req = await stateOf('power-1');
      return req.state === 'running' && req.rebuilds === 1 && req.allocId !== before.allocId;
    }, { what: 'power-1 rebuilt and running' });
    const up = await w.double.waitFor(() => w.double.dmsTo(MEMBER).find((m) => m.text.includes('power-1') && m.text.includes('because of the rebuild')), 8_000, 'the up DM after the rebuild');
    expect(up.text).toContain(`ssh-keygen -R ${before.address!.ipv4}`);
    // Another member gets no offer.
    const refused = await command(OTHER, 'rebuild power-1', 'the refusal');
    expect(buttonsOf(refused)).toEqual([]);
    expect(refused.text).toContain('is not your VM');
  });

  it('/vm stop without a name answers with the usage', async () => {
    const help = await command(MEMBER, 'stop', 'the usage');
    expect(help.text).toContain('/vm stop my-vm');
  });
});
