// The composition root: decides what runs (local mode, or production with Slack and/or
// Discord), wires the adapters to one core, and shuts everything down in order.
import type { Config } from './config/schema.js';
import { readSecrets, type Secrets } from './config/secrets.js';
import type { Logger } from './log.js';
import { buildCore, type Core } from './app.js';
import type { ChatAdapter } from './chat/adapter.js';

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

export interface Running {
  describe: string[];
  close(): Promise<void>;
}

/** Production: the configured Nomad adapter and publisher, Slack and/or Discord, optional read-only console. */
export async function startProduction(opts: { config: Config; secrets: Secrets; logger: Logger; plan: PlatformPlan }): Promise<Running> {
  const { config, secrets, logger, plan } = opts;
  const core: Core = await buildCore({ config, secrets, logger });
  const stops: Array<() => Promise<void>> = [() => core.close()];
  const describe: string[] = [];
  try {
    if (config.cloudInit.publish === 'builtin') {
      const { startNoCloudServer } = await import('./cloudinit/nocloud-server.js');
      const { host, port } = config.cloudInit.builtin.listen;
      const server = await startNoCloudServer({ dir: config.cloudInit.builtin.dir, host, port, logger });
      stops.unshift(() => server.close());
      describe.push(`cloud-init files served on ${server.url} (public URL ${config.cloudInit.builtin.publicUrl})`);
    }

    const adapters: ChatAdapter[] = [];
    if (plan.slack.ready && config.slack) {
      const { createSlackAdapter } = await import('./chat/slack/index.js');
      adapters.push(
        createSlackAdapter({
          config: config.slack,
          botToken: secrets.SLACK_BOT_TOKEN!,
          ...(secrets.SLACK_APP_TOKEN ? { appToken: secrets.SLACK_APP_TOKEN } : {}),
          ...(secrets.SLACK_SIGNING_SECRET ? { signingSecret: secrets.SLACK_SIGNING_SECRET } : {}),
          workflow: core.workflow,
          logger: logger.child({ platform: 'slack' }),
        }),
      );
      describe.push(`Slack (${config.slack.mode} mode), admin channel ${config.slack.adminChannel}`);
    }
    if (plan.discord.ready && config.discord) {
      const { createDiscordAdapter } = await import('./chat/discord/index.js');
      adapters.push(
        createDiscordAdapter({ config: config.discord, token: secrets.DISCORD_TOKEN!, workflow: core.workflow, logger: logger.child({ platform: 'discord' }) }),
      );
      describe.push(`Discord, guild ${config.discord.guildId}, admin channel ${config.discord.adminChannel}`);
    }
    for (const adapter of adapters) {
      core.workflow.attachSurface(adapter);
      await adapter.start();
      stops.unshift(() => adapter.stop());
    }

    if (config.web.enabled) {
      if (!secrets.VMBOT_WEB_TOKEN) throw new Error('web.enabled is true but VMBOT_WEB_TOKEN is not set: the production console needs an access token');
      const { startWebConsole } = await import('./chat/web/index.js');
      const web = await startWebConsole({
        workflow: core.workflow,
        store: core.store,
        config,
        mode: 'production',
        host: config.web.listen.host,
        port: config.web.listen.port,
        token: secrets.VMBOT_WEB_TOKEN,
        logger: logger.child({ platform: 'web' }),
        simulated: config.nomad.adapter === 'sim',
      });
      stops.unshift(() => web.stop());
      describe.push(`read-only web console on ${web.url} (token required)`);
    }

    await core.workflow.resume();
  } catch (err) {
    for (const stop of stops) await stop().catch(() => undefined);
    throw err;
  }
  return {
    describe,
    async close() {
      for (const stop of stops) await stop().catch((err: unknown) => logger.warn({ err }, 'error while stopping'));
    },
  };
}

export { readSecrets };
