// Slack as vmbot sees it from outside this folder (src/chat/platform.ts): the `slack:` config
// section, its secrets, its admins, its doctor check and how its adapter is made. The adapter
// and the check are loaded only when used, so reading the config does not load Bolt.
import { z } from 'zod';
import { listenSchema, urlSchema } from '../../config/fields.js';
import type { ChatAdapter } from '../adapter.js';
import type { ChatPlatform } from '../platform.js';

export const slackSection = z.strictObject({
  mode: z.enum(['socket', 'http']).default('socket'),
  apiUrl: urlSchema.default('https://slack.com/api/'),
  /** HTTP mode: where the receiver listens (loopback by default: a reverse proxy terminates TLS in front). */
  listen: listenSchema.default({ host: '127.0.0.1', port: 3000 }),
  adminChannel: z.string().min(1),
  admins: z.array(z.string().min(1)).default([]),
  adminGroup: z.string().optional(),
});

export type SlackSection = z.output<typeof slackSection>;

export const slackPlatform = {
  name: 'slack' as const,
  title: 'Slack',
  section: slackSection,
  sectionHint: 'adminChannel, admins/adminGroup',
  secretNames: ['SLACK_BOT_TOKEN', 'SLACK_APP_TOKEN', 'SLACK_SIGNING_SECRET'],
  secretNeeds(section) {
    const socket = (section?.mode ?? 'socket') === 'socket';
    return [
      { name: 'SLACK_BOT_TOKEN', required: true },
      socket ? { name: 'SLACK_APP_TOKEN', required: true, mode: 'Socket Mode' } : { name: 'SLACK_SIGNING_SECRET', required: true, mode: 'HTTP mode' },
    ];
  },
  // Listed user IDs, or membership of the admin user group (the adapter reports it in `groups`).
  isAdmin(section, actor) {
    return section.admins.includes(actor.userId) || (section.adminGroup !== undefined && actor.groups.includes(section.adminGroup));
  },
  async check(section, secrets, timeoutMs) {
    const { checkSlack } = await import('./check.js');
    return checkSlack(section, secrets.SLACK_BOT_TOKEN, timeoutMs);
  },
  async create({ section, secrets, workflow, logger }): Promise<ChatAdapter> {
    const { createSlackAdapter } = await import('./index.js');
    return createSlackAdapter({
      config: section,
      botToken: secrets.SLACK_BOT_TOKEN!,
      ...(secrets.SLACK_APP_TOKEN ? { appToken: secrets.SLACK_APP_TOKEN } : {}),
      ...(secrets.SLACK_SIGNING_SECRET ? { signingSecret: secrets.SLACK_SIGNING_SECRET } : {}),
      workflow,
      logger,
    });
  },
  describe(section) {
    const admins = `${section.admins.length} admin(s)${section.adminGroup ? ` + group ${section.adminGroup}` : ''}`;
    return `slack (${section.mode === 'socket' ? 'Socket Mode' : `HTTP on ${section.listen.host}:${section.listen.port}`}, admin channel ${section.adminChannel}, ${admins})`;
  },
} satisfies ChatPlatform<SlackSection>;
