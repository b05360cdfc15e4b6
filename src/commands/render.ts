// Placeholder: filled in by the issue that owns `vmbot render`.
import type { Command } from 'commander';

export function registerRenderCommand(program: Command): void {
  program.command('render').description('(not built yet)').action(() => {
    console.error('vmbot render: not built yet');
    process.exitCode = 2;
  });
}
