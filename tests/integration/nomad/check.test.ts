// `vmbot nomad check` / checkNomad: each failure is reported at the step where it happens,
// with what to do. SSH through the ssh2 double (and the nomad shim), HTTP straight to the sim.
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/load.js';
import { registerNomadCommands } from '../../../src/commands/nomad.js';
import { checkNomad, type CheckStep } from '../../../src/nomad/check.js';
import { startSimCluster, type SimCluster } from '../../../src/nomad/sim/index.js';
import { generateKeyPair, startTestSshServer, type TestSshServer } from '../../support/ssh-server.js';
import { makeTempDir } from '../../support/tmp.js';

const TOKEN = 'c0ffee00-1111-4222-8333-444455556666';

async function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

const byName = (steps: CheckStep[]) => Object.fromEntries(steps.map((s) => [s.name, s]));
const failing = (steps: CheckStep[]) => steps.filter((s) => !s.ok);

describe('checkNomad over SSH', () => {
  let sim: SimCluster;
  let server: TestSshServer;
  let tmp: Awaited<ReturnType<typeof makeTempDir>>;
  let keyPath: string;

  const sshConfig = (over: Record<string, unknown> = {}) =>
    parseConfig({
      nomad: {
        adapter: 'ssh',
        ssh: { host: server.host, port: server.port, user: server.user, privateKeyPath: keyPath, hostKeyFingerprint: server.hostKey.fingerprint, tokenFile: '~/.nomad-token', ...over },
      },
    });

  beforeAll(async () => {
    sim = await startSimCluster({ acl: { token: TOKEN } });
    server = await startTestSshServer({ nomadAddr: sim.url, token: TOKEN });
    tmp = await makeTempDir('nomad-check');
    keyPath = join(tmp.dir, 'id_ed25519');
    writeFileSync(keyPath, server.clientKey.privateKey, { mode: 0o600 });
  });
  afterAll(async () => {
    await server?.close();
    await sim?.close();
    await tmp?.cleanup();
  });

  it('passes every step when everything is right', async () => {
    const steps = await checkNomad(sshConfig(), {});
    expect(steps.map((s) => s.name)).toEqual(['dns', 'tcp', 'ssh host key', 'ssh login', 'nomad cli', 'nomad api', 'nomad token']);
    expect(failing(steps)).toEqual([]);
    expect(byName(steps)['nomad cli']!.detail).toContain('nomad-shim/nomad');
  });

  it('names the expected and the actual host key on a mismatch, and stops there', async () => {
    const wrong = generateKeyPair().fingerprint;
    const steps = await checkNomad(sshConfig({ hostKeyFingerprint: wrong }), {});
    expect(failing(steps).map((s) => s.name)).toEqual(['ssh host key']);
    expect(steps.at(-1)!.detail).toContain(wrong);
    expect(steps.at(-1)!.detail).toContain(server.hostKey.fingerprint);
    expect(steps.at(-1)!.fix).toContain('ssh-keygen -lf');
  });

  it('reports a refused login (key not authorized)', async () => {
    const other = join(tmp.dir, 'other_key');
    writeFileSync(other, generateKeyPair().privateKey, { mode: 0o600 });
    const steps = await checkNomad(sshConfig({ privateKeyPath: other }), {});
    expect(byName(steps)['ssh host key']!.ok).toBe(true);
    expect(failing(steps).map((s) => s.name)).toEqual(['ssh login']);
    expect(steps.at(-1)!.fix).toContain('authorized_keys');
  });

  it('reports a missing nomad CLI on the SSH host', async () => {
    const bare = await startTestSshServer({ nomadAddr: sim.url, token: TOKEN, nomadOnPath: false });
    const config = parseConfig({
      nomad: { adapter: 'ssh', ssh: { host: bare.host, port: bare.port, user: bare.user, privateKeyPath: keyPath, hostKeyFingerprint: bare.hostKey.fingerprint } },
    });
    writeFileSync(keyPath, bare.clientKey.privateKey, { mode: 0o600 });
    try {
      const steps = await checkNomad(config, {});
      expect(failing(steps).map((s) => s.name)).toEqual(['nomad cli']);
      expect(steps.at(-1)!.fix).toContain('nomadPath');
    } finally {
      writeFileSync(keyPath, server.clientKey.privateKey, { mode: 0o600 });
      await bare.close();
    }
  });

  it('reports a refused ACL token, with the API itself reachable', async () => {
    writeFileSync(join(server.home, 'wrong-token'), 'not-the-token\n', { mode: 0o600 });
    const steps = await checkNomad(sshConfig({ tokenFile: '~/wrong-token' }), {});
    expect(byName(steps)['nomad api']!.ok).toBe(true);
    expect(failing(steps).map((s) => s.name)).toEqual(['nomad token']);
    expect(steps.at(-1)!.detail).toContain('403');
    expect(JSON.stringify(steps)).not.toContain('not-the-token');
  });

  it('reports a token file that cannot be read', async () => {
    const steps = await checkNomad(sshConfig({ tokenFile: '~/missing-token' }), {});
    expect(failing(steps).map((s) => s.name)).toEqual(['nomad token']);
    expect(steps.at(-1)!.detail).toContain('cannot read the Nomad token file');
  });

  it('reports Nomad unreachable from the SSH host', async () => {
    const cut = await startTestSshServer({ nomadAddr: `http://127.0.0.1:${await closedPort()}`, token: TOKEN });
    writeFileSync(keyPath, cut.clientKey.privateKey, { mode: 0o600 });
    try {
      const config = parseConfig({
        nomad: { adapter: 'ssh', ssh: { host: cut.host, port: cut.port, user: cut.user, privateKeyPath: keyPath, hostKeyFingerprint: cut.hostKey.fingerprint, tokenFile: '~/.nomad-token' } },
      });
      const steps = await checkNomad(config, {});
      expect(failing(steps).map((s) => s.name)).toEqual(['nomad api']);
      expect(steps.at(-1)!.detail).toContain('connection refused');
      expect(steps.at(-1)!.fix).toContain('NOMAD_ADDR');
    } finally {
      writeFileSync(keyPath, server.clientKey.privateKey, { mode: 0o600 });
      await cut.close();
    }
  });

  it('reports DNS and TCP failures before trying SSH', async () => {
    const dns = await checkNomad(sshConfig({ host: 'no-such-host.invalid' }), {});
    expect(failing(dns).map((s) => s.name)).toEqual(['dns']);
    const tcp = await checkNomad(sshConfig({ port: await closedPort() }), {});
    expect(failing(tcp).map((s) => s.name)).toEqual(['tcp']);
    expect(tcp.at(-1)!.detail).toContain('ECONNREFUSED');
  });

  it('`vmbot nomad check` prints one line per step and exits 1 on a failure', async () => {
    const configPath = join(tmp.dir, 'vmbot.config.yaml');
    const wrong = generateKeyPair().fingerprint;
    writeFileSync(
      configPath,
      `nomad:\n  adapter: ssh\n  ssh:\n    host: ${server.host}\n    port: ${server.port}\n    user: ${server.user}\n    privateKeyPath: ${keyPath}\n    hostKeyFingerprint: "${wrong}"\n`,
    );
    const out: string[] = [];
    const program = new Command('vmbot').option('-c, --config <path>').exitOverride();
    registerNomadCommands(program, { out: (t) => out.push(t), err: (t) => out.push(t) });
    const before = process.exitCode;
    try {
      await program.parseAsync(['node', 'vmbot', '-c', configPath, 'nomad', 'check']);
      expect(process.exitCode).toBe(1);
    } finally {
      process.exitCode = before;
    }
    const text = out.join('\n');
    expect(text).toContain('✓ tcp');
    expect(text).toMatch(/✗ ssh host key: .*expected SHA256:/);
  });
});

describe('checkNomad over HTTP', () => {
  let sim: SimCluster;
  beforeAll(async () => {
    sim = await startSimCluster({ acl: { token: TOKEN } });
  });
  afterAll(async () => sim?.close());

  const httpConfig = (address: string) => parseConfig({ nomad: { adapter: 'http', http: { address } } });

  it('passes with the right token', async () => {
    const steps = await checkNomad(httpConfig(sim.url), { NOMAD_TOKEN: TOKEN });
    expect(steps.map((s) => s.name)).toEqual(['dns', 'tcp', 'nomad api', 'nomad token']);
    expect(failing(steps)).toEqual([]);
  });

  it('reports a refused or missing token', async () => {
    const refused = await checkNomad(httpConfig(sim.url), { NOMAD_TOKEN: 'wrong' });
    expect(failing(refused).map((s) => s.name)).toEqual(['nomad token']);
    const missing = await checkNomad(httpConfig(sim.url), {});
    expect(missing.at(-1)!.detail).toContain('NOMAD_TOKEN is not set');
  });

  it('reports an address nothing listens on', async () => {
    const steps = await checkNomad(httpConfig(`http://127.0.0.1:${await closedPort()}`), {});
    expect(failing(steps).map((s) => s.name)).toEqual(['tcp']);
  });

  it('reports a TLS failure against a server that does not speak TLS', async () => {
    const url = new URL(sim.url);
    const steps = await checkNomad(httpConfig(`https://127.0.0.1:${url.port}`), { NOMAD_TOKEN: TOKEN });
    expect(failing(steps).map((s) => s.name)).toEqual(['tls']);
  });
});
