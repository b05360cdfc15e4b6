// Builds the Nomad adapter a cluster's configuration names (nomad.adapter, or
// nomad.clusters[].adapter). clusters.ts builds one per configured cluster.
import { nomadClusterConfigs, type Config, type NomadClusterConfig } from '../config/schema.js';
import { missingTokenError, nomadTokenSource, nomadTokenSources, type NomadTokenSource, type Secrets } from '../config/secrets.js';
import type { Logger } from '../log.js';
import { createHttpNomad } from './http/adapter.js';
import { createSshNomad } from './ssh/adapter.js';
import type { NomadPort } from './port.js';

export { createHttpNomad } from './http/adapter.js';

/** The key path of a cluster's settings in the file, for messages ("nomad" or "nomad.clusters[1]"). */
export function clusterKey(config: Config, cluster: string): string {
  const i = config.nomad.clusters?.findIndex((c) => c.name === cluster) ?? -1;
  return i < 0 ? 'nomad' : `nomad.clusters[${i}]`;
}

/**
 * One cluster's NomadPort. 'sim' speaks the same HTTP API to the simulated cluster, whose
 * URL the caller (local mode, tests) passes as simUrl once it has started it. `key` names
 * the cluster's settings in messages ("nomad", "nomad.clusters[1]"); `tokenSource`, where an
 * http cluster's token is read from (nomadTokenSources: it knows when the cluster takes
 * nomad.http's), else from the cluster's own http.tokenEnv or NOMAD_TOKEN.
 */
export async function createClusterPort(cluster: NomadClusterConfig, secrets: Secrets, logger: Logger, opts: { key?: string; simUrl?: string; tokenSource?: NomadTokenSource } = {}): Promise<NomadPort> {
  const key = opts.key ?? 'nomad';
  const scope = { ...(cluster.namespace ? { namespace: cluster.namespace } : {}), ...(cluster.region ? { region: cluster.region } : {}) };
  switch (cluster.adapter) {
    case 'http': {
      const http = cluster.http;
      // The cluster's own variable (http.tokenEnv), else NOMAD_TOKEN. One it names must be
      // set: refused here rather than by Nomad on the first job, with a 403 that names none.
      const source = opts.tokenSource ?? nomadTokenSource(cluster, key);
      const token = secrets[source.variable];
      if (source.named && !token) throw missingTokenError(source, cluster.name);
      return createHttpNomad({
        address: http?.address ?? 'http://127.0.0.1:4646',
        token,
        tokenVariable: source.variable,
        caCert: http?.caCert,
        clientCert: http?.clientCert,
        clientKey: http?.clientKey,
        timeoutMs: http?.timeout,
        logger,
        ...scope,
      });
    }
    case 'sim': {
      if (!opts.simUrl) throw new Error(`${key}.adapter is "sim" but no simulated cluster was started: run \`vmbot local\` (or pass the cluster URL)`);
      return createHttpNomad({ address: opts.simUrl, logger, retries: 1, ...scope });
    }
    case 'ssh': {
      // node-ssh + the nomad CLI on the Nomad host. NOMAD_TOKEN is not used here: the token
      // stays on that host, in nomad.ssh.tokenFile (docs/ssh.md).
      const ssh = cluster.ssh;
      if (!ssh) throw new Error(`${key}.adapter is "ssh" but ${key}.ssh (host, user, privateKeyPath, hostKeyFingerprint) is missing`);
      return createSshNomad({ ...ssh, logger, ...scope });
    }
  }
}

/** The default cluster's NomadPort (the first of nomad.clusters, or the nomad: section). */
export async function createNomadPort(config: Config, secrets: Secrets, logger: Logger, simUrl?: string): Promise<NomadPort> {
  const cluster = nomadClusterConfigs(config.nomad)[0]!;
  return createClusterPort(cluster, secrets, logger, clusterPortOptions(config, cluster.name, simUrl));
}

/** createClusterPort's options for a configured cluster: its key and, for http, its token source. */
export function clusterPortOptions(config: Config, cluster: string, simUrl?: string): { key: string; simUrl?: string; tokenSource?: NomadTokenSource } {
  const tokenSource = nomadTokenSources(config).find((s) => s.cluster === cluster);
  return { key: clusterKey(config, cluster), ...(simUrl ? { simUrl } : {}), ...(tokenSource ? { tokenSource } : {}) };
}
