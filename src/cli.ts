// The `vmbot` command line (commander). Each subcommand lives in commands/ and owns its
// own options; this file only assembles them.
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { registerConfigCommands } from './commands/config.js';
import { registerRenderCommand } from './commands/render.js';
import { registerPoolCommands } from './commands/pool.js';
import { registerServeCommand } from './commands/serve.js';
import { registerAuditCommand } from './commands/audit.js';
import { registerNomadCommands } from './commands/nomad.js';
import { registerIpCommand } from './commands/ip.js';
import { PLATFORMS, type AnyChatPlatform } from './chat/platforms.js';
import { registerDoctorCommand } from './commands/doctor.js';

/** package.json's version: src/ and dist/ both sit one level below it. */
function packageVersion(): string {
  return (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
}

export function buildProgram(): Command {
  const program = new Command('vmbot')
    .description('Hands out QEMU VMs on a Nomad cluster from Slack, Discord or a web console')
    .version(packageVersion(), '-V, --version', 'print the version of vmbot')
    .option('-c, --config <path>', 'configuration file (default: $VMBOT_CONFIG or vmbot.config.yaml)')
    .showHelpAfterError();
  registerServeCommand(program);
  registerConfigCommands(program);
  registerRenderCommand(program);
  registerPoolCommands(program);
  registerIpCommand(program);
  registerAuditCommand(program);
  registerNomadCommands(program);
  // A platform's own set-up commands (`vmbot discord register`) come with its description.
  for (const platform of PLATFORMS as readonly AnyChatPlatform[]) platform.registerCommands?.(program);
  registerDoctorCommand(program);
  return program;
}

/**
 * `vmbot audit | head`: once the reader has gone, the rest of the output has nowhere to go; stop
 * quietly as other CLIs do instead of dying on an unhandled EPIPE with a stack trace. Not for
 * `serve`, whose output is its log and which must keep running.
 */
let quietInstalled = false;
function quietOnClosedStdout(_program: Command, action: Command): void {
  if (action.name() === 'serve' || quietInstalled) return;
  quietInstalled = true;
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
    process.exit(Number(process.exitCode ?? 0));
  });
}

export async function main(argv: string[]): Promise<void> {
  const program = buildProgram();
  // Every level: a subcommand copies the setting only when it is created after it.
  const overrideExit = (cmd: Command): void => {
    cmd.exitOverride();
    cmd.commands.forEach(overrideExit);
  };
  overrideExit(program);
  program.hook('preAction', quietOnClosedStdout);
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      process.exitCode = err.exitCode;
      return;
    }
    throw err;
  }
}
