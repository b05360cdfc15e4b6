// DESIGN §4: secrets are never logged. A Discord REST error carries the URL it was sent to,
// and for an interaction answer that URL holds the interaction token (which lets anyone post
// as the bot in that conversation for 15 minutes). An answer that arrives after Discord's
// deadline fails with such an error, and the adapter logs it: the token must not be in the log.
import { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDiscordDouble, type DiscordDouble } from '../../support/discord-double.js';
import { startHarness, type Harness } from '../../support/harness.js';
import { createDiscordAdapter } from '../../../src/chat/discord/index.js';
import { registerCommands } from '../../../src/chat/discord/register.js';
import type { ChatAdapter } from '../../../src/chat/adapter.js';
import type { VmWorkflow } from '../../../src/workflow/api.js';
import { createLogger } from '../../../src/log.js';
import { ADMIN_CHANNEL, ADMIN_ROLE, ALICE, GUILD, TOKEN } from '../chat/discord/guild.js';
import { MEMBER, startSlackWorld, type SlackWorld } from '../chat/slack/world.js';

/** Discord's answer deadline, shortened; the workflow below answers well after it. */
const DEADLINE_MS = 200;

describe('security: no Discord interaction token in the log', () => {
  let double: DiscordDouble;
  let h: Harness;
  let adapter: ChatAdapter;
  const lines: string[] = [];

  beforeAll(async () => {
    double = await startDiscordDouble({ ...GUILD, token: TOKEN, interactionDeadlineMs: DEADLINE_MS });
    h = await startHarness({
      config: { discord: { apiUrl: double.apiUrl, applicationId: GUILD.applicationId, guildId: GUILD.guildId, adminChannel: ADMIN_CHANNEL, adminRoles: [ADMIN_ROLE], admins: [] } },
    });
    await registerCommands({ apiUrl: double.apiUrl, token: TOKEN, applicationId: GUILD.applicationId, guildId: GUILD.guildId, catalogue: h.config, restOptions: { retries: 0 } });
    // `ip` answers only once the deadline has surely passed (and the adapter never defers).
    const slow: VmWorkflow = Object.create(h.core.workflow) as VmWorkflow;
    slow.ip = async (actor, name) => {
      await sleep(DEADLINE_MS * 3);
      return h.core.workflow.ip(actor, name);
    };
    const destination = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(chunk.toString('utf8'));
        done();
      },
    });
    adapter = createDiscordAdapter({
      config: h.config.discord!,
      token: TOKEN,
      workflow: slow,
      logger: createLogger({ level: 'debug', pretty: false, destination }),
      restOptions: { retries: 0, timeout: 5_000 },
      deferAfterMs: 60_000,
    });
    await adapter.start();
  });
  afterAll(async () => {
    await adapter?.stop();
    await h?.close();
    await double?.close();
  });

  it('a late answer fails and is logged without the interaction token or the bot token', async () => {
    const i = double.slashCommand(ALICE, 'ip', { name: 'nope' });
    await double.waitFor(() => lines.some((l) => l.includes('discord interaction failed')), { what: 'the failure to be logged', timeoutMs: 10_000 });
    const log = lines.join('');
    expect(log).toContain('Unknown interaction'); // the error itself is there, for the admin
    expect(log).not.toContain(i.token);
    expect(log).not.toContain(TOKEN);
  });
});

describe('security: no Slack response_url in the log', () => {
  let w: SlackWorld;
  const lines: string[] = [];
  beforeAll(async () => {
    const destination = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(chunk.toString('utf8'));
        done();
      },
    });
    // Debug level: Bolt's Socket Mode client then logs every envelope it receives.
    w = await startSlackWorld({ mode: 'socket', adapter: { logger: createLogger({ level: 'debug', pretty: false, destination }) } });
  });
  afterAll(async () => {
    await w?.close();
  });

  it('an envelope logged at debug level does not carry the response_url (a 30-minute credential) or a token', async () => {
    const before = w.double.responseUrlPosts.length;
    expect((await w.double.slashCommand({ user: MEMBER, text: 'list' })).status).toBe(200);
    await w.double.waitFor(() => w.double.responseUrlPosts.length > before, 5_000, 'the answer through response_url');
    const log = lines.join('');
    expect(log).toContain('slash_commands'); // the envelope is in the log...
    expect(log).not.toMatch(/\/hooks\/[^"\s]+\/\d+\/[0-9a-f]{24}/); // ...without its response_url
    expect(log).not.toMatch(/\\"token\\":\\"(?!\[Redacted\])/); // nor Slack's verification token
    expect(log).not.toContain(w.double.botToken);
    expect(log).not.toContain(w.double.appToken);
  });
});
