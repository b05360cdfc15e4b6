// Reads vmbot.config.yaml (or --config / VMBOT_CONFIG), parses it with the one schema,
// and reports every problem by key path, with what was expected.
import { readFile } from 'node:fs/promises';
import { parseDocument } from 'yaml';
import type { z } from 'zod';
import { configSchema, type Config } from './schema.js';
import { knownKeysAt, suggestKey } from './suggest.js';

export const DEFAULT_CONFIG_PATH = 'vmbot.config.yaml';

/** What a missing default config file stands for (see loadConfig). */
export const NO_FILE_DEFAULTS = { nomad: { adapter: 'sim' } } as const;

export class ConfigError extends Error {
  constructor(
    readonly source: string,
    readonly issues: string[],
  ) {
    super(`${source}: the configuration is invalid:\n${issues.map((i) => `  - ${i}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** `macPool.ranges[0]` style paths, as the user writes them in YAML. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out ? `.${String(part)}` : String(part);
  }
  return out || '(top level)';
}

function describeUnknownKeys(keys: readonly string[], known: readonly string[]): string {
  const guesses = keys.map((k) => ({ key: k, meant: suggestKey(k, known) }));
  const listed = guesses.map((g) => (g.meant ? `${JSON.stringify(g.key)} (did you mean ${JSON.stringify(g.meant)}?)` : JSON.stringify(g.key))).join(', ');
  const hint = guesses.every((g) => g.meant) ? '' : ` (check the spelling against vmbot.config.example.yaml${known.length > 0 ? `; allowed here: ${known.join(', ')}` : ''})`;
  return `unknown key(s) ${listed}${hint}`;
}

export function formatIssues(error: z.ZodError): string[] {
  return error.issues.map((issue) => {
    const where = formatPath(issue.path);
    if (issue.code === 'unrecognized_keys') return `${where}: ${describeUnknownKeys(issue.keys, knownKeysAt(issue.path))}`;
    // zod's own words for a key that is not there at all ("expected string, received undefined").
    if (issue.code === 'invalid_type' && / received undefined$/.test(issue.message)) return `${where}: missing: this key is required (${issue.expected})`;
    return `${where}: ${issue.message}`;
  });
}

/** Parses an already-loaded object. Throws ConfigError listing every problem. */
export function parseConfig(raw: unknown, source = 'configuration'): Config {
  const result = configSchema.safeParse(raw ?? {});
  if (!result.success) throw new ConfigError(source, formatIssues(result.error));
  return result.data;
}

export function resolveConfigPath(flag?: string, env: NodeJS.ProcessEnv = process.env): string {
  return flag ?? env.VMBOT_CONFIG ?? DEFAULT_CONFIG_PATH;
}

/**
 * Loads and validates a config file. A missing default file is not an error (every key has a
 * default, and local mode needs none); a missing file that was named explicitly is.
 */
/**
 * The file as local mode reads it: local mode always runs the simulated cluster, so the
 * adapter is `sim` and the ssh/http connection settings (which it never uses) are left out;
 * the rest of `nomad` (jobPrefix, timings, sim) still applies and is still checked.
 */
export function forLocalMode(raw: unknown): unknown {
  const cfg = raw !== null && typeof raw === 'object' && !Array.isArray(raw) ? (raw as Record<string, unknown>) : {};
  const nomad = cfg.nomad !== null && typeof cfg.nomad === 'object' && !Array.isArray(cfg.nomad) ? { ...(cfg.nomad as Record<string, unknown>) } : {};
  delete nomad.ssh;
  delete nomad.http;
  // nomad.clusters likewise: every cluster is the one simulated cluster there.
  if (Array.isArray(nomad.clusters)) {
    nomad.clusters = nomad.clusters.map((c: unknown) => {
      if (c === null || typeof c !== 'object' || Array.isArray(c)) return c;
      const { ssh: _ssh, http: _http, ...rest } = c as Record<string, unknown>;
      return { ...rest, adapter: 'sim' };
    });
  }
  return { ...cfg, nomad: { ...nomad, adapter: 'sim' } };
}

export async function loadConfig(path: string, opts: { mustExist?: boolean; localMode?: boolean } = {}): Promise<{ config: Config; path: string; found: boolean }> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' && !opts.mustExist) {
      // No file at all means "try it out": the simulated cluster, so that the defaults
      // parse (the real default adapter, ssh, needs nomad.ssh) and `vmbot serve` runs locally.
      return { config: parseConfig(NO_FILE_DEFAULTS, `${path} (not found: defaults)`), path, found: false };
    }
    throw new ConfigError(path, [`cannot read the file: ${(err as Error).message} (copy vmbot.config.example.yaml to start one)`]);
  }
  const doc = parseDocument(text, { prettyErrors: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(path, doc.errors.map((e) => `YAML syntax: ${e.message}`));
  }
  const raw: unknown = doc.toJS();
  if (raw !== null && raw !== undefined && (typeof raw !== 'object' || Array.isArray(raw))) {
    throw new ConfigError(path, ['(top level): expected a mapping of keys (database:, nomad:, ...), not a list or a single value']);
  }
  return { config: parseConfig(opts.localMode ? forLocalMode(raw) : raw, path), path, found: true };
}
