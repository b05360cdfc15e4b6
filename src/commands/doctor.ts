// `vmbot doctor`: one line per check (config, secrets, database, Nomad, cloud-init publishing,
// Slack, Discord), ✓ or ✗ with what to fix. Exit code 1 when any check fails.
import type { Command } from 'commander';
import { resolveConfigPath } from '../config/load.js';
import { formatResults, runDoctor } from '../doctor.js';

export function registerDoctorCommand(program: Command): void {
  program
    .command('doctor')
    .description('check the configuration, secrets, database, Nomad, cloud-init publishing, Slack and Discord')
    .option('--timeout <seconds>', 'per network check', '10')
    .action(async (opts: { timeout: string }, cmd: Command) => {
      const global = cmd.optsWithGlobals<{ config?: string }>();
      const seconds = Number(opts.timeout);
      const results = await runDoctor({
        configPath: resolveConfigPath(global.config),
        mustExist: global.config !== undefined,
        timeoutMs: Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : 10_000,
      });
      console.log(formatResults(results));
      const failed = results.filter((r) => r.status === 'fail').length;
      console.log(failed === 0 ? '\nAll checks passed.' : `\n${failed} check${failed > 1 ? 's' : ''} failed.`);
      if (failed > 0) process.exitCode = 1;
    });
}
