// Placeholder: filled in by the issue that owns `vmbot discord`.
import type { Command } from 'commander';

export function registerDiscordCommands(program: Command): void {
  program.command('discord').description('(not built yet)').action(() => {
    console.error('vmbot discord: not built yet');
    process.exitCode = 2;
  });
}
