// Issue 12 through Slack (HTTP mode, the double, the simulated cluster): the request modal
// refuses what would go over the member's quota on the right field; the "up" DM carries the
// SSH host key fingerprints the guest printed and known_hosts lines; `/vm logs NAME` answers
// the owner with the console's last lines as code, the seed token removed, and refuses others.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConfigInput } from '../../../../src/config/schema.js';
import { ADMIN1, MEMBER, OTHER, buttonsOf, cardText, startSlackWorld, type SlackWorld } from './world.js';

// Default sizes: small 2000 MHz / 2048 MiB, medium 6000 / 4096.
const QUOTA = { policy: { quota: { vms: 2, cpu: 8000 } } } as Partial<ConfigInput>;

describe('Slack: quotas, host keys in the up DM, /vm logs', () => {
  let w: SlackWorld;
  beforeAll(async () => {
    w = await startSlackWorld({ mode: 'http', harness: { config: QUOTA } });
  });
  afterAll(async () => {
    await w.close();
  });

  const formErrors = (body: unknown): Record<string, string> => {
    expect(body).toMatchObject({ response_action: 'errors' });
    return (body as { errors: Record<string, string> }).errors;
  };

  it('the up DM carries the fingerprints the guest printed and known_hosts lines for its address', async () => {
    await w.request(MEMBER, { name: 'keys-1', size: 'medium' });
    const pending = await w.card('keys-1', (m) => buttonsOf(m).includes('vm:approve'));
    await w.double.pressButton({ user: ADMIN1, message: pending, actionId: 'vm:approve' });
    await w.reach('keys-1', 'running');
    const req = (await w.h.core.store.requests.get(await w.requestId('keys-1')))!;
    const printed = w.h.sim.control.hostKeysOf(req.allocId!);
    expect(printed?.length).toBeGreaterThan(0);

    const up = await w.double.waitFor(() => w.double.dmsTo(MEMBER).find((m) => m.text.includes('Log in with')), 8_000, 'the "up" DM');
    const address = req.address!.ipv4!;
    for (const key of printed!) {
      expect(up.text).toContain(`\`${key.label} ${key.fingerprint}\``);
      expect(up.text).toContain(`\`${address} ${key.type} ${key.blob}\``);
    }
    expect(up.text).toContain('~/.ssh/known_hosts');
    // The same in the blocks the member sees, and stored on the request.
    expect(cardText(up)).toContain(printed![0]!.fingerprint);
    expect(req.hostKeys?.map((k) => k.fingerprint)).toEqual(printed!.map((k) => k.fingerprint));
  });

  it('the request modal refuses CPU over the quota on the size field, and the VM count on the first field', async () => {
    const before = (await w.h.core.store.requests.list()).length;
    const cpu = await w.request(MEMBER, { name: 'too-big', size: 'medium' });
    expect(cpu.status).toBe(200);
    const errors = formErrors(cpu.body);
    expect(Object.keys(errors)).toEqual(['size']);
    expect(errors['size']).toContain('This would use 12000 of your 8000 MHz of CPU (you have 1 VM using 6000 MHz)');
    expect((await w.h.core.store.requests.list()).length).toBe(before);

    // A small one fits (8000 of 8000 MHz); then the VM count (2) is reached.
    expect(await w.request(MEMBER, { name: 'fits', size: 'small' })).toEqual({ status: 200, body: '' });
    const count = formErrors((await w.request(MEMBER, { name: 'third', size: 'small' })).body);
    expect(count).toEqual({ name: 'You have 2 VMs and your limit is 2: delete one you no longer need, then ask again.' });
  });

  it('the admin card of a pending request shows the member\'s use against their quota', async () => {
    const card = await w.card('fits', (m) => buttonsOf(m).includes('vm:approve'));
    // Use before this request: the running medium one.
    expect(cardText(card)).toContain('1 of 2 VMs, 6000/8000 MHz, 4096 MiB');
  });

  it('/vm logs answers the owner with the last console lines as code, the seed token removed', async () => {
    const req = (await w.h.core.store.requests.get(await w.requestId('keys-1')))!;
    await w.h.waitFor(() => w.h.sim.control.consoleOf(req.allocId!).toString().includes(' login: '), { what: 'the login prompt' });
    const before = w.double.ephemeralsFor(MEMBER).length;
    expect((await w.double.slashCommand({ user: MEMBER, text: 'logs keys-1' })).status).toBe(200);
    const reply = await w.double.waitFor(() => w.double.ephemeralsFor(MEMBER).slice(before).find((m) => m.text.includes('console line')), 5_000, 'the /vm logs reply');
    expect(reply.text).toContain('Last 40 console lines of *keys-1*');
    const shown = cardText(reply);
    expect(shown).toContain('```');
    expect(shown).toContain('login: ');
    expect(shown).toContain('[redacted]');
    expect(shown).not.toContain(req.seedToken!);
    expect(shown).not.toContain('\\u001b');

    const other = w.double.ephemeralsFor(OTHER).length;
    await w.double.slashCommand({ user: OTHER, text: 'logs keys-1' });
    const refused = await w.double.waitFor(() => w.double.ephemeralsFor(OTHER).slice(other)[0], 5_000, 'the refusal');
    expect(refused.text).toContain('is not your VM');
    expect(JSON.stringify(refused.blocks)).not.toContain('```');
  });
});
