// `vmbot pool sync`: marks the MACs of the admins' hand-made Nomad jobs as external, frees
// those whose job is gone, and reports conflicts (src/workflow/pool-sync.ts does the work).
import type { Command } from 'commander';
import { readSecrets } from '../config/secrets.js';
import { silentLogger } from '../log.js';
import { createNomadPort } from '../nomad/index.js';
import { NomadError } from '../nomad/port.js';
import { formatPoolSyncReport, syncPool } from '../workflow/pool-sync.js';
import { processIO, withStore, type CommandIO } from './store-command.js';

export function addPoolSyncSubcommand(pool: Command, io: CommandIO = processIO): void {
  pool
    .command('sync')
    .description("mark the MACs of hand-made Nomad jobs as external; free those whose job is gone")
    .action(async (_opts: unknown, cmd: Command) => {
      await withStore(cmd, io, async (store, config) => {
        if (config.nomad.adapter === 'sim') {
          io.err('pool sync: nomad.adapter is "sim" (local mode): there are no hand-made jobs to find');
          process.exitCode = 1;
          return;
        }
        const nomad = await createNomadPort(config, readSecrets(), silentLogger);
        try {
          const report = await syncPool(nomad, store.macs);
          io.out(formatPoolSyncReport(report));
          if (report.conflicts.length > 0) process.exitCode = 1;
        } catch (err) {
          if (!(err instanceof NomadError)) throw err;
          io.err(`pool sync: cannot list Nomad's jobs: ${err.message} [${err.code}] (run \`vmbot nomad check\`)`);
          process.exitCode = 1;
        } finally {
          await nomad.close();
        }
      });
    });
}
