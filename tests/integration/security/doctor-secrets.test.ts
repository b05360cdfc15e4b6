// DESIGN §4: secrets are never printed. `vmbot doctor` talks to Slack, Discord and Nomad with
// every secret set, and its failure paths quote what those services answered: with wrong
// tokens, and with services that cannot be reached, no secret value may reach its output.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatResults, runDoctor } from '../../../src/doctor.js';
import { startHarness, type Harness } from '../../support/harness.js';
import { SlackDouble } from '../../support/slack-double.js';

const SECRETS = {
  SLACK_BOT_TOKEN: 'xoxb-0000-doctor-secret-a1',
  SLACK_APP_TOKEN: 'xapp-1-doctor-secret-b2',
  SLACK_SIGNING_SECRET: 'doctor-secret-c3',
  DISCORD_TOKEN: 'doctor-secret-d4.discord',
  NOMAD_TOKEN: 'doctor-secret-e5-nomad',
  VMBOT_WEB_TOKEN: 'doctor-secret-f6-web',
};

describe('security: vmbot doctor never prints a secret', () => {
  let h: Harness;
  let slack: SlackDouble;
  beforeAll(async () => {
    h = await startHarness();
    slack = await SlackDouble.start();
    slack.addChannel('CADMINS');
  });
  afterAll(async () => {
    await slack?.close();
    await h?.close();
  });

  async function doctorWith(name: string, over: { slackApi: string; discordApi: string; nomad: string }): Promise<string> {
    const path = join(h.dir, name);
    await writeFile(
      path,
      stringify({
        database: { path: h.config.database.path },
        templates: { dir: h.config.templates.dir },
        nomad: { adapter: 'http', http: { address: over.nomad } },
        cloudInit: { publish: 'builtin', builtin: { listen: '127.0.0.1:0', publicUrl: h.nocloudUrl, dir: h.config.cloudInit.builtin.dir } },
        slack: { apiUrl: over.slackApi, adminChannel: 'CADMINS', admins: ['UADMIN1'] },
        discord: { apiUrl: over.discordApi, applicationId: '100000000000000001', guildId: '100000000000000002', adminChannel: '100000000000000003', adminRoles: ['200000000000000001'] },
        web: { enabled: true },
      }),
    );
    const results = await runDoctor({ configPath: path, mustExist: true, env: SECRETS, timeoutMs: 3_000 });
    return formatResults(results);
  }

  it('with tokens the services refuse', async () => {
    // The Slack double refuses tokens it did not issue; the Discord URL answers nothing useful.
    const out = await doctorWith('refused.yaml', { slackApi: slack.apiUrl, discordApi: `${slack.apiUrl}discord/`, nomad: h.sim.url });
    expect(out).toMatch(/slack: bot token/);
    expect(out).toMatch(/✗/);
    for (const value of Object.values(SECRETS)) expect(out).not.toContain(value);
  });

  it('with services that cannot be reached', async () => {
    const out = await doctorWith('unreachable.yaml', { slackApi: 'http://127.0.0.1:9/api/', discordApi: 'http://127.0.0.1:9/api', nomad: 'http://127.0.0.1:9' });
    expect(out).toMatch(/nomad/);
    for (const value of Object.values(SECRETS)) expect(out).not.toContain(value);
  });
});
