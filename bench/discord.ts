// Discord adapter figures: drawing cards, and the interaction round trip through the real
// discord.js client and the Discord double on loopback (dispatch on the gateway → the
// callback POST arrives), plus start-up time and the client's memory.
// Run: npx tsx bench/discord.ts   (figures in docs/discord-bench.md)
import { drawCard } from '../src/chat/discord/draw.js';
import { inert } from '../src/chat/discord/mentions.js';
import { createDiscordAdapter } from '../src/chat/discord/index.js';
import { registerCommands } from '../src/chat/discord/register.js';
import type { RequestCardView } from '../src/workflow/views.js';
import type { VmWorkflow } from '../src/workflow/api.js';
import { ok } from '../src/domain/problem.js';
import { silentLogger } from '../src/log.js';
import { startDiscordDouble } from '../tests/support/discord-double.js';
import { bootingCard, vmSummary } from '../tests/support/views.js';
import { timed } from './timed.js';

const APP = '100000000000000001';
const GUILD = '100000000000000002';
const ADMIN = '100000000000000003';
const USER = '300000000000000011';
const TOKEN = 'bench.token';

const card = bootingCard({ requester: { platform: 'discord', userId: USER } });
const worst: RequestCardView = {
  ...card,
  reason: '@everyone '.repeat(500),
  failure: { code: 'task_failed', message: 'm'.repeat(3000), consoleTail: Array.from({ length: 200 }, (_, i) => `[ ${i}.0] cloud-init[512]: ci-info: | ens3 | True | 10.10.0.${i} |`) },
};
timed('drawCard, a typical provisioning card', 20_000, () => drawCard(card));
const longText = '**@everyone** <@&1> '.repeat(5_000);
timed('inert() on 100 000 characters of hostile member text', 100, () => inert(longText));
timed('drawCard, worst case (huge reason + console tail, fitted)', 5_000, () => drawCard(worst));

// --- round trip through discord.js and the double -----------------------------------------
const vm = vmSummary({ name: 'web-1', owner: { platform: 'discord', userId: USER } });
const workflow = new Proxy({}, { get: (_t, key) => (key === 'isAdmin' ? () => false : async () => ok(vm)) }) as VmWorkflow;

const double = await startDiscordDouble({
  applicationId: APP,
  token: TOKEN,
  guildId: GUILD,
  channels: [{ id: '100000000000000004', name: 'general' }, { id: ADMIN, name: 'vm-admins' }],
  roles: [],
  members: [{ id: USER, username: 'alice', roles: [] }],
});
await registerCommands({ apiUrl: double.apiUrl, token: TOKEN, applicationId: APP, guildId: GUILD, catalogue: { distros: [{ name: 'debian-12', label: 'Debian 12' }], sizes: [{ name: 'small', label: '2 GB' }] } });
const rssBefore = process.memoryUsage().rss;
const adapter = createDiscordAdapter({ config: { apiUrl: double.apiUrl, applicationId: APP, guildId: GUILD, adminChannel: ADMIN, adminRoles: [], admins: [] }, token: TOKEN, workflow, logger: silentLogger });
let start = process.hrtime.bigint();
await adapter.start();
console.log(`${'start: GET /gateway/bot → IDENTIFY → READY → GUILD_CREATE'.padEnd(56)} ${(Number(process.hrtime.bigint() - start) / 1e6).toFixed(1)} ms`);

const latencies: number[] = [];
const N = 500;
start = process.hrtime.bigint();
for (let i = 0; i < N; i++) {
  const t0 = performance.now();
  const interaction = double.slashCommand(USER, 'status', { name: 'web-1' });
  await interaction.response();
  latencies.push(performance.now() - t0);
}
const totalMs = Number(process.hrtime.bigint() - start) / 1e6;
latencies.sort((a, b) => a - b);
const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))]!.toFixed(2);
console.log(`${'/vm status round trip (dispatch → ephemeral reply), sequential'.padEnd(56)} ${N} ops ${totalMs.toFixed(0)} ms  p50 ${pct(50)} ms  p95 ${pct(95)} ms  max ${pct(100)} ms`);

let ref = await adapter.drawCard({ ...card, version: 0 }, undefined);
start = process.hrtime.bigint();
for (let v = 1; v <= 200; v++) ref = await adapter.drawCard({ ...card, version: v }, ref);
console.log(`${'card edit (PATCH /channels/:c/messages/:m), sequential'.padEnd(56)} 200 ops ${(Number(process.hrtime.bigint() - start) / 1e6).toFixed(0)} ms  (${(Number(process.hrtime.bigint() - start) / 1e6 / 200).toFixed(2)} ms/op)`);
global.gc?.();
console.log(`${'RSS growth: discord.js client started + the runs above'.padEnd(56)} ${((process.memoryUsage().rss - rssBefore) / 1024 / 1024).toFixed(1)} MiB`);

await adapter.stop();
await double.close();
