// Placeholder: `vmbot pool sync` is built by the Nomad part 2 issue.
import type { Command } from 'commander';

export function addPoolSyncSubcommand(pool: Command): void {
  pool.command('sync').description('(not built yet)').action(() => {
    console.error('vmbot pool sync: not built yet');
    process.exitCode = 2;
  });
}
