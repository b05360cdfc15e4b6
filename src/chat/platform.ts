// What vmbot knows about one chat platform, in one place: its config section, its secrets,
// who its admins are, how `vmbot doctor` checks it and how its adapter is made. Everything
// outside src/chat/<platform>/ (the config schema, serve, config check, doctor, the admin
// decision, the platform plan) reads the list of these (src/chat/platforms.ts), so a new
// platform is one folder plus one line there.
import type { Command } from 'commander';
import type { z } from 'zod';
import type { CheckResult } from '../components.js';
import type { Secrets } from '../config/secrets.js';
import type { Actor } from '../domain/request.js';
import type { Logger } from '../log.js';
import type { VmWorkflow } from '../workflow/api.js';
import type { ChatAdapter } from './adapter.js';

/** A secret the platform needs with a given section. */
export interface PlatformSecretNeed {
  /** The environment variable (also read from `<name>_FILE`). */
  name: string;
  required: boolean;
  /** Which setting of the section needs it, e.g. "Socket Mode"; absent when the platform always does. */
  mode?: string;
}

export interface PlatformAdapterOptions<Section> {
  section: Section;
  secrets: Secrets;
  workflow: VmWorkflow;
  logger: Logger;
}

export interface ChatPlatform<Section = unknown> {
  /** The config key of its section (`slack:`), `Actor.platform` of its members, and its adapter's `platform`. */
  readonly name: string;
  /** As people write it, in messages: "Slack". */
  readonly title: string;
  /** The zod schema of its config section; the section is optional: absent means the platform is not used. */
  readonly section: z.ZodType<Section, unknown>;
  /** The keys a minimal section needs, named when it is missing (e.g. "adminChannel, admins/adminGroup"). */
  readonly sectionHint: string;
  /** Every secret it may read (`vmbot config check` and readSecrets know them from here). */
  readonly secretNames: readonly string[];
  /** The secrets this section needs (undefined: not configured, its defaults). */
  secretNeeds(section: Section | undefined): PlatformSecretNeed[];
  /** Whether this member of the platform is an admin, by the section (listed IDs, groups/roles). */
  isAdmin(section: Section, actor: Actor): boolean;
  /** `vmbot doctor`'s lines for the platform (token, scopes, channel, admins); never logs a secret. */
  check(section: Section, secrets: Secrets, timeoutMs: number): Promise<CheckResult[]>;
  /** The adapter (not started); called only when every required secret is set. */
  create(opts: PlatformAdapterOptions<Section>): Promise<ChatAdapter>;
  /** One line: what is configured (mode, admin channel, admins), for `config check` and start-up. */
  describe(section: Section): string;
  /** Its own `vmbot <platform> ...` set-up commands, if it has any (Discord: register, invite). */
  registerCommands?(program: Command): void;
}
