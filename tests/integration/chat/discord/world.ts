// One Discord "world" for the integration tests: the Discord double (tests/support), the
// shared harness (real workflow, SQLite, simulated cluster) and the real adapter — a real
// discord.js client connected to the double's gateway — with the /vm command registered
// through the real `registerCommands`.
import { startDiscordDouble, type DiscordDouble, type StoredMessage, messageText } from '../../../support/discord-double.js';
import { TEST_SSH_KEY, startHarness, type Harness, type HarnessOptions } from '../../../support/harness.js';
import { createDiscordAdapter } from '../../../../src/chat/discord/index.js';
import { registerCommands } from '../../../../src/chat/discord/register.js';
import type { ChatAdapter } from '../../../../src/chat/adapter.js';
import type { VmWorkflow } from '../../../../src/workflow/api.js';
import { createLogger, silentLogger } from '../../../../src/log.js';
import { ADMIN_CHANNEL, ADMIN_ROLE, FALLBACK_CHANNEL, GUILD, TOKEN } from './guild.js';

export * from './guild.js';

export interface World {
  double: DiscordDouble;
  h: Harness;
  adapter: ChatAdapter;
  /** The admin card of a VM, once posted. */
  card(name: string): Promise<StoredMessage>;
  /** A member runs `/vm request` and submits the modal; resolves with the posted card. */
  request(userId: string, name: string, over?: Record<string, string>): Promise<{ requestId: string; card: StoredMessage; where: { channelId: string; messageId: string } }>;
  /** Stops the adapter and closes the core (not the double). */
  stop(): Promise<void>;
  close(): Promise<void>;
}

export interface WorldOptions {
  harness?: HarnessOptions;
  double?: DiscordDouble;
  deferAfterMs?: number;
  /** Wraps the workflow the adapter sees (tests that need slow work). */
  wrap?: (workflow: VmWorkflow) => VmWorkflow;
}

export async function startWorld(opts: WorldOptions = {}): Promise<World> {
  const double = opts.double ?? (await startDiscordDouble({ ...GUILD, token: TOKEN }));
  const h = await startHarness({
    ...opts.harness,
    config: {
      ...opts.harness?.config,
      discord: {
        apiUrl: double.apiUrl,
        applicationId: GUILD.applicationId,
        guildId: GUILD.guildId,
        adminChannel: ADMIN_CHANNEL,
        adminRoles: [ADMIN_ROLE],
        admins: [],
        fallbackChannel: FALLBACK_CHANNEL,
      },
    },
  });
  const config = h.config.discord!;
  // The sim parses HCL with HashiCorp's parser (WebAssembly): its first parse is slow, and on a
  // busy machine slower than the harness's 2 s Nomad timeout. Warm it before any VM is approved.
  await fetch(`${h.sim.url}/v1/jobs/parse`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ JobHCL: 'job "warm-up" {}', Canonicalize: true }) }).then((r) => r.arrayBuffer());
  // PUT replaces the set, so every (re)started world registers, as `vmbot discord register` would.
  await registerCommands({ apiUrl: config.apiUrl, token: TOKEN, applicationId: config.applicationId, guildId: config.guildId, catalogue: h.config, restOptions: { retries: 0 } });
  const workflow = opts.wrap ? opts.wrap(h.core.workflow) : h.core.workflow;
  const adapter = createDiscordAdapter({ config, token: TOKEN, workflow, logger: process.env.DISCORD_TEST_LOG ? createLogger({ level: 'debug', pretty: false, destination: process.stderr }) : silentLogger, restOptions: { retries: 0, timeout: 5_000 }, ...(opts.deferAfterMs !== undefined ? { deferAfterMs: opts.deferAfterMs } : {}) });
  h.core.workflow.attachSurface(adapter);
  try {
    await adapter.start();
  } catch (err) {
    await h.close();
    if (!opts.double) await double.close();
    throw err;
  }
  let stopped: Promise<void> | undefined;
  const stop = () => (stopped ??= (async () => {
    await adapter.stop();
    await h.close();
  })());
  const card = (name: string) =>
    double.waitFor(() => double.messages(ADMIN_CHANNEL).find((m) => messageText(m).includes(`VM ${name}`)), { what: `the card of ${name}` });
  return {
    double,
    h,
    adapter,
    async request(userId, name, over = {}) {
      const command = double.slashCommand(userId, 'request', { name, distro: 'debian-12', size: 'small' });
      await command.response();
      const submit = double.submitModal(userId, command, { login: 'alice', ssh_keys: TEST_SSH_KEY, reason: 'course work', ...over });
      await submit.response();
      const posted = await card(name);
      const requestId = (posted.embeds[0] as { footer: { text: string } }).footer.text.replace('request ', '');
      return { requestId, card: posted, where: { channelId: posted.channel_id, messageId: posted.id } };
    },
    card,
    stop,
    async close() {
      await stop();
      if (!opts.double) await double.close();
    },
  };
}
