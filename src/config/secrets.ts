// Secrets come only from the environment, or from a file named by VAR_FILE (the Docker and
// Nomad convention). They are never in the config file and never logged.
import { readFileSync } from 'node:fs';
import { PLATFORMS } from '../chat/platforms.js';
import type { ChatPlatform } from '../chat/platform.js';
import { nomadClusterConfigs, type Config, type NomadClusterConfig } from './schema.js';

/** Secrets vmbot itself reads, whatever chat platforms are used. */
const CORE_SECRET_NAMES = ['NOMAD_TOKEN', 'VMBOT_WEB_TOKEN'] as const;

/** The secrets of these chat platforms (each names its own) and vmbot's own. */
export function secretNamesOf(platforms: readonly ChatPlatform[]): string[] {
  return [...new Set([...platforms.flatMap((p) => p.secretNames), ...CORE_SECRET_NAMES])];
}

export const SECRET_NAMES: readonly string[] = secretNamesOf(PLATFORMS);

/** The token variable of an http cluster that leaves out http.tokenEnv (every one, before the key existed). */
export const DEFAULT_NOMAD_TOKEN_ENV = 'NOMAD_TOKEN';

/** Where an http cluster's ACL token is read from. */
export interface NomadTokenSource {
  /** The environment variable (also read as <variable>_FILE). */
  variable: string;
  /**
   * Named by http.tokenEnv: then it must be set (the file says the cluster has a token of
   * its own). The default NOMAD_TOKEN stays optional, for clusters without ACLs.
   */
  named: boolean;
  /** The key that names it, for messages ("nomad.clusters[1].http.tokenEnv"); the default's is where it would go. */
  key: string;
}

/** The token source of one resolved cluster; `key` is where its settings are ("nomad", "nomad.clusters[1]"). */
export function nomadTokenSource(cluster: NomadClusterConfig, key = 'nomad'): NomadTokenSource {
  const named = cluster.http?.tokenEnv;
  return { variable: named ?? DEFAULT_NOMAD_TOKEN_ENV, named: named !== undefined, key: `${key}.http.tokenEnv` };
}

/** Each http cluster's token source, by cluster name, in configuration order. */
export function nomadTokenSources(config: Config): Array<NomadTokenSource & { cluster: string }> {
  const own = config.nomad.clusters;
  return nomadClusterConfigs(config.nomad).flatMap((cluster, i) => {
    if (cluster.adapter !== 'http') return [];
    // A cluster without an http section of its own takes the nomad: section's, tokenEnv included.
    const key = own?.[i]?.http ? `nomad.clusters[${i}]` : 'nomad';
    return [{ cluster: cluster.name, ...nomadTokenSource(cluster, key) }];
  });
}

/** Every secret this configuration may read: the platforms' and vmbot's own, and each http cluster's token variable. */
export function secretNamesFor(config: Config, platforms: readonly ChatPlatform[] = PLATFORMS): string[] {
  return [...new Set([...secretNamesOf(platforms), ...nomadTokenSources(config).map((s) => s.variable)])];
}

/**
 * `config check`'s lines for the http clusters' token variables, one per variable: the
 * default NOMAD_TOKEN is optional (a cluster without ACLs needs none); one that
 * http.tokenEnv names is required.
 */
export function nomadTokenNeeds(config: Config): Array<{ name: string; required: boolean; for: string }> {
  const byVariable = new Map<string, Array<NomadTokenSource & { cluster: string }>>();
  for (const source of nomadTokenSources(config)) byVariable.set(source.variable, [...(byVariable.get(source.variable) ?? []), source]);
  return [...byVariable].map(([name, sources]) => {
    const named = sources.filter((s) => s.named);
    const unnamed = sources.filter((s) => !s.named).map((s) => s.cluster);
    const parts = [
      ...named.map((s) => `Nomad cluster ${s.cluster} (${s.key})`),
      ...(unnamed.length === 0 ? [] : config.nomad.clusters ? [`Nomad cluster${unnamed.length > 1 ? 's' : ''} ${unnamed.join(', ')} with ACLs`] : ['a Nomad cluster with ACLs']),
    ];
    return { name, required: named.length > 0, for: parts.join('; ') };
  });
}

/** What to do about a token variable that http.tokenEnv names but the environment does not hold (names only, never values). */
export function missingTokenFix(source: NomadTokenSource, cluster: string): string {
  return `set ${source.variable} (or ${source.variable}_FILE, a file holding it) to the ACL token of Nomad cluster ${cluster}, one that may read and submit jobs; or leave ${source.key} out if that cluster has no ACLs`;
}

/** The error for such a variable: thrown where a cluster's port is made, so that serve refuses to start and says why. */
export function missingTokenError(source: NomadTokenSource, cluster: string): SecretError {
  return new SecretError(source.variable, `Nomad cluster ${cluster}: ${source.variable} is not set (${source.key} names it as the cluster's token): ${missingTokenFix(source, cluster)}`);
}
/** An environment variable name (the chat platforms' are in src/chat/<platform>/platform.ts). */
export type SecretName = string;
export type Secrets = Partial<Record<SecretName, string>>;

export class SecretError extends Error {
  constructor(readonly variable: string, message: string) {
    super(message);
    this.name = 'SecretError';
  }
}

export function readSecrets(env: NodeJS.ProcessEnv = process.env, names: readonly SecretName[] = SECRET_NAMES): Secrets {
  const secrets: Secrets = {};
  for (const name of names) {
    const direct = env[name];
    const file = env[`${name}_FILE`];
    if (direct && file) throw new SecretError(name, `both ${name} and ${name}_FILE are set: keep one`);
    if (direct) secrets[name] = direct.trim();
    else if (file) {
      try {
        secrets[name] = readFileSync(file, 'utf8').trim();
      } catch (err) {
        throw new SecretError(`${name}_FILE`, `${name}_FILE names ${file}, which cannot be read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
      }
      if (!secrets[name]) throw new SecretError(`${name}_FILE`, `${name}_FILE names ${file}, which is empty`);
    }
  }
  return secrets;
}

/** For logs: "set" / "not set", never the value. */
export function describeSecret(secrets: Secrets, name: SecretName): string {
  return secrets[name] ? 'set' : 'not set';
}
