// Issue 11: the port-in-use message advises setting web.listen; a vmbot.config.yaml that
// holds only that (no nomad section, no credentials) must start local mode, which always
// runs the simulated cluster, instead of refusing the default ssh adapter's missing nomad.ssh.
// Runs the built CLI (`node bin/vmbot.js serve`, dist/ from `npm run build`) in a temp dir.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { makeTempDir } from '../support/tmp.js';
import { portsFreed, startVmbot, type VmbotProcess } from '../support/vmbot-process.js';

// Fixed, so a second server fighting for it would fail here as in production; below Linux's
// ephemeral range (32768-60999), where another test's port-0 server could hold it.
const WEB_PORT = 27361;
const WEB_PORT_CHAT = 27362;

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** vmbot serve in a fresh folder holding `config` as vmbot.config.yaml (the default path, no --config). */
async function serveIn(config: Record<string, unknown>, env: Record<string, string> = {}): Promise<VmbotProcess> {
  const temp = await makeTempDir('local-mode-serve');
  cleanups.push(() => temp.cleanup());
  await writeFile(join(temp.dir, 'vmbot.config.yaml'), stringify(config));
  const vmbot = await startVmbot({ dir: temp.dir, config: undefined, env });
  cleanups.push(() => vmbot.stop());
  return vmbot;
}

describe('vmbot serve with a config file that only sets web.listen', () => {
  it('starts local mode on that address, serves the console, and exits 0 on SIGTERM', async () => {
    const vmbot = await serveIn({ web: { listen: `127.0.0.1:${WEB_PORT}` } });
    const banner = await vmbot.waitForOutput(/vmbot: local mode \(no Slack or Discord credentials configured\)[^\n]*/);
    expect(banner).toContain(`open http://127.0.0.1:${WEB_PORT}/ to try it on a SIMULATED cluster`);
    expect(vmbot.output()).not.toMatch(/cannot start|configuration is invalid|nomad\.ssh/);
    const page = await fetch(`http://127.0.0.1:${WEB_PORT}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await vmbot.stop()).toBe(0);
    expect(vmbot.output()).toContain('SIGTERM received, shutting down');
    await portsFreed([WEB_PORT]);
  }, 60_000);

  it('with chat credentials the same file is still refused for production, naming nomad.ssh', async () => {
    const vmbot = await serveIn(
      { web: { listen: `127.0.0.1:${WEB_PORT_CHAT}` }, discord: { applicationId: '100000000000000001', guildId: '100000000000000002', adminChannel: '100000000000000003', adminRoles: ['100000000000000004'] } },
      { DISCORD_TOKEN: 'not-a-real-token' },
    );
    expect(await vmbot.exited).toBe(1);
    expect(vmbot.output()).toContain('the configuration is invalid');
    expect(vmbot.output()).toMatch(/- nomad\.ssh: nomad\.adapter is "ssh" \(the default\)/);
    expect(vmbot.output()).not.toContain('local mode');
    expect(vmbot.output()).not.toContain('not-a-real-token');
  }, 60_000);
});
