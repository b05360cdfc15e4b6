// `vmbot ip NAME`: the VM's address as vmbot recorded it (state, address, ssh command).
// `--refresh` reads the allocation's console again through the Nomad adapter of the cluster
// the request recorded, and stores the address it shows now.
import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { ConfigError } from '../config/load.js';
import { readSecrets, SecretError, secretNamesFor } from '../config/secrets.js';
import { createLogger } from '../log.js';
import { openStore } from '../store/index.js';
import { nomadClusterConfigs } from '../config/schema.js';
import { clusterPortOptions, createClusterPort } from '../nomad/index.js';
import { NomadError } from '../nomad/port.js';
import { sshCommand, stateLabel } from '../workflow/cards.js';
import { refreshAddress } from '../workflow/refresh.js';
import { loadConfigFor } from './context.js';
import { noDatabaseError } from './store-command.js';

export function registerIpCommand(program: Command): void {
  program
    .command('ip')
    .description("show a VM's address (as recorded; --refresh reads the console again)")
    .argument('<name>', 'VM name')
    .option('--refresh', "read the allocation's console log again and update the stored address")
    .option('--json', 'print JSON')
    .action(async (name: string, opts: { refresh?: boolean; json?: boolean }, cmd: Command) => {
      try {
        const { config } = await loadConfigFor(cmd);
        // Looking up must not create an empty database (and then say the VM does not exist).
        if (!existsSync(config.database.path)) {
          console.error(`vmbot ip: ${noDatabaseError(config.database.path).message}`);
          process.exitCode = 1;
          return;
        }
        const store = await openStore({ path: config.database.path, pool: config.macPool });
        try {
          let req = await store.requests.findLiveByName(name);
          if (!req) {
            console.error(`vmbot ip: no VM named "${name}" (vmbot pool shows the MACs in use; names of deleted VMs are free again)`);
            process.exitCode = 1;
            return;
          }
          if (opts.refresh) {
            const logger = createLogger({ level: config.log.level === 'info' ? 'warn' : config.log.level });
            // The request's cluster; rows from before clusters are on the first one.
            const clusters = nomadClusterConfigs(config.nomad);
            const cluster = req.cluster === null ? clusters[0] : clusters.find((c) => c.name === req!.cluster);
            if (!cluster) {
              console.error(`vmbot ip: ${name} is on Nomad cluster "${req.cluster}", which is not in nomad.clusters (the clusters are ${clusters.map((c) => c.name).join(', ')}): add it back to read its console`);
              process.exitCode = 1;
              return;
            }
            const nomad = await createClusterPort(cluster, readSecrets(process.env, secretNamesFor(config)), logger, clusterPortOptions(config, cluster.name));
            try {
              const result = await refreshAddress({ nomad, store }, req);
              if (!result.allocId) console.error(`vmbot ip: ${req.jobId ?? name} has no allocation on the cluster`);
              else if (!result.address) console.error(`vmbot ip: allocation ${result.allocId.slice(0, 8)} has printed no address for ${req.mac} yet`);
              req = (await store.requests.get(req.id)) ?? req;
            } finally {
              await nomad.close();
            }
          }
          const ssh = req.address ? sshCommand(req.login, req.address) : undefined;
          if (opts.json) {
            // The cluster its job is on (rows from before clusters: the default, first one).
            const cluster = req.cluster ?? nomadClusterConfigs(config.nomad)[0]!.name;
            console.log(JSON.stringify({ name: req.name, state: req.state, mac: req.mac, jobId: req.jobId, cluster, address: req.address, ssh: ssh ?? null }, null, 2));
          } else {
            const addr = req.address ? [req.address.ipv4, ...(req.address.ipv6 ?? [])].filter(Boolean).join(' ') : '(no address yet)';
            console.log(`${req.name}  ${stateLabel(req)}  ${addr}${ssh ? `  ${ssh}` : ''}`);
          }
        } finally {
          await store.close();
        }
      } catch (err) {
        if (err instanceof ConfigError || err instanceof SecretError || err instanceof NomadError) {
          console.error(`vmbot ip: ${err.message}`);
          process.exitCode = 1;
          return;
        }
        throw err;
      }
    });
}
