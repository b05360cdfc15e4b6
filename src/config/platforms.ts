// Which chat platforms the configuration and the secrets allow to start, decided before
// anything starts: `vmbot serve` uses it to choose production or local mode, `vmbot doctor`
// to say what is missing. Names keys and variables only, never secret values. Every
// platform comes from the list (src/chat/platforms.ts); nothing here names one.
import { PLATFORMS } from '../chat/platforms.js';
import type { ChatPlatform, PlatformSecretNeed } from '../chat/platform.js';
import type { Actor } from '../domain/request.js';
import type { Config } from './schema.js';
import type { Secrets } from './secrets.js';

/**
 * A platform's section of the configuration (`config.slack`), or undefined when it is not
 * configured. Platforms of PLATFORMS are parsed by the config schema; one registered at run
 * time (a test's) finds its already-parsed section on the config object under its name.
 */
export function sectionOf(config: Config, platform: ChatPlatform): unknown {
  return (config as unknown as Record<string, unknown>)[platform.name];
}

export interface PlannedPlatform {
  platform: ChatPlatform;
  /** Its config section; undefined when the config has none. */
  section: unknown;
  /** Configured and every required secret set: it can start. */
  ready: boolean;
  /** What it still needs: the section and/or secret names (never values). */
  missing: string[];
}

/** One entry per platform of the list, in its order. */
export type PlatformPlan = PlannedPlatform[];

/** Why a platform wants a secret with its section ("slack", "slack Socket Mode"). */
export function secretPurpose(platform: ChatPlatform, need: PlatformSecretNeed): string {
  return need.mode ? `${platform.name} ${need.mode}` : platform.name;
}

/** Which chat platforms can start, and what each still needs (names of keys/variables, never values). */
export function planPlatforms(config: Config, secrets: Secrets, platforms: readonly ChatPlatform[] = PLATFORMS): PlatformPlan {
  return platforms.map((platform) => {
    const section = sectionOf(config, platform);
    const missing: string[] = [];
    if (section === undefined) missing.push(`${platform.name} (config section: ${platform.sectionHint})`);
    for (const need of platform.secretNeeds(section)) {
      if (need.required && !secrets[need.name]) missing.push(need.mode ? `${need.name} (${need.mode})` : need.name);
    }
    return { platform, section, ready: missing.length === 0, missing };
  });
}

/** The platforms that can start. */
export function readyPlatforms(plan: PlatformPlan): PlannedPlatform[] {
  return plan.filter((p) => p.ready);
}

/** The platforms the config has a section for, ready or not. */
export function configuredPlatforms(plan: PlatformPlan): PlannedPlatform[] {
  return plan.filter((p) => p.section !== undefined);
}

/** True when the config names a platform but its secrets are missing: that is a mistake, not local mode. */
export function halfConfigured(plan: PlatformPlan): string[] {
  return configuredPlatforms(plan)
    .filter((p) => !p.ready)
    .map((p) => `${p.platform.title} is configured but ${p.missing.join(', ')} ${p.missing.length > 1 ? 'are' : 'is'} not set (environment or *_FILE)`);
}

/**
 * Who is an admin (DESIGN §4), given to the workflow as a port: a member of a chat platform
 * by that platform's rule on its section (nobody when it is not configured), the web
 * console's listed users (web.admins), and the CLI, which runs on the server with the
 * database in reach. Admin IDs and groups count only on their own platform.
 */
export function adminDecision(config: Config, platforms: readonly ChatPlatform[] = PLATFORMS): (actor: Actor) => boolean {
  const byName = new Map(platforms.map((p) => [p.name, p]));
  return (actor) => {
    if (actor.platform === 'cli') return true;
    if (actor.platform === 'web') return config.web.admins.includes(actor.userId);
    const platform = byName.get(actor.platform);
    if (!platform) return false;
    const section = sectionOf(config, platform);
    return section !== undefined && platform.isAdmin(section, actor);
  };
}
