// The Slack HTTP receiver, started the way `vmbot serve` starts it (startProduction), binds to
// slack.listen, whose default host is loopback: only a reverse proxy on the same machine
// (terminating TLS) reaches it, not the LAN.
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startProduction, type Running } from '../../../src/main.js';
import { parseConfig } from '../../../src/config/load.js';
import { createLogger } from '../../../src/log.js';
import { startSimCluster, type SimCluster } from '../../../src/nomad/sim/index.js';
import { harnessConfigInput } from '../../support/harness.js';
import { SlackDouble } from '../../support/slack-double.js';
import { makeTempDir } from '../../support/tmp.js';
import { accepts, lanAddress } from '../../support/net.js';

describe('security: the Slack HTTP receiver', () => {
  let sim: SimCluster;
  let double: SlackDouble;
  let temp: { dir: string; cleanup(): Promise<void> };
  let running: Running | undefined;
  let url: URL;
  let defaultListen: unknown;
  const lines: string[] = [];

  beforeAll(async () => {
    sim = await startSimCluster({ bootDelayMs: 50 });
    double = await SlackDouble.start();
    double.addUser('UMEMBER', 'member');
    double.addChannel('CADMINS', { members: [] });
    temp = await makeTempDir('sec-slack');
    const input = harnessConfigInput({ dir: temp.dir, simUrl: sim.url, nocloudUrl: 'http://127.0.0.1:9/', config: {} });
    const parsed = parseConfig(
      {
        ...input,
        // No slack.listen: the default.
        slack: { mode: 'http', adminChannel: 'CADMINS', apiUrl: double.apiUrl },
        discord: undefined,
        cloudInit: { publish: 'builtin', builtin: { listen: '127.0.0.1:0', publicUrl: 'http://127.0.0.1:9', dir: join(temp.dir, 'nocloud') } },
      },
      'security test',
    );
    defaultListen = parsed.slack!.listen;
    // The default host as parsed; only the port is a free one, so that the test does not
    // depend on nothing else on this machine holding 3000.
    const config = { ...parsed, slack: { ...parsed.slack!, listen: { ...parsed.slack!.listen, port: 0 } } };
    const destination = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(chunk.toString('utf8'));
        done();
      },
    });
    running = await startProduction({
      config,
      secrets: { SLACK_BOT_TOKEN: double.botToken, SLACK_SIGNING_SECRET: double.signingSecret },
      logger: createLogger({ level: 'info', pretty: false, destination }),
    });
    const started = lines.map((l) => JSON.parse(l) as { msg?: string; url?: string }).find((l) => l.msg === 'Slack adapter started');
    url = new URL(started!.url!);
  });
  afterAll(async () => {
    await running?.close();
    await double?.close();
    sim?.close();
    await temp?.cleanup();
  });

  it('defaults to 127.0.0.1:3000', () => {
    expect(defaultListen).toEqual({ host: '127.0.0.1', port: 3000 });
  });

  it('listens on loopback only, and answers signed requests there', async () => {
    expect(url.hostname).toBe('127.0.0.1');
    expect(url.pathname).toBe('/slack/events');
    const port = Number(url.port);
    expect(await accepts('127.0.0.1', port)).toBe(true);
    // It is the Slack receiver: a forged request is refused, a signed ssl_check answered.
    expect((await double.postSigned(url.href, 'ssl_check=1&token=x')).status).toBe(200);
    expect((await double.postSigned(url.href, 'command=%2Fvm&text=list', { badSignature: true })).status).toBe(401);
    const lan = lanAddress();
    // A machine with no LAN address has nothing else to check.
    if (lan) expect(await accepts(lan, port)).toBe(false);
  });
});
