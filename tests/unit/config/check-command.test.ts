import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './run-cli.js';
import { makeTempDir } from '../../support/tmp.js';

const ROOT = join(import.meta.dirname, '../../..');
const TEMPLATES = join(ROOT, 'templates');

let tmp: Awaited<ReturnType<typeof makeTempDir>>;
beforeAll(async () => {
  tmp = await makeTempDir('config-check');
});
afterAll(() => tmp.cleanup());

async function configFile(text: string): Promise<string> {
  const file = join(tmp.dir, `${Math.random().toString(36).slice(2)}.yaml`);
  await writeFile(file, text);
  return file;
}

const NO_SECRETS = { SLACK_BOT_TOKEN: undefined, SLACK_APP_TOKEN: undefined, SLACK_SIGNING_SECRET: undefined, DISCORD_TOKEN: undefined, NOMAD_TOKEN: undefined, VMBOT_WEB_TOKEN: undefined };

describe('vmbot config check', () => {
  it('lists every problem by key path and exits 1', async () => {
    const file = await configFile('macPool:\n  ranges: ["52:54:84:ba:49:00-52:54:84:ba:49:zz"]\nnomad:\n  adapter: sim\n  jobprefix: x\nslack: {}\n');
    const result = await runCli(['--config', file, 'config', 'check'], NO_SECRETS);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain(`${file}: the configuration is invalid:`);
    expect(result.stderr).toContain('  - macPool.ranges[0]: "52:54:84:ba:49:zz" is not a MAC address');
    expect(result.stderr).toContain('  - nomad: unknown key(s) "jobprefix"');
    expect(result.stderr).toMatch(/ {2}- slack\.adminChannel: /);
  });

  it('summarises a valid file: adapter, publisher, platforms, and secrets set or missing without their values', async () => {
    const example = (await readFile(join(ROOT, 'vmbot.config.example.yaml'), 'utf8')).replace('dir: templates', `dir: ${JSON.stringify(TEMPLATES)}`);
    const file = await configFile(example);
    const secret = 'xoxb-very-secret-value';
    const result = await runCli(['--config', file, 'config', 'check'], { ...NO_SECRETS, SLACK_BOT_TOKEN: secret });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`${file}: valid`);
    expect(result.stdout).toMatch(/Nomad adapter: +ssh \(vmbot@wheatley\.example\.org:22, host key pinned/);
    expect(result.stdout).toMatch(/Publisher: +builtin/);
    expect(result.stdout).toMatch(/Chat platforms: +slack \(Socket Mode.*; discord \(guild 100000000000000002/);
    expect(result.stdout).toMatch(/MAC pool: +256 address\(es\), 4 reserved/);
    expect(result.stdout).toMatch(/SLACK_BOT_TOKEN +set \(required for slack\)/);
    expect(result.stdout).toMatch(/SLACK_APP_TOKEN +MISSING \(required for slack Socket Mode\)/);
    expect(result.stdout).toMatch(/DISCORD_TOKEN +MISSING/);
    expect(result.stdout).toMatch(/Warning: SLACK_APP_TOKEN, DISCORD_TOKEN missing/);
    expect(result.stdout + result.stderr).not.toContain(secret);
  });

  it('reads a secret from VAR_FILE and reports an unreadable one as a problem', async () => {
    const file = await configFile(`templates: { dir: ${JSON.stringify(TEMPLATES)} }\nnomad: { adapter: http }\n`);
    const tokenFile = join(tmp.dir, 'nomad-token');
    await writeFile(tokenFile, 'nomad-secret-token\n');
    const ok = await runCli(['--config', file, 'config', 'check'], { ...NO_SECRETS, NOMAD_TOKEN_FILE: tokenFile });
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/NOMAD_TOKEN +set \(optional for a Nomad cluster with ACLs\)/);
    expect(ok.stdout).not.toContain('nomad-secret-token');
    const bad = await runCli(['--config', file, 'config', 'check'], { ...NO_SECRETS, NOMAD_TOKEN_FILE: join(tmp.dir, 'absent') });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/NOMAD_TOKEN_FILE: NOMAD_TOKEN_FILE names .*absent, which cannot be read: ENOENT/);
  });

  it('refuses templates that print a bare {{x}}, naming the file and line', async () => {
    const dir = join(tmp.dir, 'unsafe-templates');
    for (const f of ['nomad/vm.hcl.hbs', 'cloud-init/user-data.hbs', 'cloud-init/meta-data.hbs']) {
      await mkdir(join(dir, f, '..'), { recursive: true });
      await writeFile(join(dir, f), await readFile(join(TEMPLATES, f), 'utf8'));
    }
    await writeFile(join(dir, 'cloud-init/meta-data.hbs'), 'instance-id: {{requestId}}\n');
    const file = await configFile(`templates: { dir: ${JSON.stringify(dir)} }\nnomad: { adapter: sim }\n`);
    const result = await runCli(['--config', file, 'config', 'check'], NO_SECRETS);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/templates\.dir: template .*meta-data\.hbs: unsafe or unsupported expressions:\n {2}line 1, column 14: \{\{requestId\}\}: a bare value is not allowed/);
  });

  it('refuses a named file that does not exist', async () => {
    const result = await runCli(['--config', join(tmp.dir, 'nope.yaml'), 'config', 'check'], NO_SECRETS);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/nope\.yaml: the configuration is invalid:\n {2}- cannot read the file: ENOENT/);
  });
});
