// `vmbot doctor`: one line per check (config, secrets, then each component's check: database,
// Nomad, cloud-init publishing, each configured chat platform, the web console), ✓ or ✗ with
// what to fix. Exit code 1 when any check fails.
import type { Command } from 'commander';
import { resolveConfigPath } from '../config/load.js';
import { formatResults, runDoctor } from '../doctor.js';
import { DEFAULT_TIMEOUT_SECONDS, secondsArgument } from './seconds-option.js';

export function registerDoctorCommand(program: Command): void {
  program
    .command('doctor')
    .description('check the configuration, secrets, database, Nomad, cloud-init publishing, each configured chat platform and the web console')
    .option('--timeout <seconds>', `per network check (default: ${DEFAULT_TIMEOUT_SECONDS})`, secondsArgument)
    .action(async (opts: { timeout?: number }, cmd: Command) => {
      const global = cmd.optsWithGlobals<{ config?: string }>();
      const results = await runDoctor({
        configPath: resolveConfigPath(global.config),
        mustExist: global.config !== undefined,
        timeoutMs: opts.timeout ?? DEFAULT_TIMEOUT_SECONDS * 1000,
      });
      console.log(formatResults(results));
      const failed = results.filter((r) => r.status === 'fail').length;
      console.log(failed === 0 ? '\nAll checks passed.' : `\n${failed} check${failed > 1 ? 's' : ''} failed.`);
      if (failed > 0) process.exitCode = 1;
    });
}
