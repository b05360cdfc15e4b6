// The discord.js client: the Guilds intent only (slash commands, buttons and modals arrive as
// INTERACTION_CREATE whatever the intents; no privileged intents, no message content). REST and
// the gateway URL (GET /gateway/bot) both come from config.apiUrl, which tests point at the double.
import { Client, GatewayIntentBits, type ClientOptions } from 'discord.js';
import { noPings } from './mentions.js';

export type RestOptions = NonNullable<ClientOptions['rest']>;

export function createDiscordClient(opts: { apiUrl: string; token: string; restOptions?: RestOptions }): Client {
  const client = new Client({
    intents: [GatewayIntentBits.Guilds],
    rest: { ...opts.restOptions, api: opts.apiUrl },
    // A default for anything sent through discord.js; every call site also sets its own.
    allowedMentions: noPings(),
  });
  // The card and DM calls use REST directly and may run before the gateway is up (resume()).
  client.rest.setToken(opts.token);
  return client;
}
