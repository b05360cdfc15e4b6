// The core's check (`vmbot doctor`): the ports the core opens, checked without starting it —
// the database (one audit row written and read back), the Nomad cluster (the adapter's own
// steps) and cloud-init publishing (one test file published and fetched back).
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import type { Config } from './config/schema.js';
import type { Secrets } from './config/secrets.js';
import type { Logger } from './log.js';
import { checkFailed as fail, checkOk as ok, type CheckResult } from './components.js';
import { checkPublishing } from './cloudinit/check.js';
import { checkNomad } from './nomad/check.js';
import { openStore } from './store/index.js';

/** The core component's check: database, Nomad, publishing, in that order. */
export async function checkCore(config: Config, secrets: Secrets, logger: Logger, timeoutMs: number): Promise<CheckResult[]> {
  return [await checkDatabase(config), ...(await checkNomadAdapter(config, secrets, timeoutMs)), await checkPublishing(config, logger, timeoutMs)];
}

export async function checkDatabase(config: Config): Promise<CheckResult> {
  const path = config.database.path;
  const existed = existsSync(path);
  try {
    const store = await openStore({ path, pool: config.macPool });
    try {
      const marker = `doctor ${randomBytes(6).toString('hex')}`;
      await store.audit.append({ actor: { platform: 'cli', userId: 'doctor' }, action: 'doctor', detail: marker });
      const rows = await store.audit.list({ limit: 20 });
      if (!rows.some((r) => r.detail === marker)) return fail('database', `${path}: a row written was not read back`, 'check that no other program rewrites the file, and the disk is healthy');
      const usage = await store.macs.usage();
      return ok('database', `${path} ${existed ? 'opened' : 'created'}, migrations applied, write+read ok; MAC pool ${usage.free} free of ${usage.total}`);
    } finally {
      await store.close();
    }
  } catch (err) {
    return fail('database', `${path}: ${(err as Error).message}`, 'check database.path and that its folder is writable by the user vmbot runs as');
  }
}

// Every http cluster's token variable is NOMAD_TOKEN unless its http.tokenEnv names another.
const NOMAD_FIX = "check nomad.* in the config and the token variables (NOMAD_TOKEN, or each http cluster's http.tokenEnv)";

/** Reuses the Nomad adapter's own check (src/nomad/check.ts, also `vmbot nomad check`): one line per step. */
export async function checkNomadAdapter(config: Config, secrets: Secrets, timeoutMs = 10_000): Promise<CheckResult[]> {
  const what = `nomad (${config.nomad.adapter})`;
  if (config.nomad.adapter === 'sim') return [ok(what, 'simulated cluster (local mode): nothing to reach')];
  try {
    // One line per step (dns, tcp, tls/ssh, auth, …); steps after a failure are not run.
    const steps = await checkNomad(config, secrets, { timeoutMs });
    return steps.map((step) => (step.ok ? ok(`${what}: ${step.name}`, step.detail) : fail(`${what}: ${step.name}`, step.detail, step.fix ?? NOMAD_FIX)));
  } catch (err) {
    return [fail(what, (err as Error).message, NOMAD_FIX)];
  }
}
