// Placeholder: filled in by the issue that owns `vmbot ip`.
import type { Command } from 'commander';

export function registerIpCommand(program: Command): void {
  program.command('ip').description('(not built yet)').action(() => {
    console.error('vmbot ip: not built yet');
    process.exitCode = 2;
  });
}
