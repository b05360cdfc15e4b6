// Placeholder: filled in by the issue that owns `vmbot doctor`.
import type { Command } from 'commander';

export function registerDoctorCommand(program: Command): void {
  program.command('doctor').description('(not built yet)').action(() => {
    console.error('vmbot doctor: not built yet');
    process.exitCode = 2;
  });
}
