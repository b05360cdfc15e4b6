// The Discord double is strict: it refuses what Discord refuses, so the adapter's tests mean
// something. Driven here with discord.js's own REST client and a raw websocket.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { once } from 'node:events';
import { WebSocket } from 'ws';
import { DiscordAPIError, REST, Routes } from 'discord.js';
import { createDiscordAdapter } from '../../../../src/chat/discord/index.js';
import { registerCommands } from '../../../../src/chat/discord/register.js';
import { silentLogger } from '../../../../src/log.js';
import type { ChatAdapter } from '../../../../src/chat/adapter.js';
import type { VmWorkflow } from '../../../../src/workflow/api.js';
import { startDiscordDouble, type DiscordDouble } from '../../../support/discord-double.js';
import { ADMIN_CHANNEL, ALICE, BOB_DMS_CLOSED, GUILD, TOKEN } from './guild.js';

const CATALOGUE = { distros: [{ name: 'debian-12', label: 'Debian 12' }], sizes: [{ name: 'small', label: '2 GB' }] };

async function refusal(p: Promise<unknown>): Promise<{ status: number; code: number | string }> {
  try {
    await p;
  } catch (err) {
    if (err instanceof DiscordAPIError) return { status: err.status, code: err.code };
    throw err;
  }
  throw new Error('expected Discord to refuse');
}

describe('the Discord double', () => {
  let double: DiscordDouble;
  let rest: REST;
  let adapter: ChatAdapter;
  /** A workflow that answers only when the tests are over: meanwhile the tests answer interactions by hand. */
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  const silent = new Proxy({}, { get: (_t, key) => (key === 'isAdmin' ? () => false : () => released.then(() => ({ ok: false, problems: [] }))) }) as VmWorkflow;

  beforeAll(async () => {
    double = await startDiscordDouble({ ...GUILD, token: TOKEN });
    rest = new REST({ api: double.apiUrl, retries: 0 }).setToken(TOKEN);
    await registerCommands({ apiUrl: double.apiUrl, token: TOKEN, applicationId: GUILD.applicationId, guildId: GUILD.guildId, catalogue: CATALOGUE });
    adapter = createDiscordAdapter({
      config: { apiUrl: double.apiUrl, applicationId: GUILD.applicationId, guildId: GUILD.guildId, adminChannel: ADMIN_CHANNEL, adminRoles: [], admins: [] },
      token: TOKEN,
      workflow: silent,
      logger: silentLogger,
      restOptions: { retries: 0 },
      deferAfterMs: 60_000,
    });
    await adapter.start();
  });
  afterAll(async () => {
    release();
    await adapter?.stop();
    await double?.close();
  });

  const body = { type: 4, data: { content: 'hi', flags: 64, allowed_mentions: { parse: [] } } };

  it('refuses a second initial response (40060) and a late one (10062)', async () => {
    const first = double.slashCommand(ALICE, 'status', { name: 'x' });
    await rest.post(Routes.interactionCallback(first.id, first.token), { body, auth: false });
    expect(await refusal(rest.post(Routes.interactionCallback(first.id, first.token), { body, auth: false }))).toEqual({ status: 400, code: 40060 });

    double.interactionDeadlineMs = 0;
    try {
      const late = double.slashCommand(ALICE, 'status', { name: 'y' });
      await new Promise((r) => setImmediate(r));
      expect(await refusal(rest.post(Routes.interactionCallback(late.id, late.token), { body, auth: false }))).toEqual({ status: 404, code: 10062 });
    } finally {
      double.interactionDeadlineMs = 3_000;
    }
  });

  it('refuses follow-ups on an expired interaction token (50027)', async () => {
    const i = double.slashCommand(ALICE, 'status', { name: 'z' });
    await rest.post(Routes.interactionCallback(i.id, i.token), { body, auth: false });
    double.tokenLifetimeMs = 0;
    try {
      await new Promise((r) => setImmediate(r));
      expect(await refusal(rest.patch(Routes.webhookMessage(GUILD.applicationId, i.token, '@original'), { body: { content: 'later', allowed_mentions: { parse: [] } }, auth: false }))).toEqual({ status: 401, code: 50027 });
    } finally {
      double.tokenLifetimeMs = 15 * 60_000;
    }
  });

  it('refuses components over the limits, empty messages, and messages without allowed_mentions (50035/50006)', async () => {
    const button = (i: number) => ({ type: 2, style: 1, label: `b${i}`, custom_id: `b${i}` });
    const sixButtons = { content: 'x', allowed_mentions: { parse: [] }, components: [{ type: 1, components: [0, 1, 2, 3, 4, 5].map(button) }] };
    expect(await refusal(rest.post(Routes.channelMessages(ADMIN_CHANNEL), { body: sixButtons }))).toEqual({ status: 400, code: 50035 });
    const longId = { content: 'x', allowed_mentions: { parse: [] }, components: [{ type: 1, components: [{ ...button(0), custom_id: 'c'.repeat(101) }] }] };
    expect(await refusal(rest.post(Routes.channelMessages(ADMIN_CHANNEL), { body: longId }))).toEqual({ status: 400, code: 50035 });
    const bigEmbed = { allowed_mentions: { parse: [] }, embeds: [{ description: 'd'.repeat(4000), fields: [{ name: 'n', value: 'v'.repeat(1024) }, { name: 'n', value: 'v'.repeat(1024) }] }] };
    expect(await refusal(rest.post(Routes.channelMessages(ADMIN_CHANNEL), { body: bigEmbed }))).toEqual({ status: 400, code: 50035 });
    expect(await refusal(rest.post(Routes.channelMessages(ADMIN_CHANNEL), { body: { allowed_mentions: { parse: [] } } }))).toEqual({ status: 400, code: 50006 });
    expect(await refusal(rest.post(Routes.channelMessages(ADMIN_CHANNEL), { body: { content: '@everyone hi' } }))).toEqual({ status: 400, code: 50035 });
    expect(await refusal(rest.post(Routes.channelMessages(ADMIN_CHANNEL), { body: { content: 'hi', allowed_mentions: { parse: ['everyone'] } } }))).toEqual({ status: 400, code: 50035 });
  });

  it('refuses DMs to a member with DMs closed (50007) and bad tokens (401)', async () => {
    const dm = (await rest.post(Routes.userChannels(), { body: { recipient_id: BOB_DMS_CLOSED } })) as { id: string };
    expect(await refusal(rest.post(Routes.channelMessages(dm.id), { body: { content: 'hi', allowed_mentions: { parse: [] } } }))).toEqual({ status: 403, code: 50007 });
    const wrong = new REST({ api: double.apiUrl, retries: 0 }).setToken('nope');
    expect((await refusal(wrong.get(Routes.gatewayBot()))).status).toBe(401);
  });

  it('makes start() fail, not hang, when the bot token is refused', async () => {
    const wrong = createDiscordAdapter({
      config: { apiUrl: double.apiUrl, applicationId: GUILD.applicationId, guildId: GUILD.guildId, adminChannel: ADMIN_CHANNEL, adminRoles: [], admins: [] },
      token: 'refused-token',
      workflow: silent,
      logger: silentLogger,
      restOptions: { retries: 0 },
    });
    const before = double.rejections.length;
    await expect(wrong.start()).rejects.toThrow(/token/i);
    expect(double.rejections.slice(before).map((r) => `${r.status} ${r.path}`)).toEqual(['401 /api/v10/gateway/bot']);
  });

  it('closes the gateway for privileged intents (4014) and for compression it does not speak (4002)', async () => {
    const ws = new WebSocket(`${double.gatewayUrl}?v=10&encoding=json`);
    await once(ws, 'message');
    ws.send(JSON.stringify({ op: 2, d: { token: TOKEN, intents: 1 | (1 << 15), properties: {} } }));
    const [code] = (await once(ws, 'close')) as [number];
    expect(code).toBe(4014);

    const zlib = new WebSocket(`${double.gatewayUrl}?v=10&encoding=json&compress=zlib-stream`);
    const [code2] = (await once(zlib, 'close')) as [number];
    expect(code2).toBe(4002);
    const etf = new WebSocket(`${double.gatewayUrl}?v=10&encoding=etf`);
    const [code3] = (await once(etf, 'close')) as [number];
    expect(code3).toBe(4002);
  });
});
