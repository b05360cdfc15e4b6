// The composition root of production: the components config/platforms.ts says can run
// (builtin NoCloud server, the core, Slack and/or Discord, the optional read-only console),
// started in order by src/components.ts and stopped in reverse.
import type { PlatformPlan } from './config/platforms.js';
import type { Config } from './config/schema.js';
import type { Secrets } from './config/secrets.js';
import type { Logger } from './log.js';
import { startComponents, type Component } from './components.js';
import { chatComponent, coreComponent, resumeComponent, webConsoleComponent } from './process.js';

export interface Running {
  describe: string[];
  close(): Promise<void>;
}

/** The components of a production process, in start order. */
export async function productionComponents(opts: { config: Config; secrets: Secrets; logger: Logger; plan: PlatformPlan }): Promise<Component[]> {
  const { config, secrets, logger, plan } = opts;
  // Refused before anything listens: a half-configured console must not leave ports bound.
  if (config.web.enabled && !secrets.VMBOT_WEB_TOKEN) throw new Error('web.enabled is true but VMBOT_WEB_TOKEN is not set: the production console needs an access token');
  const components: Component[] = [];
  if (config.cloudInit.publish === 'builtin') {
    const { nocloudServerComponent } = await import('./cloudinit/index.js');
    const { listen, dir, publicUrl } = config.cloudInit.builtin;
    components.push(nocloudServerComponent({ dir, host: listen.host, port: listen.port, publicUrl, logger: logger.child({ part: 'nocloud' }) }));
  }
  const core = coreComponent(() => ({ config, secrets, logger }));
  components.push(core);
  if (plan.slack.ready && config.slack) {
    const slack = config.slack;
    components.push(
      chatComponent(
        'slack',
        async ({ workflow }) => {
          const { createSlackAdapter } = await import('./chat/slack/index.js');
          return createSlackAdapter({
            config: slack,
            botToken: secrets.SLACK_BOT_TOKEN!,
            ...(secrets.SLACK_APP_TOKEN ? { appToken: secrets.SLACK_APP_TOKEN } : {}),
            ...(secrets.SLACK_SIGNING_SECRET ? { signingSecret: secrets.SLACK_SIGNING_SECRET } : {}),
            workflow,
            logger: logger.child({ platform: 'slack' }),
          });
        },
        core,
        `Slack (${slack.mode} mode), admin channel ${slack.adminChannel}`,
      ),
    );
  }
  if (plan.discord.ready && config.discord) {
    const discord = config.discord;
    components.push(
      chatComponent(
        'discord',
        async ({ workflow }) => {
          const { createDiscordAdapter } = await import('./chat/discord/index.js');
          return createDiscordAdapter({ config: discord, token: secrets.DISCORD_TOKEN!, workflow, logger: logger.child({ platform: 'discord' }) });
        },
        core,
        `Discord, guild ${discord.guildId}, admin channel ${discord.adminChannel}`,
      ),
    );
  }
  if (config.web.enabled) {
    components.push(
      webConsoleComponent(
        { mode: 'production', simulated: config.nomad.adapter === 'sim', logger: logger.child({ platform: 'web' }), config: () => config, ...(secrets.VMBOT_WEB_TOKEN ? { token: secrets.VMBOT_WEB_TOKEN } : {}) },
        core,
      ),
    );
  }
  components.push(resumeComponent(core));
  return components;
}

/** Production: the configured Nomad adapter and publisher, Slack and/or Discord, optional read-only console. */
export async function startProduction(opts: { config: Config; secrets: Secrets; logger: Logger; plan: PlatformPlan }): Promise<Running> {
  const started = await startComponents(await productionComponents(opts), opts.logger);
  return { describe: started.describe, close: started.stop };
}
