import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../../../src/config/load.js';
import { silentLogger } from '../../../../src/log.js';
import { LOCAL_DATABASE, localConfig, localModeBanner, startLocalMode } from '../../../../src/local.js';
import { LOCAL_ADMIN_ID } from '../../../../src/chat/web/index.js';
import { makeTempDir } from '../../../support/tmp.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const production = parseConfig({
  database: { path: '/var/lib/vmbot/vmbot.sqlite' },
  nomad: { adapter: 'http', http: { address: 'http://nomad.example:4646' } },
  distros: [{ name: 'ubuntu-24', label: 'Ubuntu 24.04', image: 'http://images.example/ubuntu.qcow2' }],
  web: { admins: ['alice'], listen: '127.0.0.1:0' },
});

describe('local mode', () => {
  it('keeps its own database and never the configured cluster or publisher', () => {
    const cfg = localConfig(production, { dataDir: '/tmp/x', simUrl: 'http://127.0.0.1:1234', nocloudUrl: 'http://127.0.0.1:5678' });
    expect(cfg.database.path).toBe(join('/tmp/x', LOCAL_DATABASE));
    expect(cfg.nomad.adapter).toBe('sim');
    expect(cfg.nomad.http?.address).toBe('http://127.0.0.1:1234');
    expect(cfg.cloudInit).toMatchObject({ publish: 'builtin', builtin: { publicUrl: 'http://127.0.0.1:5678', dir: join('/tmp/x', 'local-nocloud') } });
    expect(cfg.web.admins).toEqual(['alice', LOCAL_ADMIN_ID]);
    expect(cfg.distros).toEqual(production.distros); // the person's own choices stay
  });

  it('starts the console on the simulated cluster with data/local.sqlite, and stops cleanly', async () => {
    const temp = await makeTempDir('local-mode');
    cleanups.push(temp.cleanup);
    const local = await startLocalMode({ config: production, logger: silentLogger, dataDir: temp.dir });
    cleanups.push(() => local.close());
    expect(existsSync(join(temp.dir, LOCAL_DATABASE))).toBe(true);
    expect(existsSync('/var/lib/vmbot/vmbot.sqlite')).toBe(false);
    const session = (await (await fetch(new URL('/api/session', local.url))).json()) as { mode: string; simulated: boolean; banner: string };
    expect(session).toMatchObject({ mode: 'local', simulated: true, banner: expect.stringContaining('SIMULATED CLUSTER') });
    const form = (await (await fetch(new URL('/api/form?as=member', local.url))).json()) as { value: { distros: Array<{ value: string }> } };
    expect(form.value.distros.map((d) => d.value)).toEqual(['ubuntu-24']);
    await local.close();
    await expect(fetch(local.url)).rejects.toThrow();
  });

  it('says when web.listen is taken, and what to set', async () => {
    const temp = await makeTempDir('local-mode-port');
    cleanups.push(temp.cleanup);
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    cleanups.push(() => new Promise<void>((r) => blocker.close(() => r())));
    const port = (blocker.address() as { port: number }).port;
    const config = parseConfig({ nomad: { adapter: 'sim' }, web: { listen: `127.0.0.1:${port}` } });
    await expect(startLocalMode({ config, logger: silentLogger, dataDir: temp.dir })).rejects.toThrow(new RegExp(`127\\.0\\.0\\.1:${port}: the port is already in use.*web\\.listen`));
  });

  it('prints one line: the URL, that the cluster is simulated, what to configure', () => {
    const line = localModeBanner('http://127.0.0.1:8080/');
    expect(line).not.toContain('\n');
    expect(line).toContain('http://127.0.0.1:8080/');
    expect(line).toMatch(/SIMULATED/);
    expect(line).toMatch(/SLACK_BOT_TOKEN.*DISCORD_TOKEN/);
  });
});
