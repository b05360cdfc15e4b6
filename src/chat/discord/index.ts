// The Discord adapter: a discord.js client (gateway for interactions, REST for everything we
// send) plus the ChatSurface the workflow draws through. main.ts builds one and hands it the
// shared VmWorkflow.
import { once } from 'node:events';
import { Events } from 'discord.js';
import type { Logger } from '../../log.js';
import type { VmWorkflow } from '../../workflow/api.js';
import type { ChatAdapter } from '../adapter.js';
import { createDiscordClient, type RestOptions } from './client.js';
import { createInteractionRouter } from './interactions.js';
import type { DiscordSection } from './platform.js';
import { createDiscordSurface } from './surface.js';

export interface DiscordAdapterOptions {
  config: DiscordSection;
  token: string;
  workflow: VmWorkflow;
  logger: Logger;
  /** Tests: REST client settings (timeouts, retries). */
  restOptions?: RestOptions;
  /** Work slower than this is deferred; Discord's deadline is 3 s, so keep well under it. */
  deferAfterMs?: number;
}

export const DEFAULT_DEFER_AFTER_MS = 1_500;
/** How long stop() waits for interactions still being handled. */
const STOP_GRACE_MS = 5_000;

export function createDiscordAdapter(opts: DiscordAdapterOptions): ChatAdapter {
  const { config, logger } = opts;
  const client = createDiscordClient({ apiUrl: config.apiUrl, token: opts.token, ...(opts.restOptions ? { restOptions: opts.restOptions } : {}) });
  const surface = createDiscordSurface({ rest: client.rest, config, logger });
  const route = createInteractionRouter({ workflow: opts.workflow, logger, deferAfterMs: opts.deferAfterMs ?? DEFAULT_DEFER_AFTER_MS });
  /** Handlers still running: stop() lets them finish before the client goes. */
  const inFlight = new Set<Promise<void>>();

  client.on(Events.InteractionCreate, (interaction) => {
    const handled = route(interaction).finally(() => inFlight.delete(handled));
    inFlight.add(handled);
  });
  client.on(Events.Error, (err) => logger.error({ err }, 'discord client error'));
  client.on(Events.Warn, (message) => logger.warn({ message }, 'discord client warning'));

  return {
    platform: 'discord',
    drawCard: surface.drawCard,
    notifyMember: surface.notifyMember,
    async start() {
      const abort = new AbortController();
      const ready = once(client, Events.ClientReady, { signal: abort.signal });
      ready.catch(() => undefined);
      try {
        await client.login(opts.token);
        await ready;
      } catch (err) {
        abort.abort();
        await client.destroy();
        throw err;
      }
      logger.info({ user: client.user?.tag, guild: config.guildId }, 'connected to Discord');
    },
    async stop() {
      // Let running handlers answer, but do not hang a shutdown on a stuck cluster call.
      let timer: NodeJS.Timeout | undefined;
      const grace = new Promise<void>((resolve) => (timer = setTimeout(resolve, STOP_GRACE_MS)));
      await Promise.race([Promise.allSettled([...inFlight]), grace]);
      clearTimeout(timer);
      await client.destroy();
    },
  };
}
