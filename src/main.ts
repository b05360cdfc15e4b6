// The composition root of production: the components the configuration and secrets allow
// (builtin NoCloud server, the core, each ready chat platform of the list, the optional
// read-only console), started in order by src/components.ts and stopped in reverse.
// `vmbot doctor` builds the same list and runs each component's check instead of starting it.
import { PLATFORMS } from './chat/platforms.js';
import type { ChatPlatform } from './chat/platform.js';
import { configuredPlatforms, planPlatforms, readyPlatforms } from './config/platforms.js';
import type { Config } from './config/schema.js';
import type { Secrets } from './config/secrets.js';
import type { Logger } from './log.js';
import { startComponents, type Component } from './components.js';
import { chatComponent, coreComponent, resumeComponent, webConsoleComponent } from './process.js';

export interface Running {
  describe: string[];
  close(): Promise<void>;
}

export interface ProcessOptions {
  config: Config;
  secrets: Secrets;
  logger: Logger;
  /** The chat platforms this process knows (default: src/chat/platforms.ts PLATFORMS). */
  platforms?: readonly ChatPlatform[];
}

/**
 * The components of a vmbot process, in start order, without starting anything. `chat`:
 * the platforms that can start (`ready`: serve) or every configured one (`configured`:
 * doctor, whose checks say what is missing).
 */
export async function processComponents(opts: ProcessOptions & { chat: 'ready' | 'configured' }): Promise<Component[]> {
  const { config, secrets, logger } = opts;
  const platforms = opts.platforms ?? PLATFORMS;
  const components: Component[] = [];
  // Loaded only when needed: publishing and the checks pull in ssh2 (SFTP, Nomad over SSH).
  if (config.cloudInit.publish === 'builtin') {
    const { nocloudServerComponent } = await import('./cloudinit/index.js');
    const { listen, dir, publicUrl } = config.cloudInit.builtin;
    components.push(nocloudServerComponent({ dir, host: listen.host, port: listen.port, publicUrl, logger: logger.child({ part: 'nocloud' }) }));
  }
  const core = coreComponent(() => ({ config, secrets, logger, platforms }), async (timeoutMs) => (await import('./core-check.js')).checkCore(config, secrets, logger, timeoutMs));
  components.push(core);
  const plan = planPlatforms(config, secrets, platforms);
  for (const { platform, section } of opts.chat === 'ready' ? readyPlatforms(plan) : configuredPlatforms(plan)) {
    components.push(chatComponent(platform, { section, secrets, logger: logger.child({ platform: platform.name }) }, core));
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

/** The components of a production process, in start order: the ready chat platforms only. */
export async function productionComponents(opts: ProcessOptions): Promise<Component[]> {
  // Refused before anything listens: a half-configured console must not leave ports bound.
  if (opts.config.web.enabled && !opts.secrets.VMBOT_WEB_TOKEN) throw new Error('web.enabled is true but VMBOT_WEB_TOKEN is not set: the production console needs an access token');
  return processComponents({ ...opts, chat: 'ready' });
}

/** Production: the configured Nomad adapter and publisher, the ready chat platforms, optional read-only console. */
export async function startProduction(opts: ProcessOptions): Promise<Running> {
  const started = await startComponents(await productionComponents(opts), opts.logger);
  return { describe: started.describe, close: started.stop };
}
