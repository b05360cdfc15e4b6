import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatResults, runDoctor, type CheckResult } from '../../src/doctor.js';
import { startHarness, type Harness } from '../support/harness.js';
import { SlackDouble } from '../support/slack-double.js';
import { startDiscordDouble, type DiscordDouble } from '../support/discord-double.js';

const DISCORD = { applicationId: '100000000000000001', guildId: '100000000000000002', adminChannel: '100000000000000003' };
const DISCORD_TOKEN = 'discord-bot-token-for-doctor';

let h: Harness;
let slack: SlackDouble;
let discord: DiscordDouble;

beforeAll(async () => {
  h = await startHarness();
  slack = await SlackDouble.start();
  slack.addChannel('CADMINS').addChannel('COUTSIDE', { botMember: false }).setUsergroup('S0ADMINS', ['UADMIN1', 'UADMIN2']);
  discord = await startDiscordDouble({
    applicationId: DISCORD.applicationId,
    token: DISCORD_TOKEN,
    guildId: DISCORD.guildId,
    guildName: 'Society',
    channels: [{ id: DISCORD.adminChannel, name: 'vm-admins' }],
    roles: [{ id: '200000000000000001', name: 'Sysadmins' }],
    members: [],
  });
});

afterAll(async () => {
  await slack?.close();
  await discord?.close();
  await h?.close();
});

/** A config file like an admin would write, pointing at the harness's sim and NoCloud server and the doubles. */
async function writeConfig(name: string, over: { slack?: object; discord?: object; nomad?: object } = {}): Promise<string> {
  const config = {
    database: { path: h.config.database.path },
    templates: { dir: h.config.templates.dir },
    nomad: { adapter: 'http', http: { address: h.sim.url }, ...over.nomad },
    cloudInit: { publish: 'builtin', builtin: { listen: '127.0.0.1:0', publicUrl: h.nocloudUrl, dir: h.config.cloudInit.builtin.dir } },
    slack: { apiUrl: slack.apiUrl, adminChannel: 'CADMINS', admins: ['UADMIN1'], adminGroup: 'S0ADMINS', ...over.slack },
    discord: { apiUrl: discord.apiUrl, ...DISCORD, adminRoles: ['200000000000000001'], ...over.discord },
  };
  const path = join(h.dir, name);
  await writeFile(path, stringify(config));
  return path;
}

const env = () => ({ SLACK_BOT_TOKEN: slack.botToken, SLACK_APP_TOKEN: slack.appToken, DISCORD_TOKEN });
const byWhat = (results: CheckResult[]) => Object.fromEntries(results.map((r) => [r.what, r]));

describe('vmbot doctor', () => {
  it('passes every check against a healthy setup, one line each', async () => {
    const results = await runDoctor({ configPath: await writeConfig('good.yaml'), mustExist: true, env: env(), timeoutMs: 3000 });
    const failures = results.filter((r) => r.status === 'fail');
    expect(failures, formatResults(failures)).toEqual([]);
    const r = byWhat(results);
    expect(r['config']!.status).toBe('ok');
    expect(r['database']!.detail).toMatch(/migrations applied, write\+read ok/);
    expect(r['cloud-init publishing (builtin)']!.status).toBe('ok');
    expect(r['slack: bot token']!.detail).toMatch(/authenticated as/);
    expect(r['slack: scopes']!.status).toBe('ok');
    expect(r['slack: admin channel']!.detail).toContain('CADMINS');
    expect(r['slack: admin group']!.detail).toBe('S0ADMINS: 2 members');
    expect(r['discord: bot token']!.status).toBe('ok');
    expect(r['discord: guild']!.detail).toContain('Society');
    expect(r['discord: admin channel']!.detail).toContain('vm-admins');
    expect(r['discord: admin roles']!.detail).toContain('Sysadmins');
    const nomad = results.filter((x) => x.what.startsWith('nomad (http)'));
    expect(nomad.length).toBeGreaterThan(0);
    expect(nomad.every((x) => x.status === 'ok'), formatResults(nomad)).toBe(true);
    const text = formatResults(results);
    expect(text.split('\n')).toHaveLength(results.length);
    expect(text).toMatch(/^✓ config: /m);
    // The doctor wrote one audit row to prove the database takes writes.
    expect((await h.core.store.audit.list({ limit: 50 })).some((row) => row.action === 'doctor')).toBe(true);
  });

  it('names what is wrong and what to do: bad tokens, a channel without the bot, unknown roles, missing secrets', async () => {
    const path = await writeConfig('bad.yaml', { slack: { adminChannel: 'COUTSIDE', adminGroup: 'SNOSUCH' }, discord: { adminRoles: ['299999999999999999'] } });
    const r = byWhat(await runDoctor({ configPath: path, mustExist: true, env: { ...env(), SLACK_APP_TOKEN: '' }, timeoutMs: 3000 }));
    expect(r['slack: secrets']).toMatchObject({ status: 'fail', detail: expect.stringContaining('SLACK_APP_TOKEN') });
    expect(r['slack: admin channel']).toMatchObject({ status: 'fail', fix: expect.stringContaining('/invite @') });
    expect(r['discord: admin roles']).toMatchObject({ status: 'fail', detail: expect.stringContaining('299999999999999999') });
    expect(r['slack: admin group']).toMatchObject({ status: 'fail', detail: 'SNOSUCH: no_such_subteam' });

    const wrong = byWhat(await runDoctor({ configPath: await writeConfig('good.yaml'), mustExist: true, env: { ...env(), SLACK_BOT_TOKEN: 'xoxb-wrong', DISCORD_TOKEN: 'wrong' }, timeoutMs: 3000 }));
    expect(wrong['slack: bot token']).toMatchObject({ status: 'fail', detail: expect.stringContaining('invalid_auth'), fix: expect.stringContaining('SLACK_BOT_TOKEN') });
    expect(wrong['discord: bot token']).toMatchObject({ status: 'fail', detail: expect.stringContaining('401'), fix: expect.stringContaining('DISCORD_TOKEN') });
  });

  it('reports missing Slack scopes from the x-oauth-scopes header', async () => {
    const narrow = await SlackDouble.start({ scopes: ['chat:write'] });
    narrow.addChannel('CADMINS');
    try {
      const path = await writeConfig('narrow.yaml', { slack: { apiUrl: narrow.apiUrl } });
      const r = byWhat(await runDoctor({ configPath: path, mustExist: true, env: { ...env(), SLACK_BOT_TOKEN: narrow.botToken, SLACK_APP_TOKEN: narrow.appToken }, timeoutMs: 3000 }));
      expect(r['slack: scopes']).toMatchObject({ status: 'fail', detail: 'missing commands, im:write, usergroups:read' });
      expect(r['slack: admin channel']).toMatchObject({ status: 'skip', detail: expect.stringContaining('channels:read') });
    } finally {
      await narrow.close();
    }
  });

  it('says when the published files cannot be fetched from the public URL', async () => {
    const path = join(h.dir, 'unreachable.yaml');
    await writeFile(path, stringify({
      database: { path: h.config.database.path },
      nomad: { adapter: 'http', http: { address: h.sim.url } },
      cloudInit: { builtin: { listen: '127.0.0.1:0', publicUrl: 'http://127.0.0.1:9/', dir: join(h.dir, 'elsewhere') } },
    }));
    const r = byWhat(await runDoctor({ configPath: path, mustExist: true, env: {}, timeoutMs: 2000 }));
    expect(r['cloud-init publishing (builtin)']).toMatchObject({ status: 'fail', detail: expect.stringContaining('cannot be fetched'), fix: expect.stringContaining('publicUrl') });
    // The Nomad check's own steps (src/nomad/check.ts) come through one line each.
    expect(Object.keys(r).filter((k) => k.startsWith('nomad (http)')).every((k) => r[k]!.status === 'ok')).toBe(true);
    expect(r['chat platforms']).toMatchObject({ status: 'ok', detail: expect.stringContaining('local mode') });
  });

  it('passes on what the Nomad check says when Nomad cannot be reached', async () => {
    const path = await writeConfig('no-nomad.yaml', { nomad: { http: { address: 'http://127.0.0.1:9' } } });
    const results = await runDoctor({ configPath: path, mustExist: true, env: env(), timeoutMs: 2000 });
    const nomad = results.filter((x) => x.what.startsWith('nomad (http)'));
    expect(nomad.some((x) => x.status === 'fail' && /127\.0\.0\.1:9/.test(x.detail) && x.fix)).toBe(true);
    // The other checks still ran.
    expect(results.some((x) => x.what === 'database' && x.status === 'ok')).toBe(true);
  });

  it('stops after an invalid config, listing every problem by key', async () => {
    const path = join(h.dir, 'invalid.yaml');
    await writeFile(path, 'macPool: { ranges: ["not-a-mac"] }\nnomad: { adapter: warp }\n');
    const results = await runDoctor({ configPath: path, mustExist: true, env: {} });
    expect(results).toHaveLength(1);
    expect(results[0]).toMatchObject({ status: 'fail', what: 'config' });
    expect(results[0]!.detail).toMatch(/macPool\.ranges\[0\]/);
    expect(results[0]!.detail).toMatch(/nomad\.adapter/);
  });
});
