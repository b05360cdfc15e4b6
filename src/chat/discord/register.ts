// Registers the `/vm` command through Discord's REST API (PUT replaces the whole set, so running
// it again is safe). Guild commands show up at once; global ones can take up to an hour.
import { REST, Routes } from 'discord.js';
import { buildCommands, type Catalogue } from './commands.js';
import type { RestOptions } from './client.js';

export interface RegisterResult {
  scope: 'guild' | 'global';
  guildId?: string;
  commands: Array<{ id: string; name: string }>;
}

export async function registerCommands(opts: { apiUrl: string; token: string; applicationId: string; guildId?: string; catalogue: Catalogue; restOptions?: RestOptions }): Promise<RegisterResult> {
  const rest = new REST({ ...opts.restOptions, api: opts.apiUrl }).setToken(opts.token);
  const route = opts.guildId ? Routes.applicationGuildCommands(opts.applicationId, opts.guildId) : Routes.applicationCommands(opts.applicationId);
  const stored = (await rest.put(route, { body: buildCommands(opts.catalogue) })) as Array<{ id: string; name: string }>;
  return { scope: opts.guildId ? 'guild' : 'global', ...(opts.guildId ? { guildId: opts.guildId } : {}), commands: stored.map((c) => ({ id: c.id, name: c.name })) };
}
