// `vmbot pool sync`: marks the MACs of the admins' hand-made Nomad jobs as external, frees
// those whose job is gone, and reports conflicts (src/workflow/pool-sync.ts does the work).
// The MAC pool is one pool for every cluster (their VMs share the LAN), so the jobs of
// every configured cluster are read together; with several clusters a job is shown as
// "cluster/job".
import type { Command } from 'commander';
import { nomadClusterConfigs } from '../config/schema.js';
import { readSecrets, SecretError, secretNamesFor } from '../config/secrets.js';
import { silentLogger } from '../log.js';
import { clusterPortOptions, createClusterPort } from '../nomad/index.js';
import { NomadError, type JobSummary, type NomadPort } from '../nomad/port.js';
import { formatPoolSyncReport, syncPool } from '../workflow/pool-sync.js';
import { processIO, withStore, type CommandIO } from './store-command.js';

export function addPoolSyncSubcommand(pool: Command, io: CommandIO = processIO): void {
  pool
    .command('sync')
    .description("mark the MACs of hand-made Nomad jobs as external (every cluster); free those whose job is gone")
    .action(async (_opts: unknown, cmd: Command) => {
      await withStore(cmd, io, async (store, config) => {
        const all = nomadClusterConfigs(config.nomad);
        // Simulated clusters hold no hand-made jobs.
        const clusters = all.filter((c) => c.adapter !== 'sim');
        if (clusters.length === 0) {
          io.err(`pool sync: nomad.adapter is "sim" (local mode): there are no hand-made jobs to find`);
          process.exitCode = 1;
          return;
        }
        const several = all.length > 1;
        const secrets = readSecrets(process.env, secretNamesFor(config));
        const ports: Array<{ name: string; port: NomadPort }> = [];
        try {
          for (const cluster of clusters) ports.push({ name: cluster.name, port: await createClusterPort(cluster, secrets, silentLogger, clusterPortOptions(config, cluster.name)) });
          // All or nothing: a cluster that cannot be listed would otherwise have its
          // hand-made jobs' MACs freed as if the jobs were gone.
          const lister = {
            async listJobs(): Promise<JobSummary[]> {
              const jobs: JobSummary[] = [];
              for (const { name, port } of ports) {
                let listed: JobSummary[];
                try {
                  listed = await port.listJobs();
                } catch (err) {
                  if (err instanceof NomadError && several) throw new NomadError(err.code, `Nomad cluster ${name}: ${err.message}`, err.status, { cause: err });
                  throw err;
                }
                jobs.push(...(several ? listed.map((job) => ({ ...job, id: `${name}/${job.id}` })) : listed));
              }
              return jobs;
            },
          };
          const report = await syncPool(lister, store.macs);
          io.out(formatPoolSyncReport(report));
          if (report.conflicts.length > 0) process.exitCode = 1;
        } catch (err) {
          // A token variable a cluster's http.tokenEnv names but the environment lacks.
          if (err instanceof SecretError) {
            io.err(`pool sync: ${err.message}`);
            process.exitCode = 1;
            return;
          }
          if (!(err instanceof NomadError)) throw err;
          io.err(`pool sync: cannot list Nomad's jobs: ${err.message} [${err.code}] (run \`vmbot nomad check\`)`);
          process.exitCode = 1;
        } finally {
          await Promise.all(ports.map(({ port }) => port.close()));
        }
      });
    });
}
