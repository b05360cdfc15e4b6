// The Slack adapter: Bolt app + handlers (inbound) and the ChatSurface (outbound).
// main.ts registers it with workflow.attachSurface(adapter) before start(); start() does
// not attach it itself, so one adapter is never registered twice.
import type { Logger } from '../../log.js';
import type { VmWorkflow } from '../../workflow/api.js';
import type { ChatAdapter } from '../adapter.js';
import { createActorResolver } from './actor.js';
import { createBoltApp, type BoltAppOptions, type SocketModeTuning } from './app.js';
import { registerHandlers } from './handlers.js';
import type { SlackSection } from './platform.js';
import { createSlackSurface } from './surface.js';

export interface SlackAdapterOptions {
  config: SlackSection;
  botToken: string;
  appToken?: string;
  signingSecret?: string;
  workflow: VmWorkflow;
  logger: Logger;
  /** Tests: Socket Mode client tuning. */
  socketModeOptions?: SocketModeTuning;
  /** Tests: extra WebClient options (e.g. retryConfig). */
  clientOptions?: BoltAppOptions['clientOptions'];
  /** How long the admin-group membership is cached (default 60 s). */
  adminGroupTtlMs?: number;
  /** How long a form submission waits for the workflow before acking without it (default 2.5 s; Slack allows 3). */
  submitDeadlineMs?: number;
}

export interface SlackAdapter extends ChatAdapter {
  /** HTTP mode: where Slack must post (set after start()). */
  readonly url: string | undefined;
}

export function createSlackAdapter(opts: SlackAdapterOptions): SlackAdapter {
  const bolt = createBoltApp(opts);
  const client = bolt.app.client;
  const surface = createSlackSurface({ client, adminChannel: opts.config.adminChannel, logger: opts.logger });
  const actors = createActorResolver({ client, adminGroup: opts.config.adminGroup, logger: opts.logger, ...(opts.adminGroupTtlMs !== undefined ? { ttlMs: opts.adminGroupTtlMs } : {}) });
  registerHandlers(bolt.app, {
    workflow: opts.workflow,
    actors,
    logger: opts.logger,
    dm: (userId, message) => surface.dm(userId, message),
    ...(opts.submitDeadlineMs !== undefined ? { submitDeadlineMs: opts.submitDeadlineMs } : {}),
  });

  let url: string | undefined;
  return {
    platform: 'slack',
    get url() {
      return url;
    },
    drawCard: (card, ref) => surface.drawCard(card, ref),
    notifyMember: (member, notice) => surface.notifyMember(member, notice),
    async start() {
      const started = await bolt.start();
      url = started.url;
      opts.logger.info({ mode: opts.config.mode, ...(url ? { url } : {}) }, 'Slack adapter started');
    },
    async stop() {
      await bolt.stop();
    },
  };
}
