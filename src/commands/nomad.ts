// `vmbot nomad check`: connects to Nomad the way the configured adapter does and prints one
// line per step (DNS, TCP, SSH host key, login, nomad CLI, API, token) with what to fix.
import type { Command } from 'commander';
import { ConfigError } from '../config/load.js';
import { readSecrets, SecretError } from '../config/secrets.js';
import { checkNomad, formatCheck } from '../nomad/check.js';
import { loadConfigFor } from './context.js';
import { DEFAULT_TIMEOUT_SECONDS, secondsArgument } from './seconds-option.js';
import { processIO, type CommandIO } from './store-command.js';

export function registerNomadCommands(program: Command, io: CommandIO = processIO): void {
  const nomad = program.command('nomad').description('the Nomad cluster vmbot drives');
  nomad
    .command('check')
    .description('connect with the configured adapter (nomad.adapter) and say which step fails')
    .option('--timeout <seconds>', `per network step (default: ${DEFAULT_TIMEOUT_SECONDS})`, secondsArgument)
    .action(async (opts: { timeout?: number }, cmd: Command) => {
      try {
        const { config } = await loadConfigFor(cmd);
        const steps = await checkNomad(config, readSecrets(), { timeoutMs: opts.timeout ?? DEFAULT_TIMEOUT_SECONDS * 1000 });
        io.out(`Nomad (${config.nomad.adapter} adapter):`);
        io.out(formatCheck(steps));
        if (steps.some((s) => !s.ok)) process.exitCode = 1;
      } catch (err) {
        if (!(err instanceof ConfigError || err instanceof SecretError)) throw err;
        io.err(err.message);
        process.exitCode = 1;
      }
    });
}
