// DESIGN §4 for the production web console, started the way `vmbot serve` starts it
// (startProduction): it listens only where web.listen says, needs VMBOT_WEB_TOKEN for
// everything, is read-only, and neither the console token nor NOMAD_TOKEN reaches the log.
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startProduction, type Running } from '../../../src/main.js';
import { parseConfig } from '../../../src/config/load.js';
import { createLogger } from '../../../src/log.js';
import { startSimCluster, type SimCluster } from '../../../src/nomad/sim/index.js';
import { harnessConfigInput } from '../../support/harness.js';
import { makeTempDir } from '../../support/tmp.js';
import { accepts, lanAddress } from '../../support/net.js';

const WEB_TOKEN = 'web-console-secret-7c1d0e';
const NOMAD_TOKEN = 'nomad-acl-secret-41aa9b';

describe('security: the production web console', () => {
  let sim: SimCluster;
  let temp: { dir: string; cleanup(): Promise<void> };
  let running: Running | undefined;
  let url: URL;
  const lines: string[] = [];

  beforeAll(async () => {
    sim = await startSimCluster({ bootDelayMs: 50 });
    temp = await makeTempDir('sec-web');
    const input = harnessConfigInput({ dir: temp.dir, simUrl: sim.url, nocloudUrl: 'http://127.0.0.1:9/', config: {} });
    const config = parseConfig(
      {
        ...input,
        slack: undefined,
        discord: undefined,
        cloudInit: { publish: 'builtin', builtin: { listen: '127.0.0.1:0', publicUrl: 'http://127.0.0.1:9', dir: join(temp.dir, 'nocloud') } },
        web: { enabled: true, listen: '127.0.0.1:0' },
      },
      'security test',
    );
    const destination = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(chunk.toString('utf8'));
        done();
      },
    });
    running = await startProduction({
      config,
      secrets: { VMBOT_WEB_TOKEN: WEB_TOKEN, NOMAD_TOKEN },
      logger: createLogger({ level: 'debug', pretty: false, destination }),
    });
    const line = running.describe.find((d) => d.includes('web console'));
    url = new URL(/(http:\/\/\S+)/.exec(line ?? '')![1]!);
  });
  afterAll(async () => {
    await running?.close();
    sim?.close();
    await temp?.cleanup();
  });

  it('listens on the configured loopback address only', async () => {
    expect(url.hostname).toBe('127.0.0.1');
    expect(await accepts('127.0.0.1', Number(url.port))).toBe(true);
    const lan = lanAddress();
    // A machine with no LAN address has nothing else to check.
    if (lan) expect(await accepts(lan, Number(url.port))).toBe(false);
  });

  it('needs the token for every page and route', async () => {
    for (const path of ['/', '/api/session', '/api/cards', '/api/audit', '/api/pool', '/metrics', '/nope']) {
      expect((await fetch(new URL(path, url))).status, path).toBe(401);
      expect((await fetch(new URL(path, url), { headers: { Authorization: 'Bearer wrong' } })).status, path).toBe(401);
    }
    expect((await fetch(new URL('/api/cards', url), { headers: { Authorization: `Bearer ${WEB_TOKEN}` } })).status).toBe(200);
  });

  it('is read-only even with the token and the headers the local console uses', async () => {
    const headers = { Authorization: `Bearer ${WEB_TOKEN}`, 'Content-Type': 'application/json', 'X-Vmbot-As': 'admin' };
    const body = JSON.stringify({ name: 'sneaky', distro: 'debian-12', size: 'small', login: 'alice', sshKeys: 'x', reason: 'y' });
    expect((await fetch(new URL('/api/requests', url), { method: 'POST', headers, body })).status).toBe(405);
    expect((await fetch(new URL('/api/requests/abc/approve', url), { method: 'POST', headers, body: '{}' })).status).toBe(405);
    const cards = (await (await fetch(new URL('/api/cards', url), { headers })).json()) as { value: unknown[] };
    expect(cards.value).toEqual([]);
    // The member routes of local mode do not exist here.
    expect((await fetch(new URL('/api/form?as=admin', url), { headers })).status).toBe(404);
  });

  it('trades ?token= for an HttpOnly cookie and drops it from the URL; no secret is logged', async () => {
    const res = await fetch(new URL(`/?token=${WEB_TOKEN}&x=1`, url), { redirect: 'manual' });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/?x=1');
    expect(res.headers.get('set-cookie')).toMatch(/HttpOnly; SameSite=Strict/);
    const log = lines.join('');
    expect(log).toContain('web request');
    expect(log).not.toContain(WEB_TOKEN);
    expect(log).not.toContain(NOMAD_TOKEN);
  });
});
