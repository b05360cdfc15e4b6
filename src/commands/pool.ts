// Placeholder: filled in by the issue that owns `vmbot pool`.
import type { Command } from 'commander';

export function registerPoolCommands(program: Command): void {
  program.command('pool').description('(not built yet)').action(() => {
    console.error('vmbot pool: not built yet');
    process.exitCode = 2;
  });
}
