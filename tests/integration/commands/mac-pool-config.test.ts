// Issue 11: `config check`, `pool` and `render` refuse the same MAC pools, by key path,
// and render never prints an all-zero or multicast MAC.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../unit/config/run-cli.js';
import { makeTempDir } from '../../support/tmp.js';

const ROOT = join(import.meta.dirname, '../../..');
const TEMPLATES = join(ROOT, 'templates');
const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIE4Tq4a3t1GJ0p0tmTT0n8u2Q1a3ShS8b8l0x1p6rK2c alice@laptop';
const NO_SECRETS = { SLACK_BOT_TOKEN: undefined, SLACK_APP_TOKEN: undefined, SLACK_SIGNING_SECRET: undefined, DISCORD_TOKEN: undefined, NOMAD_TOKEN: undefined, VMBOT_WEB_TOKEN: undefined };

let tmp: Awaited<ReturnType<typeof makeTempDir>>;
beforeAll(async () => {
  tmp = await makeTempDir('mac-pool-config');
});
afterAll(() => tmp.cleanup());

async function configWithRanges(ranges: string[]): Promise<string> {
  const file = join(tmp.dir, `${Math.random().toString(36).slice(2)}.yaml`);
  const db = join(tmp.dir, `${Math.random().toString(36).slice(2)}.sqlite`);
  await writeFile(file, `templates: { dir: ${JSON.stringify(TEMPLATES)} }\ndatabase: { path: ${JSON.stringify(db)} }\nnomad: { adapter: sim }\nmacPool:\n  ranges: ${JSON.stringify(ranges)}\n`);
  return file;
}

const render = (file: string, extra: string[] = []) => runCli(['--config', file, 'render', '--name', 'web-1', '--user', 'alice', '--ssh-key', KEY, ...extra], NO_SECRETS);

describe('a MAC pool every command refuses alike', () => {
  it('2^48 MACs: config check, pool and render all refuse it naming macPool.ranges', async () => {
    const file = await configWithRanges(['00:00:00:00:00:00-ff:ff:ff:ff:ff:ff']);
    const check = await runCli(['--config', file, 'config', 'check'], NO_SECRETS);
    expect(check.code).toBe(1);
    expect(check.stderr).toContain('  - macPool.ranges: 00:00:00:00:00:00-ff:ff:ff:ff:ff:ff has 2^48 MACs; vmbot manages at most 65536');
    expect(check.stderr).toContain('  - macPool.ranges[0]: "00:00:00:00:00:00-ff:ff:ff:ff:ff:ff": it includes 00:00:00:00:00:00');

    const pool = await runCli(['--config', file, 'pool'], NO_SECRETS);
    expect(pool.code).toBe(1);
    expect(pool.stdout).toBe('');
    expect(pool.stderr).toContain('macPool.ranges: 00:00:00:00:00:00-ff:ff:ff:ff:ff:ff has 2^48 MACs');

    const rendered = await render(file);
    expect(rendered.code).toBe(1);
    expect(rendered.stdout).toBe('');
    expect(rendered.stdout + rendered.stderr).not.toContain('mac_address = "00:00:00:00:00:00"');
    expect(rendered.stderr).toContain('macPool.ranges: 00:00:00:00:00:00-ff:ff:ff:ff:ff:ff has 2^48 MACs');
  });

  it('65537 MACs is refused, 65536 accepted, by config check', async () => {
    const over = await runCli(['--config', await configWithRanges(['52:54:00:00:00:00-52:54:00:01:00:00']), 'config', 'check'], NO_SECRETS);
    expect(over.code).toBe(1);
    expect(over.stderr).toContain('macPool.ranges: 52:54:00:00:00:00-52:54:00:01:00:00 has 65537 MACs; vmbot manages at most 65536');
    // Two ranges that are each small but together too many.
    const split = await runCli(['--config', await configWithRanges(['52:54:00:00:00:00-52:54:00:00:ff:ff', '52:54:00:10:00:00-52:54:00:10:00:00']), 'config', 'check'], NO_SECRETS);
    expect(split.code).toBe(1);
    expect(split.stderr).toContain('has 65537 MACs');
    const ok = await runCli(['--config', await configWithRanges(['52:54:00:00:00:00-52:54:00:00:ff:ff']), 'config', 'check'], NO_SECRETS);
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/MAC pool: +65536 address\(es\)/);
  });

  it('multicast MACs in a range: refused by config check, pool and render', async () => {
    const file = await configWithRanges(['51:54:84:ba:49:00-52:54:84:ba:49:ff']);
    for (const args of [['config', 'check'], ['pool']]) {
      const result = await runCli(['--config', file, ...args], NO_SECRETS);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain('macPool.ranges[0]: "51:54:84:ba:49:00-52:54:84:ba:49:ff": it includes multicast MACs (first octet 51 is odd)');
    }
    const rendered = await render(file);
    expect(rendered.code).toBe(1);
    expect(rendered.stdout).toBe('');
    expect(rendered.stderr).toContain('it includes multicast MACs');
  });

  it('render --mac refuses an all-zero or multicast MAC, and picks the pool\'s first MAC otherwise', async () => {
    const file = await configWithRanges(['52:54:84:ba:49:10-52:54:84:ba:49:1f']);
    for (const mac of ['00:00:00:00:00:00', '01:00:5e:00:00:01', 'ff:ff:ff:ff:ff:ff']) {
      const result = await render(file, ['--mac', mac]);
      expect(result.code).toBe(1);
      expect(result.stdout).toBe('');
      expect(result.stderr).toContain(`mac (--mac): ${mac} cannot be a VM's address`);
    }
    const ok = await render(file);
    expect(ok.stderr).toContain('MAC 52:54:84:ba:49:10');
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain('52:54:84:ba:49:10');
  });
});
