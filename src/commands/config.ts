// Placeholder: filled in by the issue that owns `vmbot config`.
import type { Command } from 'commander';

export function registerConfigCommands(program: Command): void {
  program.command('config').description('(not built yet)').action(() => {
    console.error('vmbot config: not built yet');
    process.exitCode = 2;
  });
}
