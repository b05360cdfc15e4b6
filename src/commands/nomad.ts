// `vmbot nomad check`: connects to Nomad the way the configured adapter does and prints one
// line per step (DNS, TCP, SSH host key, login, nomad CLI, API, token) with what to fix; with
// nomad.clusters, each cluster in turn, its name at the start of every line.
import type { Command } from 'commander';
import { ConfigError } from '../config/load.js';
import { readSecrets, SecretError, secretNamesFor } from '../config/secrets.js';
import { checkNomadClusters, formatCheck } from '../nomad/check.js';
import { loadConfigFor } from './context.js';
import { DEFAULT_TIMEOUT_SECONDS, secondsArgument } from './seconds-option.js';
import { processIO, type CommandIO } from './store-command.js';

export function registerNomadCommands(program: Command, io: CommandIO = processIO): void {
  const nomad = program.command('nomad').description('the Nomad cluster vmbot drives');
  nomad
    .command('check')
    .description('connect with the configured adapter (nomad.adapter; each of nomad.clusters) and say which step fails')
    .option('--timeout <seconds>', `per network step (default: ${DEFAULT_TIMEOUT_SECONDS})`, secondsArgument)
    .action(async (opts: { timeout?: number }, cmd: Command) => {
      try {
        const { config } = await loadConfigFor(cmd);
        const results = await checkNomadClusters(config, readSecrets(process.env, secretNamesFor(config)), { timeoutMs: opts.timeout ?? DEFAULT_TIMEOUT_SECONDS * 1000 });
        for (const { cluster, adapter, steps } of results) {
          if (!config.nomad.clusters) {
            io.out(`Nomad (${adapter} adapter):`);
            io.out(formatCheck(steps));
          } else {
            io.out(`${cluster}: Nomad cluster ${cluster} (${adapter} adapter):`);
            io.out(formatCheck(steps, cluster));
          }
        }
        if (results.some((r) => r.steps.some((s) => !s.ok))) process.exitCode = 1;
      } catch (err) {
        if (!(err instanceof ConfigError || err instanceof SecretError)) throw err;
        io.err(err.message);
        process.exitCode = 1;
      }
    });
}
