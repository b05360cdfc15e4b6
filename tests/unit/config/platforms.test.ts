// The platform list as the rest of vmbot reads it: who is an admin (the workflow's port), which
// platforms can start and what each still needs, and the secrets each section needs.
import { describe, expect, it } from 'vitest';
import { PLATFORMS } from '../../../src/chat/platforms.js';
import { parseConfig } from '../../../src/config/load.js';
import { adminDecision, halfConfigured, planPlatforms, readyPlatforms } from '../../../src/config/platforms.js';
import { readSecrets, SECRET_NAMES, secretNamesOf } from '../../../src/config/secrets.js';
import { createToyPlatform } from '../../support/toy-platform.js';

const config = parseConfig({
  nomad: { adapter: 'http' },
  slack: { adminChannel: 'C1', admins: ['UADMIN'], adminGroup: 'S0ADMINS' },
  discord: { applicationId: '100000000000000001', guildId: '100000000000000002', adminChannel: '100000000000000003', adminRoles: ['role-admin'], admins: ['200000000000000001'] },
  web: { admins: ['webadmin'] },
});

describe('adminDecision (the workflow’s isAdmin port)', () => {
  const isAdmin = adminDecision(config);

  it('accepts listed users and the admin group of the actor’s own platform, web admins and the CLI', () => {
    expect(isAdmin({ platform: 'slack', userId: 'UADMIN', groups: [] })).toBe(true);
    expect(isAdmin({ platform: 'slack', userId: 'U2', groups: ['S0ADMINS'] })).toBe(true);
    expect(isAdmin({ platform: 'discord', userId: '1', groups: ['role-admin'] })).toBe(true);
    expect(isAdmin({ platform: 'discord', userId: '200000000000000001', groups: [] })).toBe(true);
    expect(isAdmin({ platform: 'web', userId: 'webadmin', groups: [] })).toBe(true);
    expect(isAdmin({ platform: 'cli', userId: 'root', groups: [] })).toBe(true);
  });

  it('refuses members, and an admin id or group presented on another platform', () => {
    expect(isAdmin({ platform: 'slack', userId: 'U2', groups: ['role-admin'] })).toBe(false);
    expect(isAdmin({ platform: 'discord', userId: 'UADMIN', groups: ['S0ADMINS'] })).toBe(false);
    expect(isAdmin({ platform: 'web', userId: 'UADMIN', groups: [] })).toBe(false);
  });

  it('refuses everyone on a platform that is not configured, or not in the list', () => {
    const bare = adminDecision(parseConfig({ nomad: { adapter: 'http' } }));
    expect(bare({ platform: 'slack', userId: 'UADMIN', groups: [] })).toBe(false);
    expect(bare({ platform: 'discord', userId: 'x', groups: ['role-admin'] })).toBe(false);
    expect(isAdmin({ platform: 'mattermost', userId: 'UADMIN', groups: ['S0ADMINS'] })).toBe(false);
  });
});

describe('planPlatforms', () => {
  it('names what each platform still needs, by the section as configured', () => {
    const plan = planPlatforms(config, { SLACK_BOT_TOKEN: 'x' });
    expect(plan.map((p) => p.platform.name)).toEqual(PLATFORMS.map((p) => p.name));
    expect(plan[0]).toMatchObject({ ready: false, missing: ['SLACK_APP_TOKEN (Socket Mode)'] });
    expect(plan[1]).toMatchObject({ ready: false, missing: ['DISCORD_TOKEN'] });
    expect(halfConfigured(plan)).toEqual([
      'Slack is configured but SLACK_APP_TOKEN (Socket Mode) is not set (environment or *_FILE)',
      'Discord is configured but DISCORD_TOKEN is not set (environment or *_FILE)',
    ]);
  });

  it('asks HTTP mode for the signing secret instead of the app token', () => {
    const http = parseConfig({ nomad: { adapter: 'http' }, slack: { mode: 'http', adminChannel: 'C1' } });
    const plan = planPlatforms(http, { SLACK_BOT_TOKEN: 'x', SLACK_SIGNING_SECRET: 'y' });
    expect(readyPlatforms(plan).map((p) => p.platform.name)).toEqual(['slack']);
    expect(halfConfigured(plan)).toEqual([]);
    expect(planPlatforms(http, { SLACK_BOT_TOKEN: 'x' })[0]!.missing).toEqual(['SLACK_SIGNING_SECRET (HTTP mode)']);
  });

  it('names the missing section of a platform the config does not mention, and does not call it half-configured', () => {
    const plan = planPlatforms(parseConfig({ nomad: { adapter: 'http' } }), {});
    expect(plan[1]!.missing).toEqual(['discord (config section: applicationId, guildId, adminChannel, adminRoles)', 'DISCORD_TOKEN']);
    expect(readyPlatforms(plan)).toEqual([]);
    expect(halfConfigured(plan)).toEqual([]);
  });

  it('reads every platform’s secrets, and vmbot’s own', () => {
    expect([...SECRET_NAMES].sort()).toEqual(['DISCORD_TOKEN', 'NOMAD_TOKEN', 'SLACK_APP_TOKEN', 'SLACK_BOT_TOKEN', 'SLACK_SIGNING_SECRET', 'VMBOT_WEB_TOKEN']);
    // A platform added to the list brings its own secrets: nothing else names them.
    const toy = createToyPlatform().platform;
    const env = { TOY_TOKEN: ' t0y ', SLACK_BOT_TOKEN: 'xoxb', UNRELATED: 'x' };
    expect(readSecrets(env, secretNamesOf([...PLATFORMS, toy]))).toEqual({ TOY_TOKEN: 't0y', SLACK_BOT_TOKEN: 'xoxb' });
    expect(readSecrets(env)).toEqual({ SLACK_BOT_TOKEN: 'xoxb' });
  });
});
