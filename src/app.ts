// The core every entry point shares (serve, local mode, tests): the store, the renderer,
// the Nomad port, the publisher and the workflow on top of them. Chat adapters and the
// web console attach to `core.workflow`; main.ts decides which ones run.
import type { Config } from './config/schema.js';
import type { Secrets } from './config/secrets.js';
import type { Logger } from './log.js';
import type { NomadClusters, NomadPort } from './nomad/port.js';
import { defaultClusterSettings, singleCluster } from './nomad/clusters.js';
import type { Publisher } from './cloudinit/port.js';
import type { Renderer } from './render/types.js';
import type { Store } from './store/types.js';
import type { VmWorkflow } from './workflow/api.js';
import { openStore } from './store/index.js';
import { loadRenderer } from './render/index.js';
import { newSeedToken } from './cloudinit/token.js';
import { createWorkflow, type WorkflowDeps } from './workflow/index.js';
import type { ChatPlatform } from './chat/platform.js';
import { adminDecision } from './config/platforms.js';

export interface Core {
  config: Config;
  store: Store;
  /** Every configured Nomad cluster (requests record theirs). */
  clusters: NomadClusters;
  /** The default cluster's port (the first of `clusters`). */
  nomad: NomadPort;
  publisher: Publisher;
  renderer: Renderer;
  workflow: VmWorkflow;
  /** Stops the workflow (watchers, timers), then closes the ports it used and the database. */
  close(): Promise<void>;
}

export interface BuildCoreOptions {
  config: Config;
  secrets: Secrets;
  logger: Logger;
  /** Injected instead of the configured adapter (local mode's simulated cluster, tests). */
  nomad?: NomadPort;
  /** Injected instead of the configured clusters (tests with several simulated clusters); wins over `nomad`. */
  clusters?: NomadClusters;
  publisher?: Publisher;
  /** The chat platforms whose admin rules the workflow applies (default: src/chat/platforms.ts PLATFORMS). */
  platforms?: readonly ChatPlatform[];
  /** The injected nomad/publisher were made for this core alone: close them with it. */
  ownsPorts?: boolean;
  /** Workflow tuning and test hooks (card coalescing window, crash points...). */
  workflow?: Pick<WorkflowDeps, 'coalesceMs' | 'deleteTimeoutMs' | 'maxConcurrentReads' | 'maxConcurrentProvisions' | 'liveCheckMs' | 'hooks' | 'now'>;
}

export async function buildCore(opts: BuildCoreOptions): Promise<Core> {
  const { config, secrets, logger } = opts;
  // Templates first: a broken template should stop start-up before anything is opened.
  const renderer = await loadRenderer(config.templates.dir);
  const store = await openStore({ path: config.database.path, pool: config.macPool, ...(opts.workflow?.now ? { now: opts.workflow.now } : {}) });
  const closers: Array<() => Promise<void>> = [() => store.close()];
  try {
    // Loaded only when needed: the SSH and SFTP adapters pull in ssh2, which tests and
    // local mode (injected ports) do not need.
    // One injected port is the default cluster (local mode's simulated cluster, most tests).
    const injected = opts.clusters ?? (opts.nomad ? singleCluster(opts.nomad, defaultClusterSettings(config)) : undefined);
    const clusters = injected ?? (await (await import('./nomad/clusters.js')).createClusters(config, secrets, logger.child({ part: 'nomad' })));
    if (!injected || opts.ownsPorts) closers.unshift(() => clusters.close());
    const nomad = clusters.port(clusters.names[0]!);
    const publisher = opts.publisher ?? (await (await import('./cloudinit/index.js')).createPublisher(config, logger.child({ part: 'cloudinit' })));
    if (!opts.publisher || opts.ownsPorts) closers.unshift(() => publisher.close());
    const workflow = createWorkflow({ config, store, clusters, publisher, renderer, logger, newSeedToken, isAdmin: adminDecision(config, opts.platforms), ...opts.workflow });
    let closed: Promise<void> | undefined;
    return {
      config,
      store,
      clusters,
      nomad,
      publisher,
      renderer,
      workflow,
      close() {
        closed ??= (async () => {
          await workflow.close();
          for (const close of closers) await close().catch((err: unknown) => logger.warn({ err }, 'error while closing the core'));
        })();
        return closed;
      },
    };
  } catch (err) {
    for (const close of closers) await close().catch(() => undefined);
    throw err;
  }
}
