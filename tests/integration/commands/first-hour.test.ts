// What a new admin meets in the first hour with the CLI: a mistake must say what went wrong
// and what to do, never a stack trace, and a look-up must not create state as a side effect.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { stringify } from 'yaml';
import { buildProgram } from '../../../src/cli.js';
import { registerPoolCommands } from '../../../src/commands/pool.js';
import { makeTempDir } from '../../support/tmp.js';
import { makeCliHarness, POOL } from './helpers-store.js';
import { runCli as runCliStreams, type CliResult } from '../../unit/config/run-cli.js';

const ROOT = join(import.meta.dirname, '../../..');
let tmp: Awaited<ReturnType<typeof makeTempDir>>;
beforeAll(async () => {
  tmp = await makeTempDir('first-hour');
});
afterAll(() => tmp.cleanup());

async function configFile(name: string, config: Record<string, unknown>): Promise<string> {
  const file = join(tmp.dir, name);
  await writeFile(file, stringify({ templates: { dir: join(ROOT, 'templates') }, ...config }));
  return file;
}

/** runCli, also catching what commands print with console.log / console.error. */
async function runCli(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  const out: string[] = [];
  const err: string[] = [];
  const log = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(`${a.join(' ')}\n`));
  const error = vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void err.push(`${a.join(' ')}\n`));
  try {
    const result = await runCliStreams(args, env);
    return { code: result.code, stdout: result.stdout + out.join(''), stderr: result.stderr + err.join('') };
  } finally {
    log.mockRestore();
    error.mockRestore();
  }
}

/** A loopback port nothing listens on (taken, then given back). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('vmbot config check', () => {
  it('names the key a typo was meant to be, lists the allowed keys otherwise, and says which keys are missing', async () => {
    const file = await configFile('typos.yaml', {
      macpool: {},
      nomad: { adapter: 'sim', jobprefix: 'x-', colour: 'blue' },
      distros: [{ name: 'd', lable: 'D', image: 'http://images.test/d.qcow2' }],
    });
    const result = await runCli(['--config', file, 'config', 'check']);
    expect(result.code).toBe(1);
    const lines = result.stderr.trim().split('\n').slice(1);
    expect(lines).toEqual(
      expect.arrayContaining([
        '  - (top level): unknown key(s) "macpool" (did you mean "macPool"?)',
        '  - distros[0]: unknown key(s) "lable" (did you mean "label"?)',
        '  - distros[0].label: missing: this key is required (string)',
        '  - nomad: unknown key(s) "jobprefix" (did you mean "jobPrefix"?), "colour" (check the spelling against vmbot.config.example.yaml; allowed here: adapter, datacenters, jobPrefix, namespace, region, ipTimeout, pollInterval, hostKeyWait, hostKeysTimeout, ssh, http, sim, clusters, routes)',
      ]),
    );
    expect(lines).toHaveLength(4);
  });
});

describe('vmbot pool reserve', () => {
  it('says when it only replaces the note of a reservation, and when the MAC is outside the pool', async () => {
    const h = await makeCliHarness(registerPoolCommands);
    try {
      expect(await h.run(['pool', 'reserve', '52:54:84:ba:49:05', '--note', 'printer'])).toEqual({ out: 'Reserved 52:54:84:ba:49:05 (printer).\n', err: '', exitCode: 0 });
      expect(await h.run(['pool', 'reserve', '52:54:84:ba:49:05', '--note', 'office printer'])).toEqual({
        out: '52:54:84:ba:49:05 was reserved already (printer); note now: office printer.\n',
        err: '',
        exitCode: 0,
      });
      const outside = await h.run(['pool', 'reserve', '52:54:84:bb:00:00', '--note', 'typo?']);
      expect(outside.out).toBe('Reserved 52:54:84:bb:00:00 (typo?).\n');
      expect(outside.err).toBe(`Note: 52:54:84:bb:00:00 is outside macPool.ranges (${POOL.ranges[0]}), so vmbot would not hand it out anyway. Check the address if you meant one of the pool.\n`);
      expect(outside.exitCode).toBe(0);
    } finally {
      await h.cleanup();
    }
  });
});

describe('vmbot config check outside a clone', () => {
  it("names the templates folder it really checked when there is no ./templates/", async () => {
    const file = join(tmp.dir, 'bare.yaml');
    await writeFile(file, stringify({ nomad: { adapter: 'sim' } }));
    const cwd = process.cwd();
    process.chdir(tmp.dir);
    try {
      const result = await runCli(['--config', file, 'config', 'check']);
      expect(result.code).toBe(0);
      expect(result.stdout).toContain(`  Templates:      ${join(ROOT, 'templates')} (checked; vmbot's own, as there is no ./templates/ here)\n`);
    } finally {
      process.chdir(cwd);
    }
  });
});

describe('admin commands before there is a database', () => {
  it('vmbot ip says there is no database (and that local mode keeps its own) without creating one', async () => {
    const db = join(tmp.dir, 'none', 'vmbot.sqlite');
    const file = await configFile('no-db.yaml', { nomad: { adapter: 'sim' }, database: { path: db } });
    const result = await runCli(['--config', file, 'ip', 'web1']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`vmbot ip: There is no database at ${db} yet`);
    expect(result.stderr).toContain('Local mode keeps its own (data/local.sqlite), which the admin commands do not read');
    expect(result.stderr).not.toContain('no VM named');
    expect(existsSync(db)).toBe(false);
  });

  it('vmbot audit says the same', async () => {
    const db = join(tmp.dir, 'none', 'vmbot.sqlite');
    const file = await configFile('no-db-audit.yaml', { nomad: { adapter: 'sim' }, database: { path: db } });
    const result = await runCli(['--config', file, 'audit']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^vmbot audit: There is no database at .* yet: `vmbot serve` creates it when it runs with Slack or Discord\. Local mode keeps its own \(data\/local\.sqlite\)/);
    expect(existsSync(db)).toBe(false);
  });
});

describe('vmbot render --ssh-key', () => {
  it('given the private key file, points at the .pub file next to it instead of calling the key exposed', async () => {
    const file = await configFile('render.yaml', { nomad: { adapter: 'sim' }, database: { path: join(tmp.dir, 'render.sqlite') } });
    const key = join(tmp.dir, 'id_ed25519');
    await writeFile(key, '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----\n');
    await writeFile(`${key}.pub`, 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGCydFmyakYSiXGi5X2tfxymDnRA2wEpKTm+vY/qHKDZ me@laptop\n');
    const result = await runCli(['--config', file, 'render', '--name', 'web1', '--user', 'alice', '--ssh-key', key]);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr.trim().split('\n')).toEqual([
      'vmbot render: nothing rendered:',
      `  - sshKeys (--ssh-key): ${JSON.stringify(key)} is a private key file: name its public key file instead (${key}.pub), the one ending in .pub.`,
    ]);
  });
});

describe('--help', () => {
  it('render marks what is required instead of showing empty defaults', async () => {
    const help = buildProgram()
      .commands.find((c) => c.name() === 'render')!
      .helpInformation();
    expect(help).not.toMatch(/\(default: (""|\[\])\)/);
    expect(help.match(/\(required\)/g)).toHaveLength(3);
  });
});

describe('vmbot --version', () => {
  it("prints package.json's version and exits 0", async () => {
    const { version } = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    const result = await runCli(['--version']);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(`${version}\n`);
  });
});

describe('--timeout of doctor and nomad check', () => {
  it('refuses a value that is not a number of seconds instead of quietly waiting the default', async () => {
    for (const command of [['doctor'], ['nomad', 'check']]) {
      const result = await runCli([...command, '--timeout', '10s']);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain(`error: option '--timeout <seconds>' argument '10s' is invalid. expected a number of seconds from 0.1 to 3600, e.g. 30; got "10s".`);
      expect(result.stdout).toBe('');
    }
  });
});

describe('vmbot discord register', () => {
  it('says it cannot reach Discord, and where it tried, instead of crashing', async () => {
    const apiUrl = `http://127.0.0.1:${await closedPort()}/api`;
    const file = await configFile('discord.yaml', {
      nomad: { adapter: 'sim' },
      discord: { apiUrl, applicationId: '123456789012345678', guildId: '234567890123456789', adminChannel: '345678901234567890' },
    });
    const result = await runCli(['--config', file, 'discord', 'register'], { DISCORD_TOKEN: 'not-a-real-token' });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(new RegExp(`^vmbot discord: cannot reach Discord at ${apiUrl.replace(/[.]/g, '\\.')}: ECONNREFUSED \\(.*\\): check this machine's network and DNS \\(and discord\\.apiUrl if you changed it\\), then run it again\\n$`));
    expect(result.stderr).not.toContain('not-a-real-token');
  });
});

describe('output into a pipe that closes early (vmbot audit | head)', () => {
  it('stops quietly with the exit code it had, instead of dying on EPIPE with a stack trace', async () => {
    const file = await configFile('pipe.yaml', { nomad: { adapter: 'sim' }, database: { path: join(tmp.dir, 'pipe.sqlite') } });
    const key = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGCydFmyakYSiXGi5X2tfxymDnRA2wEpKTm+vY/qHKDZ me@laptop';
    const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'cli-main.ts'), '--config', file, 'render', '--name', 'web1', '--user', 'alice', '--ssh-key', key], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    // The reader is gone before vmbot writes its first byte (tsx alone takes longer to start).
    child.stdout.destroy();
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
    expect(stderr).not.toContain('EPIPE');
    expect(stderr).toMatch(/^MAC 52:54:84:ba:49:00 \(no database at .* yet/);
    expect(code).toBe(0);
  }, 30_000);
});
