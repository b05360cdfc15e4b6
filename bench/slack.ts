// Slack adapter figures: drawing Block Kit, and how fast the real Bolt app acks what Slack
// sends (Slack gives 3 s) in HTTP mode (signed POSTs) and Socket Mode (websocket envelopes),
// against the Slack double on loopback and the real workflow (harness: SQLite + sim).
// Also the adapter's start-up time and the memory Bolt adds.
// Run: npx tsx bench/slack.ts   (figures in docs/slack.md, "Figures")
import { cardMessage, replyMessage } from '../src/chat/slack/blocks.js';
import { createSlackAdapter, type SlackAdapter } from '../src/chat/slack/index.js';
import type { VmSummaryView } from '../src/workflow/views.js';
import { silentLogger } from '../src/log.js';
import { startHarness, type Harness } from '../tests/support/harness.js';
import { SlackDouble, type Delivery } from '../tests/support/slack-double.js';
import { bootingCard } from '../tests/support/views.js';
import { timed as timedLine } from './timed.js';

const ADMIN = 'UADMIN1';
const MEMBER = 'U1';
const OTHER = 'U2';

const timed = (label: string, ops: number, work: () => void): void => timedLine(label, ops, work, 58);

async function latency(label: string, runs: number, once: () => Promise<Delivery>): Promise<void> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = process.hrtime.bigint();
    const res = await once();
    times.push(Number(process.hrtime.bigint() - start) / 1e6);
    if (res.status !== 200) throw new Error(`${label}: status ${res.status}`);
  }
  times.sort((a, b) => a - b);
  const at = (q: number) => times[Math.min(times.length - 1, Math.floor(q * times.length))]!.toFixed(1);
  console.log(`${label.padEnd(58)} ${runs.toString().padStart(6)} acks  p50 ${at(0.5)} ms  p95 ${at(0.95)} ms  max ${times.at(-1)!.toFixed(1)} ms`);
}

const card = bootingCard({
  requester: { platform: 'slack', userId: MEMBER },
  reason: 'course work for the distributed systems module <!channel> & co',
  decision: { verb: 'approved', by: { platform: 'slack', userId: ADMIN }, at: '2026-01-02T03:04:05.000Z' },
});
const vms: VmSummaryView[] = Array.from({ length: 500 }, (_, i) => ({
  requestId: `r${i}`,
  name: `vm-${i}`,
  owner: { platform: 'slack', userId: MEMBER },
  state: 'running',
  stateLabel: 'Running',
  distroLabel: 'Debian 12',
  sizeLabel: 'small',
  ipv4: `10.10.${i >> 8}.${i & 255}`,
  ssh: `ssh alice@10.10.${i >> 8}.${i & 255}`,
}));

async function world(mode: 'http' | 'socket'): Promise<{ double: SlackDouble; h: Harness; adapter: SlackAdapter; startMs: number; close(): Promise<void> }> {
  const double = await SlackDouble.start();
  for (const u of [ADMIN, MEMBER, OTHER]) double.addUser(u);
  double.addChannel('CADMINS', { members: [ADMIN, OTHER] }).addChannel('C0GENERAL', { members: [ADMIN, MEMBER, OTHER] });
  double.setUsergroup('S0ADMINS', []);
  const h = await startHarness({ config: { slack: { adminChannel: 'CADMINS', admins: [ADMIN], adminGroup: 'S0ADMINS', apiUrl: double.apiUrl, mode, listen: '127.0.0.1:0' } } });
  const adapter = createSlackAdapter({
    config: h.config.slack!,
    botToken: double.botToken,
    ...(mode === 'socket' ? { appToken: double.appToken } : { signingSecret: double.signingSecret }),
    workflow: h.core.workflow,
    logger: silentLogger,
    socketModeOptions: { autoReconnectEnabled: false },
  });
  h.core.workflow.attachSurface(adapter);
  const start = process.hrtime.bigint();
  await adapter.start();
  if (mode === 'socket') await double.socketConnected();
  const startMs = Number(process.hrtime.bigint() - start) / 1e6;
  double.deliverTo(mode === 'http' ? { mode: 'http', url: adapter.url! } : { mode: 'socket' });
  return {
    double,
    h,
    adapter,
    startMs,
    async close() {
      await adapter.stop();
      await h.close();
      await double.close();
    },
  };
}

async function main(): Promise<void> {
  console.log(`node ${process.version}, ${process.platform}/${process.arch}`);
  timed('cardMessage (progress, decision, Delete with confirm)', 20_000, () => cardMessage(card));
  timed('replyMessage list of 500 VMs (packed under 50 blocks)', 200, () => replyMessage({ kind: 'list', vms, scope: 'all' }));

  for (const mode of ['http', 'socket'] as const) {
    global.gc?.();
    const before = process.memoryUsage();
    const w = await world(mode);
    console.log(`${`${mode}: adapter start (${mode === 'socket' ? 'apps.connections.open + hello' : 'HTTP listen'})`.padEnd(58)} ${w.startMs.toFixed(0)} ms`);
    // A pending request whose Approve a non-admin presses: the refusal path acks, then answers ephemerally.
    const r = await w.h.core.workflow.submitRequest(w.h.member(MEMBER), w.h.input({ name: `bench-${mode}` }));
    if (!r.ok) throw new Error(JSON.stringify(r.problems));
    const pending = await w.double.waitFor(() => w.double.messagesIn('CADMINS').find((m) => JSON.stringify(m.blocks).includes('vm:approve')), 5_000, 'card');
    await latency(`${mode}: /vm list → ack`, 300, () => w.double.slashCommand({ user: MEMBER, text: 'list' }));
    await latency(`${mode}: /vm ip NAME → ack`, 300, () => w.double.slashCommand({ user: MEMBER, text: `ip bench-${mode}` }));
    await latency(`${mode}: non-admin Approve press → ack`, 300, () => w.double.pressButton({ user: OTHER, message: pending, actionId: 'vm:approve' }));
    await w.double.waitFor(() => w.double.ephemeralsFor(OTHER).length >= 300, 20_000, 'all refusals');
    const after = process.memoryUsage();
    console.log(`${mode}: process RSS after start + 900 deliveries`.padEnd(58), `${(after.rss / 2 ** 20).toFixed(0)} MiB (was ${(before.rss / 2 ** 20).toFixed(0)} MiB; includes the harness and sim)`);
    await w.close();
  }
}

await main();
