// Local mode: vmbot with no chat platform, on the simulated cluster, driven from the web
// console. What `vmbot serve` runs when no Slack or Discord credentials are configured, so
// a newcomer sees the whole workflow (request → approve → MAC → job → boot → address) in a
// browser in one command. It never touches production state: its own database file, its own
// NoCloud folder, a cluster that exists only in this process.
import { join } from 'node:path';
import type { Config } from './config/schema.js';
import type { Logger } from './log.js';
import { startSimCluster, type SimCluster, type SimOptions } from './nomad/sim/index.js';
import { createHttpNomad } from './nomad/http/adapter.js';
import { nocloudServerComponent } from './cloudinit/index.js';
import { createBuiltinPublisher } from './cloudinit/builtin.js';
import { LOCAL_ADMIN_ID, SIMULATED_BANNER } from './chat/web/index.js';
import { startComponents, type Component } from './components.js';
import { coreComponent, resumeComponent, webConsoleComponent } from './process.js';

export interface LocalMode {
  /** The web console, e.g. http://127.0.0.1:8080/ */
  url: string;
  close(): Promise<void>;
}

export interface LocalModeOptions {
  config: Config;
  logger: Logger;
  /** Where local.sqlite and the NoCloud files go (default: data/). */
  dataDir?: string;
  /** Simulated-cluster timings beyond the configured boot delay (tests and benchmarks speed it up). */
  sim?: Pick<SimOptions, 'startDelayMs' | 'chunkDelayMs' | 'stopDelayMs' | 'gcDelayMs'>;
}

/** The database file of local mode, apart from production's data/vmbot.sqlite. */
export const LOCAL_DATABASE = 'local.sqlite';

/** One line for `vmbot serve`: what is running, where, and what to set for real use. */
export function localModeBanner(url: string): string {
  return (
    `vmbot: local mode (no Slack or Discord credentials configured) — open ${url} to try it on a SIMULATED cluster, no real VM is created. ` +
    'For real use set SLACK_BOT_TOKEN + SLACK_APP_TOKEN and a `slack:` section, or DISCORD_TOKEN and a `discord:` section, and `nomad:` (see docs/local-mode.md).'
  );
}

/**
 * The configuration local mode runs with: the person's own config (distros, sizes, pool,
 * templates, web.listen) with everything that could reach real systems replaced.
 */
export function localConfig(config: Config, opts: { dataDir: string; simUrl: string; nocloudUrl: string }): Config {
  return {
    ...config,
    database: { path: join(opts.dataDir, LOCAL_DATABASE) },
    nomad: { ...config.nomad, adapter: 'sim', http: { address: opts.simUrl, timeout: config.nomad.http?.timeout ?? 30_000 } },
    cloudInit: {
      ...config.cloudInit,
      publish: 'builtin',
      builtin: { listen: { host: '127.0.0.1', port: 0 }, publicUrl: opts.nocloudUrl, dir: join(opts.dataDir, 'local-nocloud') },
    },
    // The console's admin view acts as this user.
    web: { ...config.web, admins: [...new Set([...config.web.admins, LOCAL_ADMIN_ID])] },
  };
}

export async function startLocalMode(opts: LocalModeOptions): Promise<LocalMode> {
  const { logger } = opts;
  const dataDir = opts.dataDir ?? 'data';
  // Simulated VMs do not fetch their seed, but a person can open the rendered files there.
  const nocloudDir = join(dataDir, 'local-nocloud');
  const sim = simClusterComponent(opts);
  const nocloud = nocloudServerComponent({ dir: nocloudDir, host: '127.0.0.1', port: 0, logger: logger.child({ part: 'nocloud' }) });
  // Known once the sim and the NoCloud server listen (both on free ports).
  let config: Config | undefined;
  const localConfigNow = () => (config ??= localConfig(opts.config, { dataDir, simUrl: sim.url, nocloudUrl: nocloud.url }));
  const core = coreComponent(() => ({
    config: localConfigNow(),
    secrets: {},
    logger,
    nomad: createHttpNomad({ address: sim.url }),
    publisher: createBuiltinPublisher({ dir: nocloudDir, publicUrl: nocloud.url }),
    ownsPorts: true,
  }));
  const web = webConsoleComponent({ mode: 'local', simulated: true, logger: logger.child({ platform: 'web' }), config: localConfigNow }, core);
  const started = await startComponents([sim, nocloud, core, web, resumeComponent(core)], logger);
  logger.warn({ url: web.url, database: localConfigNow().database.path, nomad: sim.url }, `local mode: ${SIMULATED_BANNER}`);
  return { url: web.url, close: started.stop };
}

/** The simulated cluster as a component (local mode's Nomad). */
function simClusterComponent(opts: LocalModeOptions): Component & { readonly url: string } {
  let sim: SimCluster | undefined;
  return {
    name: 'simulated cluster',
    get url() {
      if (!sim) throw new Error('the simulated cluster is not started');
      return sim.url;
    },
    async start() {
      sim = await startSimCluster({
        ...opts.sim,
        bootDelayMs: opts.config.nomad.sim.bootDelay,
        subnet: opts.config.nomad.sim.subnet,
        host: '127.0.0.1',
        logger: opts.logger.child({ part: 'sim' }),
      });
      return `simulated Nomad cluster on ${sim.url}`;
    },
    async stop() {
      await sim?.close();
    },
  };
}
