// `vmbot serve` (what `npm start` runs): production when a chat platform of the list
// (src/chat/platforms.ts: Slack, Discord) has its section and credentials, otherwise local
// mode (web console + simulated cluster) with one line saying so.
import type { Command } from 'commander';
import { ConfigError } from '../config/load.js';
import { halfConfigured, planPlatforms, readyPlatforms } from '../config/platforms.js';
import { readSecrets, SecretError, secretNamesFor } from '../config/secrets.js';
import { createLogger } from '../log.js';
import { startProduction, type Running } from '../main.js';
import { loadConfigFor } from './context.js';

export function registerServeCommand(program: Command): void {
  program
    .command('serve')
    .description('run the bot: Slack and/or Discord when configured, otherwise local mode (web console + simulated cluster)')
    .option('--local', 'force local mode even when chat credentials are configured')
    .action(async (opts: { local?: boolean }, cmd: Command) => {
      let running: Running | { close(): Promise<void> };
      try {
        // Local mode always runs the simulated cluster, so nothing under `nomad` may keep it
        // from starting: a file that only sets web.listen (as the port-in-use message advises)
        // must still give local mode, although the default adapter (ssh) needs nomad.ssh.
        // Production still refuses the file with every problem listed.
        let loaded: Awaited<ReturnType<typeof loadConfigFor>>;
        let production: ConfigError | undefined;
        try {
          loaded = await loadConfigFor(cmd);
        } catch (err) {
          if (!(err instanceof ConfigError)) throw err;
          production = err;
          loaded = await loadConfigFor(cmd, { localMode: true }).catch((again: unknown) => {
            throw again instanceof ConfigError ? err : again;
          });
        }
        const { config, path, found } = loaded;
        const secrets = readSecrets(process.env, secretNamesFor(config));
        const logger = createLogger({ level: config.log.level });
        const plan = planPlatforms(config, secrets);
        const local = opts.local === true || readyPlatforms(plan).length === 0;
        if (production && !local) throw production;
        const problems = opts.local ? [] : halfConfigured(plan);
        if (problems.length > 0) {
          console.error(`vmbot: cannot start (${found ? path : 'no config file, defaults'}):`);
          for (const p of [...problems, ...(production?.issues ?? [])]) console.error(`  - ${p}`);
          console.error('Set them, or run `vmbot serve --local` to try vmbot on the simulated cluster.');
          process.exitCode = 1;
          return;
        }
        if (local) {
          const { startLocalMode, localModeBanner } = await import('../local.js');
          if (production) {
            logger.info(`local mode runs the simulated cluster, so the nomad settings of ${path} are not used here (\`vmbot config check\` lists what production would refuse)`);
          }
          const started = await startLocalMode({ config, logger });
          console.log(localModeBanner(started.url));
          running = started;
        } else {
          const prod = await startProduction({ config, secrets, logger });
          logger.info({ config: found ? path : '(defaults)', running: prod.describe }, 'vmbot is running');
          running = prod;
        }
      } catch (err) {
        if (err instanceof ConfigError || err instanceof SecretError) {
          console.error(err.message);
          process.exitCode = 1;
          return;
        }
        throw err;
      }
      await waitForSignal();
      await running.close();
    });
}

/** Resolves on SIGINT/SIGTERM so the caller can close servers, watchers and the database in order. */
function waitForSignal(): Promise<void> {
  return new Promise((resolve) => {
    const done = (signal: NodeJS.Signals) => {
      console.error(`\nvmbot: ${signal} received, shutting down`);
      process.off('SIGINT', done);
      process.off('SIGTERM', done);
      resolve();
    };
    process.on('SIGINT', done);
    process.on('SIGTERM', done);
  });
}
