// `vmbot nomad check`: connects to Nomad the way the configured adapter does and prints one
// line per step (DNS, TCP, SSH host key, login, nomad CLI, API, token) with what to fix.
import type { Command } from 'commander';
import { ConfigError } from '../config/load.js';
import { readSecrets, SecretError } from '../config/secrets.js';
import { checkNomad, formatCheck } from '../nomad/check.js';
import { loadConfigFor } from './context.js';
import { processIO, type CommandIO } from './store-command.js';

export function registerNomadCommands(program: Command, io: CommandIO = processIO): void {
  const nomad = program.command('nomad').description('the Nomad cluster vmbot drives');
  nomad
    .command('check')
    .description('connect with the configured adapter (nomad.adapter) and say which step fails')
    .option('--timeout <seconds>', 'per network step', '10')
    .action(async (opts: { timeout: string }, cmd: Command) => {
      try {
        const { config } = await loadConfigFor(cmd);
        const seconds = Number(opts.timeout);
        const steps = await checkNomad(config, readSecrets(), { timeoutMs: Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : 10_000 });
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
