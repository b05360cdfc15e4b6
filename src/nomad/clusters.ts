// Every Nomad cluster vmbot drives, as the workflow sees them (NomadClusters in port.ts):
// one NomadPort per entry of nomad.clusters (or one "default" cluster for a single nomad:
// section), and the routes that choose a cluster for a request.
import { nomadClusterConfigs, routeCluster, type Config, type NomadClusterConfig, type NomadRoute } from '../config/schema.js';
import type { Secrets } from '../config/secrets.js';
import type { Logger } from '../log.js';
import { NomadError, type ClusterSettings, type NomadClusters, type NomadPort } from './port.js';

/** What the workflow needs to know of a cluster's configuration. */
export function clusterSettings(cluster: NomadClusterConfig): ClusterSettings {
  return {
    name: cluster.name,
    datacenters: [...cluster.datacenters],
    jobPrefix: cluster.jobPrefix,
    ...(cluster.namespace ? { namespace: cluster.namespace } : {}),
    ...(cluster.region ? { region: cluster.region } : {}),
    pollInterval: cluster.pollInterval,
    ipTimeout: cluster.ipTimeout,
  };
}

/** The default cluster's settings (the first configured). */
export function defaultClusterSettings(config: Config): ClusterSettings {
  return clusterSettings(nomadClusterConfigs(config.nomad)[0]!);
}

export interface ClusterEntry {
  settings: ClusterSettings;
  port: NomadPort;
}

/** NomadClusters over ports already made; the first entry is the default. close() closes every port. */
export function clustersOf(entries: readonly ClusterEntry[], routes: readonly NomadRoute[] = []): NomadClusters {
  if (entries.length === 0) throw new Error('at least one Nomad cluster is needed');
  const byName = new Map(entries.map((e) => [e.settings.name, e]));
  if (byName.size !== entries.length) throw new Error(`cluster names must be unique: ${entries.map((e) => e.settings.name).join(', ')}`);
  const names = entries.map((e) => e.settings.name);
  const entry = (cluster: string): ClusterEntry => {
    const found = byName.get(cluster);
    // A request recorded under a cluster that has since been renamed or removed: not
    // retried (nothing will change until the configuration does).
    if (!found) throw new NomadError('rejected', `the request is on Nomad cluster "${cluster}", which is not configured (the clusters are ${names.join(', ')}): add it back to nomad.clusters, or delete the VM by hand`);
    return found;
  };
  return {
    names,
    choose: (request) => routeCluster(routes, names, request),
    port: (cluster) => entry(cluster).port,
    settings: (cluster) => entry(cluster).settings,
    async close() {
      await Promise.all(entries.map((e) => e.port.close()));
    },
  };
}

/** One cluster on one port (tests, local mode's simulated cluster). */
export function singleCluster(port: NomadPort, settings: ClusterSettings): NomadClusters {
  return clustersOf([{ port, settings }]);
}

export interface CreateClustersOptions {
  /** URL of the simulated cluster for each cluster whose adapter is "sim" (local mode, tests). */
  simUrls?: Readonly<Record<string, string>>;
}

/** One NomadPort per configured cluster, with the configured adapters. */
export async function createClusters(config: Config, secrets: Secrets, logger: Logger, opts: CreateClustersOptions = {}): Promise<NomadClusters> {
  // Loaded only here: the ssh adapter pulls in ssh2, which callers with injected ports
  // (tests, local mode) never need.
  const { clusterPortOptions, createClusterPort } = await import('./index.js');
  const entries: ClusterEntry[] = [];
  try {
    for (const cluster of nomadClusterConfigs(config.nomad)) {
      const simUrl = opts.simUrls?.[cluster.name];
      const port = await createClusterPort(cluster, secrets, logger.child({ cluster: cluster.name }), clusterPortOptions(config, cluster.name, simUrl));
      entries.push({ settings: clusterSettings(cluster), port });
    }
  } catch (err) {
    await Promise.all(entries.map((e) => e.port.close().catch(() => undefined)));
    throw err;
  }
  return clustersOf(entries, config.nomad.routes);
}
