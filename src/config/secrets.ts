// Secrets come only from the environment, or from a file named by VAR_FILE (the Docker and
// Nomad convention). They are never in the config file and never logged.
import { readFileSync } from 'node:fs';
import { PLATFORMS } from '../chat/platforms.js';
import type { ChatPlatform } from '../chat/platform.js';

/** Secrets vmbot itself reads, whatever chat platforms are used. */
const CORE_SECRET_NAMES = ['NOMAD_TOKEN', 'VMBOT_WEB_TOKEN'] as const;

/** The secrets of these chat platforms (each names its own) and vmbot's own. */
export function secretNamesOf(platforms: readonly ChatPlatform[]): string[] {
  return [...new Set([...platforms.flatMap((p) => p.secretNames), ...CORE_SECRET_NAMES])];
}

export const SECRET_NAMES: readonly string[] = secretNamesOf(PLATFORMS);
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
