// `vmbot ip NAME [--refresh]` against a VM the harness brought up on the simulated cluster:
// the command reads the same SQLite file, and --refresh reads the console through the
// configured (http) Nomad adapter.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterEach, expect, it, vi } from 'vitest';
import { registerIpCommand } from '../../../src/commands/ip.js';
import { harnessConfigInput, startHarness, type Harness } from '../../support/harness.js';

let h: Harness | undefined;
afterEach(async () => {
  vi.restoreAllMocks();
  process.exitCode = undefined;
  await h?.close();
  h = undefined;
});

async function runIp(configPath: string, args: string[]): Promise<{ out: string; err: string; exitCode: number | undefined }> {
  const out: string[] = [];
  const err: string[] = [];
  vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')));
  vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void err.push(a.join(' ')));
  process.exitCode = undefined;
  const program = new Command('vmbot').option('-c, --config <path>').exitOverride();
  registerIpCommand(program);
  await program.parseAsync(['node', 'vmbot', '-c', configPath, 'ip', ...args]);
  const exitCode = process.exitCode as number | undefined;
  vi.restoreAllMocks();
  return { out: out.join('\n'), err: err.join('\n'), exitCode };
}

it('prints the recorded address, and --refresh takes the one the console shows', async () => {
  h = await startHarness();
  const configPath = join(h.dir, 'vmbot.config.yaml');
  // JSON is YAML: the same configuration the harness runs with.
  await writeFile(configPath, JSON.stringify(harnessConfigInput({ dir: h.dir, simUrl: h.sim.url, nocloudUrl: h.nocloudUrl })));
  const submitted = await h.core.workflow.submitRequest(h.member(), h.input({ name: 'web' }));
  if (!submitted.ok) throw new Error('submit failed');
  const id = submitted.value.requestId;
  await h.core.workflow.approve(h.admin(), id);
  const running = await h.waitFor(async () => {
    const r = await h!.core.store.requests.get(id);
    return r?.state === 'running' ? r : undefined;
  });
  const ipv4 = running.address!.ipv4!;

  const shown = await runIp(configPath, ['web']);
  expect(shown.exitCode).toBeUndefined();
  expect(shown.out).toContain(`web  Running  ${ipv4}`);
  expect(shown.out).toContain(`ssh alice@${ipv4}`);

  // The stored address went stale (say, the router's lease changed); --refresh reads the console again.
  await h.core.store.requests.update(id, ['running'], { address: { ipv4: '10.10.0.250', ipv6: [], seenAt: 'then' } });
  expect((await runIp(configPath, ['web'])).out).toContain('10.10.0.250');
  const refreshed = await runIp(configPath, ['web', '--refresh', '--json']);
  expect(refreshed.exitCode).toBeUndefined();
  expect(JSON.parse(refreshed.out)).toMatchObject({ name: 'web', state: 'running', mac: running.mac, address: { ipv4 }, ssh: `ssh alice@${ipv4}` });
  expect((await h.core.store.requests.get(id))?.address?.ipv4).toBe(ipv4);
  const audit = await h.core.store.audit.list({ requestId: id });
  expect(audit.find((a) => a.action === 'address_refreshed')?.detail).toBe(`10.10.0.250 -> ${ipv4}`);

  const missing = await runIp(configPath, ['nope']);
  expect(missing.exitCode).toBe(1);
  expect(missing.err).toMatch(/no VM named "nope"/);
});
