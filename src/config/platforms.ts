// Which chat platforms the configuration and the secrets allow to start, decided before
// anything starts: `vmbot serve` uses it to choose production or local mode, `vmbot doctor`
// to say what is missing. Names keys and variables only, never secret values.
import type { Config } from './schema.js';
import type { Secrets } from './secrets.js';

export interface PlatformPlan {
  slack: { ready: boolean; missing: string[] };
  discord: { ready: boolean; missing: string[] };
}

/** Which chat platforms can start, and what each still needs (names of keys/variables, never values). */
export function planPlatforms(config: Config, secrets: Secrets): PlatformPlan {
  const slackMissing: string[] = [];
  if (!config.slack) slackMissing.push('slack (config section: adminChannel, admins/adminGroup)');
  if (!secrets.SLACK_BOT_TOKEN) slackMissing.push('SLACK_BOT_TOKEN');
  if ((config.slack?.mode ?? 'socket') === 'socket') {
    if (!secrets.SLACK_APP_TOKEN) slackMissing.push('SLACK_APP_TOKEN (Socket Mode)');
  } else if (!secrets.SLACK_SIGNING_SECRET) slackMissing.push('SLACK_SIGNING_SECRET (HTTP mode)');

  const discordMissing: string[] = [];
  if (!config.discord) discordMissing.push('discord (config section: applicationId, guildId, adminChannel, adminRoles)');
  if (!secrets.DISCORD_TOKEN) discordMissing.push('DISCORD_TOKEN');

  return {
    slack: { ready: slackMissing.length === 0, missing: slackMissing },
    discord: { ready: discordMissing.length === 0, missing: discordMissing },
  };
}

/** True when the config names a platform but its secrets are missing: that is a mistake, not local mode. */
export function halfConfigured(plan: PlatformPlan, config: Config): string[] {
  const problems: string[] = [];
  if (config.slack && !plan.slack.ready) problems.push(`Slack is configured but ${plan.slack.missing.join(', ')} ${plan.slack.missing.length > 1 ? 'are' : 'is'} not set (environment or *_FILE)`);
  if (config.discord && !plan.discord.ready) problems.push(`Discord is configured but ${plan.discord.missing.join(', ')} ${plan.discord.missing.length > 1 ? 'are' : 'is'} not set (environment or *_FILE)`);
  return problems;
}
