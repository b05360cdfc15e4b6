import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { registerPoolCommands } from '../../../src/commands/pool.js';
import type { MemberRef } from '../../../src/domain/request.js';
import { makeCliHarness, type CliHarness } from './helpers-store.js';

const alice: MemberRef = { platform: 'slack', userId: 'U0ALICE' };
let h: CliHarness;
beforeEach(async () => {
  h = await makeCliHarness(registerPoolCommands);
});
afterEach(() => h.cleanup());

async function seed(): Promise<{ web: string; old: string }> {
  const s = await h.openStore();
  const web = await s.requests.create({ name: 'web', distro: 'debian-12', size: 'small', login: 'alice', sshKeys: [], reason: 'x', requester: alice }, { actor: alice, action: 'request' });
  await s.requests.transition(web.id, 'pending', 'approved', {}, { actor: alice, action: 'approve' });
  await s.macs.allocate(web.id); // :00
  const old = await s.requests.create({ name: 'old', distro: 'debian-12', size: 'small', login: 'alice', sshKeys: [], reason: 'x', requester: alice }, { actor: alice, action: 'request' });
  await s.macs.allocate(old.id); // :02
  await s.requests.transition(old.id, 'pending', 'cancelled', {}, { actor: alice, action: 'cancel' });
  await s.macs.syncExternal([{ mac: '52:54:84:ba:49:03', jobId: 'distro-vm' }, { mac: '52:54:84:ba:49:22', jobId: 'legacy\u001b[31m' }]);
  await s.close();
  return { web: web.id, old: old.id };
}

describe('vmbot pool', () => {
  it('prints totals and who holds each MAC, marking MACs outside the ranges and escaping control characters', async () => {
    const { web, old } = await seed();
    const { out, exitCode } = await h.run(['pool']);
    expect(exitCode).toBe(0);
    expect(out).toBe(
      [
        'MAC pool: 8 MACs in 1 range (52:54:84:ba:49:00-52:54:84:ba:49:07)',
        '  used      2 by VMs',
        '  reserved  1',
        '  external  1 by hand-made Nomad jobs',
        '  free      4',
        '  next      52:54:84:ba:49:04',
        '',
        'MAC                KIND      HELD BY',
        `52:54:84:ba:49:00  vm        web (approved, request ${web})`,
        '52:54:84:ba:49:01  reserved  distro-vm',
        `52:54:84:ba:49:02  vm        old (cancelled, request ${old})`,
        '52:54:84:ba:49:03  external  Nomad job distro-vm',
        '52:54:84:ba:49:22  external  Nomad job legacy\\u001b[31m [outside macPool.ranges]',
        '',
      ].join('\n'),
    );
  });

  it('--json prints the usage object', async () => {
    await seed();
    const { out } = await h.run(['pool', '--json']);
    expect(JSON.parse(out)).toMatchObject({ total: 8, used: 2, reserved: 1, external: 1, free: 4 });
  });

  it('reserve and release change the pool and write audit rows', async () => {
    expect((await h.run(['pool', 'reserve', '52:54:84:BA:49:05', '--note', 'printer'])).out).toBe('Reserved 52:54:84:ba:49:05 (printer).\n');
    expect((await h.run(['pool'])).out).toContain('52:54:84:ba:49:05  reserved  printer');
    expect((await h.run(['pool', 'release', '52:54:84:ba:49:05'])).out).toBe('Released 52:54:84:ba:49:05 (was reserved: printer).\n');
    expect((await h.run(['pool'])).out).not.toContain('printer');
    const s = await h.openStore();
    expect((await s.audit.list()).map((r) => [r.actor.platform, r.action, r.detail])).toEqual([
      ['cli', 'mac_reserved', '52:54:84:ba:49:05: printer'],
      ['cli', 'mac_released', '52:54:84:ba:49:05 was reserved: printer'],
    ]);
  });

  it('release refuses a live VM’s MAC without --force, with the code and what to do, and frees it with --force', async () => {
    const { web } = await seed();
    const refused = await h.run(['pool', 'release', '52:54:84:ba:49:00']);
    expect(refused.exitCode).toBe(1);
    expect(refused.err).toMatch(/held by VM "web" \(approved.*--force.*\[mac_in_use, mac\]/);
    expect((await h.run(['pool'])).out).toMatch(/^52:54:84:ba:49:00  vm/m);
    const forced = await h.run(['pool', 'release', '52:54:84:ba:49:00', '--force']);
    expect(forced.exitCode).toBe(0);
    expect((await h.run(['pool'])).out).not.toMatch(/^52:54:84:ba:49:00/m);
    const s = await h.openStore();
    expect((await s.audit.list({ requestId: web })).at(-1)).toMatchObject({ action: 'mac_released', vmName: 'web', detail: expect.stringContaining('(--force)') });
  });

  it('refuses a malformed MAC before touching the database, and a missing --note', async () => {
    const bad = await h.run(['pool', 'reserve', '52:54:84:ba:49', '--note', 'x']);
    expect(bad.exitCode).not.toBe(0);
    expect(bad.err).toMatch(/not a MAC address/);
    const noNote = await h.run(['pool', 'reserve', '52:54:84:ba:49:05']);
    expect(noNote.exitCode).not.toBe(0);
    expect(noNote.err).toMatch(/--note/);
  });

  it('releasing a free MAC says it is already free', async () => {
    const r = await h.run(['pool', 'release', '52:54:84:ba:49:06']);
    expect(r.exitCode).toBe(1);
    expect(r.err).toMatch(/^vmbot pool release: 52:54:84:ba:49:06 is not leased: it is already free.*\[not_found, mac\]/);
  });

  it('keeps `pool sync` as a subcommand, writing through the same output', async () => {
    // The test config uses the simulated cluster, which has no hand-made jobs to find.
    const r = await h.run(['pool', 'sync']);
    expect(r.exitCode).toBe(1);
    expect(r.err).toMatch(/pool sync: .*sim/);
  });
});
