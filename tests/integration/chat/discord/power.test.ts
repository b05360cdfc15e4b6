// Power actions through Discord (the double, a real discord.js client, the simulated
// cluster): /vm stop and /vm start answer privately and change the VM on the cluster, the
// card of a stopped VM offers Start and Delete, /vm reboot restarts the allocation in place,
// /vm rebuild asks for a confirmation first and changes nothing until it is pressed; another
// member is refused (audited) before any confirmation is offered.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buttonIds, messageText } from '../../../support/discord-double.js';
import { ALICE, CAROL_ADMIN, EVE, startWorld, type World } from './world.js';

describe('discord: /vm stop, start, reboot, rebuild', () => {
  let w: World;
  let requestId: string;
  let cardAt: { channelId: string; messageId: string };
  beforeAll(async () => {
    w = await startWorld({ harness: { sim: { startDelayMs: 20, chunkDelayMs: 5 } } });
    const requested = await w.request(ALICE, 'dpower');
    requestId = requested.requestId;
    cardAt = requested.where;
    await w.double.pressButton(CAROL_ADMIN, cardAt, `vm:approve:${requestId}`).response();
    await w.h.waitFor(async () => (await w.h.core.store.requests.get(requestId))?.state === 'running', { what: 'dpower running', timeoutMs: 20_000 });
  });
  afterAll(async () => {
    await w?.close();
  });

  const vm = async () => (await w.h.core.store.requests.get(requestId))!;

  async function run(user: string, sub: string) {
    const i = w.double.slashCommand(user, sub, { name: 'dpower' });
    await i.response();
    return i;
  }

  it('registers the four subcommands', () => {
    const registered = w.double.registered.at(-1)!.commands.find((c) => c.name === 'vm')!;
    const subs = (registered.options as Array<{ name: string }>).map((s) => s.name);
    for (const sub of ['stop', 'start', 'reboot', 'rebuild']) expect(subs).toContain(sub);
  });

  it('stop, then start: the same job with the same MAC; the stopped card offers Start and Delete', async () => {
    const running = await vm();
    const byEve = await run(EVE, 'stop');
    expect(await byEve.ephemeralText()).toContain('is not your VM: you can only stop your own VMs');
    expect((await vm()).state).toBe('running');

    const stop = await run(ALICE, 'stop');
    expect(await stop.ephemeralText()).toContain('is stopped');
    expect(await vm()).toMatchObject({ state: 'stopped', stopReason: 'member', mac: running.mac });
    expect(w.h.sim.control.jobs().find((j) => j.id === running.jobId)).toMatchObject({ stop: true });
    const card = await w.double.waitFor(() => {
      const m = w.double.message(cardAt.channelId, cardAt.messageId)!;
      return buttonIds(m).some((id) => id.startsWith('vm:start:')) && m;
    }, { what: 'the stopped card with Start' });
    expect(buttonIds(card)).toEqual([`vm:start:${requestId}`, `vm:delete:${requestId}`]);
    expect(messageText(card)).toContain('Stopped');

    const start = await run(ALICE, 'start');
    expect(await start.ephemeralText()).toContain('is starting');
    await w.h.waitFor(async () => {
      const req = await vm();
      return req.state === 'running' && req.allocId !== running.allocId;
    }, { what: 'dpower running again', timeoutMs: 20_000 });
    expect(await vm()).toMatchObject({ mac: running.mac, seedToken: running.seedToken, address: { ipv4: running.address!.ipv4 } });
    expect(w.h.sim.control.registrations(running.jobId!)).toBe(2);
  });

  it('/vm reboot restarts the allocation in place', async () => {
    const before = await vm();
    const reboot = await run(ALICE, 'reboot');
    expect(await reboot.ephemeralText()).toContain('is rebooting');
    await w.h.waitFor(() => (w.h.sim.control.allocations(before.jobId!).find((a) => a.ID === before.allocId)?.TaskStates?.['vm']?.Restarts ?? 0) >= 1, { what: 'the restart' });
    expect(await vm()).toMatchObject({ state: 'running', allocId: before.allocId });
  });

  it('/vm rebuild asks for a confirmation; the rebuild starts on the press; refused for another member first', async () => {
    const before = await vm();
    const byEve = await run(EVE, 'rebuild');
    expect(await byEve.ephemeralText()).toContain('is not your VM');
    expect(byEve.original!.components).toEqual([]);
    expect((await w.h.core.store.audit.list({ requestId })).some((a) => a.action === 'rebuild_refused' && a.actor.userId === EVE)).toBe(true);

    const offer = await run(ALICE, 'rebuild');
    expect(await offer.ephemeralText()).toContain('Rebuild VM **dpower**?');
    expect(await vm()).toMatchObject({ state: 'running', rebuilds: 0 });
    const confirm = w.double.pressButton(ALICE, { ephemeralOf: offer }, `vm:rebuild-confirm:${requestId}`);
    expect((await confirm.response()).type).toBe(7);
    expect(offer.original!.content).toContain('is being rebuilt');
    await w.h.waitFor(async () => {
      const req = await vm();
      return req.state === 'running' && req.rebuilds === 1 && req.allocId !== before.allocId;
    }, { what: 'dpower rebuilt and running', timeoutMs: 20_000 });
    const dm = await w.double.waitFor(() => w.double.dmsTo(ALICE).find((m) => m.content.includes('because of the rebuild')), { what: 'the up DM after the rebuild', timeoutMs: 20_000 });
    expect(dm.content).toContain(`ssh-keygen -R ${before.address!.ipv4}`);
  });
});
