// `vmbot doctor`: checks everything vmbot needs before it is trusted with members' requests,
// one line per check (✓/✗, what, and what to fix). After the configuration and the secrets,
// it builds the process's components as `vmbot serve` would (src/main.ts), starts none of
// them, and runs each one's check: the core (database, Nomad, cloud-init publishing), each
// configured chat platform, the web console. Checks only read, except the two that must
// write to prove they can: one audit row in the database, one test file published and removed.
import { PLATFORMS } from './chat/platforms.js';
import type { ChatPlatform } from './chat/platform.js';
import { ConfigError, loadConfig } from './config/load.js';
import type { Config } from './config/schema.js';
import { configuredPlatforms, planPlatforms } from './config/platforms.js';
import { SecretError, readSecrets, secretNamesFor, type Secrets } from './config/secrets.js';
import { silentLogger, type Logger } from './log.js';
import { checkFailed as fail, checkOk as ok, type CheckResult } from './components.js';
import { processComponents } from './main.js';

export type { CheckResult, CheckStatus } from './components.js';

export interface DoctorOptions {
  configPath: string;
  /** The path was given explicitly (a missing file is then an error). */
  mustExist: boolean;
  env?: NodeJS.ProcessEnv;
  logger?: Logger;
  /** Per network call (default 10 s). */
  timeoutMs?: number;
  /** The chat platforms to check (default: src/chat/platforms.ts PLATFORMS). */
  platforms?: readonly ChatPlatform[];
}

export async function runDoctor(opts: DoctorOptions): Promise<CheckResult[]> {
  const logger = opts.logger ?? silentLogger;
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const platforms = opts.platforms ?? PLATFORMS;
  const results: CheckResult[] = [];

  let config: Config;
  try {
    const loaded = await loadConfig(opts.configPath, { mustExist: opts.mustExist });
    config = loaded.config;
    results.push(ok('config', loaded.found ? `${loaded.path} is valid` : `no ${loaded.path}: using the defaults`));
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    results.push(fail('config', err.issues.join('; '), `fix ${err.source} (every problem above names its key); vmbot.config.schema.json gives editors completion`));
    return results; // everything else depends on the configuration
  }

  let secrets: Secrets = {};
  try {
    secrets = readSecrets(opts.env ?? process.env, secretNamesFor(config, platforms));
    results.push(...checkSecrets(config, secrets, platforms));
  } catch (err) {
    if (!(err instanceof SecretError)) throw err;
    results.push(fail('secrets', err.message, `fix ${err.variable} in the environment (or the file it names)`));
  }

  // Every configured platform is checked, ready or not: its check says what it could not reach.
  for (const component of await processComponents({ config, secrets, logger, platforms, chat: 'configured' })) {
    if (component.check) results.push(...(await component.check(timeoutMs)));
  }
  return results;
}

/** One line per result: `✓ what: detail`, `✗ what: detail → fix`, `- what: detail` (not checked). */
export function formatResults(results: readonly CheckResult[]): string {
  const mark = { ok: '✓', fail: '✗', skip: '-' } as const;
  return results.map((r) => `${mark[r.status]} ${r.what}: ${r.detail}${r.fix ? ` → ${r.fix}` : ''}`).join('\n');
}

/** Whether each configured chat platform has the secrets its section needs (names only, never values). */
export function checkSecrets(config: Config, secrets: Secrets, platforms: readonly ChatPlatform[] = PLATFORMS): CheckResult[] {
  const configured = configuredPlatforms(planPlatforms(config, secrets, platforms));
  if (configured.length === 0) return [ok('chat platforms', 'none configured: `vmbot serve` runs local mode (web console + simulated cluster)')];
  return configured.map(({ platform, section, ready, missing }) => {
    const what = `${platform.name}: secrets`;
    const required = platform.secretNeeds(section).filter((n) => n.required);
    // "set for Socket Mode" when the section's settings decide which secrets; else their names.
    const mode = required.find((n) => n.mode)?.mode;
    if (ready) return ok(what, mode ? `set for ${mode}` : `${required.map((n) => n.name).join(', ')} set`);
    const names = required.filter((n) => !secrets[n.name]).map((n) => n.name);
    const fix = names.length === 1 ? `set ${names[0]} or ${names[0]}_FILE` : 'set them in the environment or through *_FILE (the file holds the value)';
    return fail(what, `missing ${missing.join(', ')}`, fix);
  });
}
