// The chat platforms vmbot knows, in one list. The config schema (one optional section each),
// serve, `config check`, `vmbot doctor`, the admin decision and the platform plan all read it:
// adding a platform is its folder under src/chat/ plus one line here (docs/architecture.md).
import type { z } from 'zod';
import type { ChatPlatform } from './platform.js';
import { discordPlatform } from './discord/platform.js';
import { slackPlatform } from './slack/platform.js';

export const PLATFORMS = [slackPlatform, discordPlatform] as const satisfies readonly ChatPlatform[];

type Known = (typeof PLATFORMS)[number];

/** The config sections, keyed by platform name (`slack:`, `discord:`), each optional. */
export const PLATFORM_SECTIONS = Object.fromEntries(PLATFORMS.map((p) => [p.name, p.section.optional()])) as {
  [P in Known as P['name']]: z.ZodOptional<P['section']>;
};

/** Any platform, its section type forgotten: what code that walks the list works with. */
export type AnyChatPlatform = ChatPlatform;
