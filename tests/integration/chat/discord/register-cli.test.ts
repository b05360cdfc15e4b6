// `vmbot discord register` and `vmbot discord invite`, run in-process through the real CLI
// (commander) against the Discord double.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { stringify } from 'yaml';
import { startDiscordDouble, type DiscordDouble } from '../../../support/discord-double.js';
import { makeTempDir } from '../../../support/tmp.js';
import { main } from '../../../../src/cli.js';
import { ADMIN_CHANNEL, ADMIN_ROLE, GUILD, TOKEN } from './guild.js';

describe('vmbot discord', () => {
  let double: DiscordDouble;
  let temp: { dir: string; cleanup(): Promise<void> };
  let configPath: string;
  let out: string[];
  let err: string[];
  const savedEnv = { ...process.env };

  async function run(...args: string[]): Promise<number> {
    process.exitCode = undefined;
    await main(['node', 'vmbot', '--config', configPath, 'discord', ...args]);
    const code = Number(process.exitCode ?? 0);
    process.exitCode = undefined;
    return code;
  }

  beforeAll(async () => {
    double = await startDiscordDouble({ ...GUILD, token: TOKEN });
    temp = await makeTempDir('discord-cli');
    configPath = join(temp.dir, 'vmbot.config.yaml');
    await writeFile(
      configPath,
      stringify({
        nomad: { adapter: 'sim' },
        distros: [
          { name: 'debian-12', label: 'Debian 12', image: 'http://images.example/debian-12.qcow2' },
          { name: 'ubuntu-24', label: 'Ubuntu 24.04', image: 'http://images.example/ubuntu-24.qcow2' },
        ],
        discord: { apiUrl: double.apiUrl, applicationId: GUILD.applicationId, guildId: GUILD.guildId, adminChannel: ADMIN_CHANNEL, adminRoles: [ADMIN_ROLE] },
      }),
    );
  });
  afterAll(async () => {
    await double?.close();
    await temp?.cleanup();
  });
  afterEach(() => {
    process.env = { ...savedEnv };
    vi.restoreAllMocks();
  });

  function capture(): void {
    out = [];
    err = [];
    vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')));
    vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void err.push(a.join(' ')));
  }

  it('registers /vm in the configured guild with the catalogue as choices, token from DISCORD_TOKEN', async () => {
    capture();
    process.env.DISCORD_TOKEN = TOKEN;
    expect(await run('register')).toBe(0);
    expect(out.join('\n')).toContain(`Registered /vm guild ${GUILD.guildId}`);
    const reg = double.registered.at(-1)!;
    expect(reg.scope).toBe(GUILD.guildId);
    const request = (reg.commands[0]!.options as Array<{ name: string; options?: Array<{ name: string; choices?: Array<{ value: string }> }> }>).find((o) => o.name === 'request')!;
    expect(request.options!.find((o) => o.name === 'distro')!.choices!.map((c) => c.value)).toEqual(['debian-12', 'ubuntu-24']);
  });

  it('registers globally with --global, reading the token from DISCORD_TOKEN_FILE', async () => {
    capture();
    const file = join(temp.dir, 'token');
    await writeFile(file, `${TOKEN}\n`, { mode: 0o600 });
    delete process.env.DISCORD_TOKEN;
    process.env.DISCORD_TOKEN_FILE = file;
    expect(await run('register', '--global')).toBe(0);
    expect(double.registered.at(-1)!.scope).toBe('global');
    expect(out.join('\n')).toContain('globally');
  });

  it('says what to do when the token is missing or refused, and never prints it', async () => {
    capture();
    delete process.env.DISCORD_TOKEN;
    delete process.env.DISCORD_TOKEN_FILE;
    expect(await run('register')).toBe(1);
    expect(err.join('\n')).toContain('DISCORD_TOKEN');

    capture();
    process.env.DISCORD_TOKEN = 'wrong-token-value';
    const before = double.registered.length;
    expect(await run('register')).toBe(1);
    expect(err.join('\n')).toContain('token was refused');
    expect(err.join('\n')).not.toContain('wrong-token-value');
    expect(double.registered.length).toBe(before);
    double.rejections.splice(0);

    capture();
    process.env.DISCORD_TOKEN = TOKEN;
    expect(await run('register', '--guild', 'not-an-id')).toBe(1);
    expect(err.join('\n')).toContain('is not a Discord guild ID');
  });

  it('prints the invite URL with the bot and applications.commands scopes and permissions 19456', async () => {
    capture();
    expect(await run('invite')).toBe(0);
    const url = new URL(out[0]!);
    expect(url.searchParams.get('scope')).toBe('bot applications.commands');
    expect(url.searchParams.get('permissions')).toBe('19456');
    expect(url.searchParams.get('client_id')).toBe(GUILD.applicationId);
  });
});
