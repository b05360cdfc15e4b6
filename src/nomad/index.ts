// Chooses the Nomad adapter the configuration names (nomad.adapter).
import type { Config } from '../config/schema.js';
import type { Secrets } from '../config/secrets.js';
import type { Logger } from '../log.js';
import { createHttpNomad } from './http/adapter.js';
import { createSshNomad } from './ssh/adapter.js';
import type { NomadPort } from './port.js';

export { createHttpNomad } from './http/adapter.js';

/**
 * The configured NomadPort. 'sim' speaks the same HTTP API to the simulated cluster,
 * whose URL the caller (local mode, tests) passes as simUrl once it has started it.
 */
export async function createNomadPort(config: Config, secrets: Secrets, logger: Logger, simUrl?: string): Promise<NomadPort> {
  switch (config.nomad.adapter) {
    case 'http': {
      const http = config.nomad.http;
      return createHttpNomad({
        address: http?.address ?? 'http://127.0.0.1:4646',
        token: secrets.NOMAD_TOKEN,
        caCert: http?.caCert,
        clientCert: http?.clientCert,
        clientKey: http?.clientKey,
        timeoutMs: http?.timeout,
        logger,
      });
    }
    case 'sim': {
      if (!simUrl) throw new Error('nomad.adapter is "sim" but no simulated cluster was started: run `vmbot local` (or pass the cluster URL)');
      return createHttpNomad({ address: simUrl, logger, retries: 1 });
    }
    case 'ssh': {
      // node-ssh + the nomad CLI on the Nomad host. NOMAD_TOKEN is not used here: the token
      // stays on that host, in nomad.ssh.tokenFile (docs/ssh.md).
      const ssh = config.nomad.ssh;
      if (!ssh) throw new Error('nomad.adapter is "ssh" but nomad.ssh (host, user, privateKeyPath, hostKeyFingerprint) is missing');
      return createSshNomad({ ...ssh, logger });
    }
  }
}
