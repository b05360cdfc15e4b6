// Placeholder: filled in by the issue that owns `vmbot serve`.
import type { Command } from 'commander';

export function registerServeCommand(program: Command): void {
  program.command('serve').description('(not built yet)').action(() => {
    console.error('vmbot serve: not built yet');
    process.exitCode = 2;
  });
}
