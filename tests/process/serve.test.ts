// vmbot as it is deployed: `node bin/vmbot.js serve` as a child process, a YAML config with
// FIXED ports (so two servers fighting for one port fail here, as they would in production),
// secrets only in the environment, driven through the project's doubles: the Slack double
// (HTTP and Socket Mode), the Discord double, the simulated Nomad cluster. Each flow is
// request → approve → the member's DM with `ssh login@IP`, then SIGTERM → exit code 0 and
// every port vmbot held is free again. Local mode's run as a process is in local-mode.test.ts.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startSimCluster, type SimCluster } from '../../src/nomad/sim/index.js';
import { SlackDouble, type StoredMessage } from '../support/slack-double.js';
import { messageText, startDiscordDouble, buttonIds } from '../support/discord-double.js';
import { makeTempDir } from '../support/tmp.js';
import { TEST_SSH_KEY } from '../support/harness.js';
import { join } from 'node:path';
import { readFile, writeFile } from 'node:fs/promises';
import { startSshd } from '../support/sshd.js';
import { portsFreed, REPO, startVmbot, type VmbotProcess } from '../support/vmbot-process.js';
import { GUILD, TOKEN, ADMIN_CHANNEL as DISCORD_ADMIN_CHANNEL, ADMIN_ROLE, ALICE, CAROL_ADMIN } from '../integration/chat/discord/guild.js';

// Fixed ports, one set per test so a leftover of one cannot hide behind another; below
// Linux's ephemeral range (32768-60999), where a port another test bound to 0 (or an
// outgoing connection) could hold one of them at the moment vmbot binds it.
const PORTS = { slackHttp: { slack: 27311, nocloud: 27312 }, slackSocket: { nocloud: 27322 }, discord: { nocloud: 27332 }, ssh: { slack: 27351 } };

const ADMIN = 'UADMIN1';
const MEMBER = 'U1';
const SLACK_ADMIN_CHANNEL = 'CADMINS';

let sim: SimCluster;
const cleanups: Array<() => Promise<unknown>> = [];

beforeAll(async () => {
  sim = await startSimCluster({ bootDelayMs: 50, chunkDelayMs: 2, startDelayMs: 20, stopDelayMs: 10, gcDelayMs: 20 });
});
afterAll(async () => {
  await sim.close();
});
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});

/** The parts of a config every production run here shares: the sim, and paths relative to the working directory, as a person writes them. */
function baseConfig(nocloudPort: number): Record<string, unknown> {
  return {
    database: { path: 'data/vmbot.sqlite' },
    templates: { dir: join(REPO, 'templates') },
    macPool: { ranges: ['52:54:84:ba:49:00-52:54:84:ba:49:ff'], reserved: [{ mac: '52:54:84:ba:49:01', note: 'distro-vm' }] },
    nomad: { adapter: 'http', datacenters: ['aperture'], jobPrefix: 'uservm-', ipTimeout: '30s', pollInterval: 50, http: { address: sim.url } },
    cloudInit: { publish: 'builtin', builtin: { listen: `127.0.0.1:${nocloudPort}`, publicUrl: `http://127.0.0.1:${nocloudPort}`, dir: 'data/nocloud' } },
    log: { level: 'info' },
  };
}

async function serve(config: Record<string, unknown>, env: Record<string, string>): Promise<VmbotProcess> {
  const temp = await makeTempDir('serve');
  cleanups.push(() => temp.cleanup());
  const vmbot = await startVmbot({ dir: temp.dir, config, env });
  cleanups.push(() => vmbot.stop());
  return vmbot;
}

/** The seed URL the job hands the guest (`-smbios type=1,serial=ds=nocloud-net;s=URL`), from the sim's copy of the job. */
async function seedUrlOf(vmName: string): Promise<string> {
  const res = await fetch(`${sim.url}/v1/job/uservm-${vmName}`);
  expect(res.status).toBe(200);
  const text = JSON.stringify(await res.json());
  const match = /s=(http:\/\/[^"\\]+\/)/.exec(text);
  if (!match) throw new Error(`no seed URL in the job of ${vmName}`);
  return match[1]!;
}

/** The NoCloud files of a VM, fetched from the seed URL as cloud-init would. */
async function expectSeedServed(vmName: string, nocloudPort: number): Promise<void> {
  const seed = await seedUrlOf(vmName);
  expect(seed.startsWith(`http://127.0.0.1:${nocloudPort}/nocloud/`)).toBe(true);
  const meta = await fetch(`${seed}meta-data`);
  expect(meta.status).toBe(200);
  expect(await meta.text()).toContain(`local-hostname: "${vmName}"`);
  const user = await fetch(`${seed}user-data`);
  expect(user.status).toBe(200);
  expect((await user.text()).split('\n')[0]).toBe('#cloud-config');
}

async function expectCleanExit(vmbot: VmbotProcess, ports: number[]): Promise<void> {
  expect(await vmbot.stop()).toBe(0);
  expect(vmbot.output()).toContain('SIGTERM received, shutting down');
  await portsFreed(ports);
}

function slackDouble(): Promise<SlackDouble> {
  return SlackDouble.start().then((double) => {
    double.addUser(ADMIN, 'admin1').addUser(MEMBER, 'member');
    double.addChannel(SLACK_ADMIN_CHANNEL, { members: [ADMIN] });
    cleanups.push(() => double.close());
    return double;
  });
}

async function slackFlow(double: SlackDouble, name: string): Promise<string> {
  const before = double.views.length;
  const ack = await double.slashCommand({ user: MEMBER, text: 'request' });
  expect(ack.status).toBe(200);
  const view = await double.waitFor(() => double.views.length > before && double.lastViewFor(MEMBER), 10_000, 'the request modal');
  const submitted = await double.submitView({ user: MEMBER, view, values: { name, distro: 'debian-12', size: 'small', sshKeys: TEST_SSH_KEY, login: 'alice', reason: 'Coursework' } });
  expect(submitted.status).toBe(200);
  const hasApprove = (m: StoredMessage) => JSON.stringify(m.blocks).includes('vm:approve');
  const card = await double.waitFor(() => double.messagesIn(SLACK_ADMIN_CHANNEL).find((m) => JSON.stringify(m.blocks).includes(`VM request: ${name}`) && hasApprove(m)), 10_000, 'the admin card');
  const press = await double.pressButton({ user: ADMIN, message: card, actionId: 'vm:approve' });
  expect(press.status).toBe(200);
  const up = await double.waitFor(() => double.dmsTo(MEMBER).find((m) => /ssh alice@\d+\.\d+\.\d+\.\d+/.test(m.text)), 30_000, 'the "your VM is up" DM');
  return /ssh alice@(\d+\.\d+\.\d+\.\d+)/.exec(up.text)![1]!;
}

describe('vmbot serve as a child process', () => {
  it('Slack HTTP mode, Nomad http, builtin publishing: request → approve → DM with ssh, files served; SIGTERM exits 0', async () => {
    const double = await slackDouble();
    const { slack, nocloud } = PORTS.slackHttp;
    const vmbot = await serve(
      { ...baseConfig(nocloud), slack: { mode: 'http', apiUrl: double.apiUrl, listen: `127.0.0.1:${slack}`, adminChannel: SLACK_ADMIN_CHANNEL, admins: [ADMIN] } },
      { SLACK_BOT_TOKEN: double.botToken, SLACK_SIGNING_SECRET: double.signingSecret },
    );
    await vmbot.waitForOutput(/vmbot is running/);
    double.deliverTo({ mode: 'http', url: `http://127.0.0.1:${slack}/slack/events` });
    const address = await slackFlow(double, 'proc-http');
    expect(address).toMatch(/^10\.10\.0\.\d+$/);
    await expectSeedServed('proc-http', nocloud);
    // Secrets reach vmbot only through the environment, and never its output.
    expect(vmbot.output()).not.toContain(double.botToken);
    expect(vmbot.output()).not.toContain(double.signingSecret);
    await expectCleanExit(vmbot, [slack, nocloud]);
  });

  it('Slack Socket Mode: the same flow over the websocket; SIGTERM exits 0', async () => {
    const double = await slackDouble();
    const { nocloud } = PORTS.slackSocket;
    const vmbot = await serve(
      { ...baseConfig(nocloud), slack: { mode: 'socket', apiUrl: double.apiUrl, adminChannel: SLACK_ADMIN_CHANNEL, admins: [ADMIN] } },
      { SLACK_BOT_TOKEN: double.botToken, SLACK_APP_TOKEN: double.appToken },
    );
    await vmbot.waitForOutput(/vmbot is running/);
    await double.socketConnected(10_000);
    double.deliverTo({ mode: 'socket' });
    expect(await slackFlow(double, 'proc-socket')).toMatch(/^10\.10\.0\.\d+$/);
    await expectSeedServed('proc-socket', nocloud);
    expect(vmbot.output()).not.toContain(double.appToken);
    await expectCleanExit(vmbot, [nocloud]);
  });

  it('Discord: request → approve → DM with ssh; SIGTERM exits 0', async () => {
    const double = await startDiscordDouble({ ...GUILD, token: TOKEN });
    cleanups.push(() => double.close());
    const { nocloud } = PORTS.discord;
    const vmbot = await serve(
      {
        ...baseConfig(nocloud),
        discord: { apiUrl: double.apiUrl, applicationId: GUILD.applicationId, guildId: GUILD.guildId, adminChannel: DISCORD_ADMIN_CHANNEL, adminRoles: [ADMIN_ROLE] },
      },
      { DISCORD_TOKEN: TOKEN },
    );
    await vmbot.waitForOutput(/vmbot is running/);
    await double.connected(10_000);
    // As an admin would after installing: `vmbot discord register` (the /vm command must exist to be used).
    const { registerCommands } = await import('../../src/chat/discord/register.js');
    const { parseConfig } = await import('../../src/config/load.js');
    await registerCommands({ apiUrl: double.apiUrl, token: TOKEN, applicationId: GUILD.applicationId, guildId: GUILD.guildId, catalogue: parseConfig(baseConfig(nocloud)), restOptions: { retries: 0 } });
    const command = double.slashCommand(ALICE, 'request', { name: 'proc-discord', distro: 'debian-12', size: 'small' });
    await command.response(10_000);
    const submit = double.submitModal(ALICE, command, { login: 'alice', ssh_keys: TEST_SSH_KEY, reason: 'course work' });
    await submit.response(10_000);
    const card = await double.waitFor(() => double.messages(DISCORD_ADMIN_CHANNEL).find((m) => messageText(m).includes('VM proc-discord')), { what: 'the admin card', timeoutMs: 10_000 });
    const approve = buttonIds(card).find((id) => id.startsWith('vm:approve:'))!;
    await double.pressButton(CAROL_ADMIN, { channelId: card.channel_id, messageId: card.id }, approve).response(10_000);
    const up = await double.waitFor(() => double.dmsTo(ALICE).find((m) => /ssh alice@\d+\.\d+\.\d+\.\d+/.test(messageText(m))), { what: 'the "your VM is up" DM', timeoutMs: 30_000 });
    expect(messageText(up)).toMatch(/ssh alice@10\.10\.0\.\d+/);
    await expectSeedServed('proc-discord', nocloud);
    expect(vmbot.output()).not.toContain(TOKEN);
    await expectCleanExit(vmbot, [nocloud]);
  });

  it('Nomad over SSH (real sshd, the nomad CLI shim) and SFTP publishing, Slack HTTP mode: the files land in the folder nginx serves; SIGTERM exits 0', async () => {
    const double = await slackDouble();
    const sshd = await startSshd({ nomadAddr: sim.url, token: 'nomad-token-not-a-secret' });
    cleanups.push(() => sshd.close());
    const keyPath = join(sshd.dir, 'vmbot_key');
    await writeFile(keyPath, sshd.clientKey.privateKey, { mode: 0o600 });
    const target = { host: sshd.host, port: sshd.port, user: sshd.user, privateKeyPath: keyPath, hostKeyFingerprint: sshd.hostKey.fingerprint };
    const resources = join(sshd.sftpRoot, 'vm-resources');
    const { slack } = PORTS.ssh;
    const base = baseConfig(0);
    const vmbot = await serve(
      {
        ...base,
        nomad: { adapter: 'ssh', datacenters: ['aperture'], jobPrefix: 'uservm-', ipTimeout: '30s', pollInterval: 50, ssh: { ...target, tokenFile: '~/.nomad-token' } },
        cloudInit: { publish: 'sftp', sftp: { ...target, dir: resources, publicUrl: 'http://vm-resources.service.consul:8000/res' } },
        slack: { mode: 'http', apiUrl: double.apiUrl, listen: `127.0.0.1:${slack}`, adminChannel: SLACK_ADMIN_CHANNEL, admins: [ADMIN] },
      },
      { SLACK_BOT_TOKEN: double.botToken, SLACK_SIGNING_SECRET: double.signingSecret },
    );
    await vmbot.waitForOutput(/vmbot is running/);
    double.deliverTo({ mode: 'http', url: `http://127.0.0.1:${slack}/slack/events` });
    expect(await slackFlow(double, 'proc-ssh')).toMatch(/^10\.10\.0\.\d+$/);
    // The job names the admins' nginx URL; the files are where that nginx serves them from.
    expect(await seedUrlOf('proc-ssh')).toBe('http://vm-resources.service.consul:8000/res/proc-ssh/');
    expect(await readFile(join(resources, 'proc-ssh', 'meta-data'), 'utf8')).toContain('local-hostname: "proc-ssh"');
    expect((await readFile(join(resources, 'proc-ssh', 'user-data'), 'utf8')).split('\n')[0]).toBe('#cloud-config');
    expect(vmbot.output()).not.toContain('nomad-token-not-a-secret');
    await expectCleanExit(vmbot, [slack]);
  });
});
