// Local mode: vmbot with no chat platform, on the simulated cluster, driven from the web
// console. What `vmbot serve` runs when no Slack or Discord credentials are configured, so
// a newcomer sees the whole workflow (request → approve → MAC → job → boot → address) in a
// browser in one command. It never touches production state: its own database file, its own
// NoCloud folder, a cluster that exists only in this process.
import { join } from 'node:path';
import type { Config } from './config/schema.js';
import type { Logger } from './log.js';
import { buildCore, type Core } from './app.js';
import { startSimCluster, type SimCluster, type SimOptions } from './nomad/sim/index.js';
import { createHttpNomad } from './nomad/http/adapter.js';
import { startNoCloudServer } from './cloudinit/nocloud-server.js';
import { createBuiltinPublisher } from './cloudinit/builtin.js';
import { LOCAL_ADMIN_ID, SIMULATED_BANNER, startWebConsole, type WebConsole } from './chat/web/index.js';

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
  const stops: Array<() => Promise<void>> = [];
  const stopAll = async () => {
    for (const stop of stops.splice(0)) await stop().catch((err: unknown) => logger.warn({ err }, 'error while stopping local mode'));
  };
  try {
    const sim: SimCluster = await startSimCluster({
      ...opts.sim,
      bootDelayMs: opts.config.nomad.sim.bootDelay,
      subnet: opts.config.nomad.sim.subnet,
      host: '127.0.0.1',
      logger: logger.child({ part: 'sim' }),
    });
    stops.unshift(() => sim.close());
    // Simulated VMs do not fetch their seed, but a person can open the rendered files there.
    const nocloudDir = join(dataDir, 'local-nocloud');
    const nocloud = await startNoCloudServer({ dir: nocloudDir, host: '127.0.0.1', port: 0, logger: logger.child({ part: 'nocloud' }) });
    stops.unshift(() => nocloud.close());

    const config = localConfig(opts.config, { dataDir, simUrl: sim.url, nocloudUrl: nocloud.url });
    const nomad = createHttpNomad({ address: sim.url });
    stops.unshift(() => nomad.close());
    const publisher = createBuiltinPublisher({ dir: nocloudDir, publicUrl: nocloud.url });
    stops.unshift(() => publisher.close());
    const core: Core = await buildCore({ config, secrets: {}, logger, nomad, publisher });
    stops.unshift(() => core.close());

    const web: WebConsole = await startWebConsole({
      workflow: core.workflow,
      store: core.store,
      config,
      mode: 'local',
      host: config.web.listen.host,
      port: config.web.listen.port,
      logger: logger.child({ platform: 'web' }),
      simulated: true,
    });
    stops.unshift(() => web.stop());
    core.workflow.attachSurface(web);
    await core.workflow.resume();
    logger.warn({ url: web.url, database: config.database.path, nomad: sim.url }, `local mode: ${SIMULATED_BANNER}`);
    return { url: web.url, close: stopAll };
  } catch (err) {
    await stopAll();
    throw err;
  }
}
