// The composition root of production: starts what config/platforms.ts says can run (Slack
// and/or Discord), wires the adapters to one core, and shuts everything down in order.
import type { PlatformPlan } from './config/platforms.js';
import type { Config } from './config/schema.js';
import type { Secrets } from './config/secrets.js';
import type { Logger } from './log.js';
import { buildCore, type Core } from './app.js';
import type { ChatAdapter } from './chat/adapter.js';

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
