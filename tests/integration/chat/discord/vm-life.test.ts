// Issue 12 through Discord (the double, a real discord.js client, the simulated cluster): the
// request form's answer refuses what would go over the quota, naming the size field; the
// admin card shows the member's use against the quota; the "up" DM carries the host key
// fingerprints the guest printed (within Discord's 2000 characters); `/vm logs NAME` answers
// the owner privately with the last console lines as code, and refuses anyone else.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConfigInput } from '../../../../src/config/schema.js';
import { buttonIds, messageText } from '../../../support/discord-double.js';
import { TEST_SSH_KEY } from '../../../support/harness.js';
import { ALICE, CAROL_ADMIN, EVE, startWorld, type World } from './world.js';

// Default sizes: small 2000 MHz / 2048 MiB, medium 6000 / 4096.
const QUOTA = { policy: { quota: { vms: 2, cpu: 8000 } } } as Partial<ConfigInput>;

describe('discord: quotas, host keys in the up DM, /vm logs', () => {
  let w: World;
  beforeAll(async () => {
    w = await startWorld({ harness: { config: QUOTA, sim: { startDelayMs: 20, chunkDelayMs: 5 } } });
  });
  afterAll(async () => {
    await w?.close();
  });

  async function submit(name: string, size: string) {
    const command = w.double.slashCommand(ALICE, 'request', { name, distro: 'debian-12', size });
    await command.response();
    const modal = w.double.submitModal(ALICE, command, { login: 'alice', ssh_keys: TEST_SSH_KEY, reason: 'course work' });
    return modal.ephemeralText();
  }

  it('the up DM carries the fingerprints the guest printed and known_hosts lines, within 2000 characters', async () => {
    expect(await submit('dkeys', 'medium')).toContain('is with the admins');
    const card = await w.card('dkeys');
    const requestId = buttonIds(card)[0]!.split(':')[2]!;
    await (w.double.pressButton(CAROL_ADMIN, { channelId: card.channel_id, messageId: card.id }, `vm:approve:${requestId}`)).response();

    const dm = await w.double.waitFor(() => w.double.dmsTo(ALICE).find((m) => m.content.includes('is up')), { what: 'the up DM', timeoutMs: 20_000 });
    const vm = (await w.h.core.store.requests.get(requestId))!;
    const printed = w.h.sim.control.hostKeysOf(vm.allocId!)!;
    expect(printed.length).toBeGreaterThan(0);
    for (const key of printed) {
      expect(dm.content).toContain(`\`${key.label} ${key.fingerprint}\``);
      expect(dm.content).toContain(`\`${vm.address!.ipv4} ${key.type} ${key.blob}\``);
    }
    expect(dm.content.length).toBeLessThanOrEqual(2000);
    expect(dm.content.endsWith('…')).toBe(false);
  });

  it('the form\'s answer refuses CPU over the quota, naming the size field; the VM count without one', async () => {
    const before = (await w.h.core.store.requests.list()).length;
    const refused = await submit('dbig', 'medium');
    expect(refused).toContain('This would use 12000 of your 8000 MHz of CPU (you have 1 VM using 6000 MHz): choose a smaller size or delete a VM. (size)');
    expect((await w.h.core.store.requests.list()).length).toBe(before);

    expect(await submit('dfits', 'small')).toContain('is with the admins');
    expect(await submit('dthird', 'small')).toContain('You have 2 VMs and your limit is 2');
  });

  it('the admin card of a pending request shows the member\'s use against their quota', async () => {
    const card = await w.double.waitFor(() => {
      const found = w.double.messages(card0()).find((m) => messageText(m).includes('VM dfits'));
      return found && messageText(found).includes('Quota') ? found : undefined;
    }, { what: 'the card of dfits with its quota line' });
    expect(messageText(card)).toContain('1 of 2 VMs, 6000/8000 MHz, 4096 MiB');
  });
  const card0 = () => w.h.config.discord!.adminChannel;

  it('/vm logs answers the owner privately with the last console lines as code; others are refused', async () => {
    const vm = (await w.h.core.store.requests.findLiveByName('dkeys'))!;
    await w.h.waitFor(() => w.h.sim.control.consoleOf(vm.allocId!).toString().includes(' login: '), { what: 'the login prompt' });
    const logs = w.double.slashCommand(ALICE, 'logs', { name: 'dkeys' });
    const text = await logs.ephemeralText();
    expect(text).toContain('console lines of **dkeys**');
    expect(text).toContain('```');
    expect(text).toContain('login: ');
    expect(text).toContain('[redacted]');
    expect(text).not.toContain(vm.seedToken!);

    const other = w.double.slashCommand(EVE, 'logs', { name: 'dkeys' });
    const refusal = await other.ephemeralText();
    expect(refusal).toContain('is not your VM');
    expect(refusal).not.toContain('```');
  });
});
