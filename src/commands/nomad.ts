// Placeholder: filled in by the issue that owns `vmbot nomad`.
import type { Command } from 'commander';

export function registerNomadCommands(program: Command): void {
  program.command('nomad').description('(not built yet)').action(() => {
    console.error('vmbot nomad: not built yet');
    process.exitCode = 2;
  });
}
