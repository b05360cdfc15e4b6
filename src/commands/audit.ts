// Placeholder: filled in by the issue that owns `vmbot audit`.
import type { Command } from 'commander';

export function registerAuditCommand(program: Command): void {
  program.command('audit').description('(not built yet)').action(() => {
    console.error('vmbot audit: not built yet');
    process.exitCode = 2;
  });
}
