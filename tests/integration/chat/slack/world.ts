// One Slack world for the integration tests: the Slack double, the shared harness (real
// workflow, SQLite, simulated cluster) and the REAL Bolt app of the adapter between them.
import { createSlackAdapter, type SlackAdapter, type SlackAdapterOptions } from '../../../../src/chat/slack/index.js';
import type { VmWorkflow } from '../../../../src/workflow/api.js';
import { silentLogger } from '../../../../src/log.js';
import { startHarness, type Harness, type HarnessOptions } from '../../../support/harness.js';
import { SlackDouble, type Delivery, type StoredMessage } from '../../../support/slack-double.js';

export const ADMIN_CHANNEL = 'CADMINS';
/** Configured admins (harness defaults), a member of the admin user group, members. */
export const ADMIN1 = 'UADMIN1';
export const ADMIN2 = 'UADMIN2';
export const GROUP_ADMIN = 'UGROUPADM';
export const MEMBER = 'U1';
export const OTHER = 'U2';

export interface SlackWorld {
  double: SlackDouble;
  h: Harness;
  adapter: SlackAdapter;
  /** `/vm request` → fill the modal → submit; resolves with the submission's delivery. */
  request(user: string, values?: Record<string, string>): Promise<Delivery>;
  /** The card of a VM in the admin channel, once it shows `until` (default: anything). */
  card(name: string, until?: (m: StoredMessage) => boolean, what?: string): Promise<StoredMessage>;
  requestId(name: string): Promise<string>;
  /** Waits for the VM's state; a `failed` request on the way ends the wait with its failure. */
  reach(name: string, state: 'running' | 'deleted' | 'failed', timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

export const cardText = (m: StoredMessage): string => JSON.stringify(m.blocks);
export const buttonsOf = (m: StoredMessage): string[] =>
  m.blocks.flatMap((b) => (b['type'] === 'actions' ? (b['elements'] as Array<{ action_id: string }>).map((e) => e.action_id) : []));

let hclWarm: Promise<unknown> | undefined;

export interface SlackWorldOptions {
  mode: 'http' | 'socket';
  harness?: HarnessOptions;
  /** Adapter options beyond the world's own (e.g. submitDeadlineMs). */
  adapter?: Pick<SlackAdapterOptions, 'submitDeadlineMs' | 'adminGroupTtlMs' | 'socketModeOptions'> & Partial<Pick<SlackAdapterOptions, 'logger'>>;
  /** Wraps the workflow the adapter sees (e.g. to slow one use case down). */
  wrapWorkflow?: (workflow: VmWorkflow) => VmWorkflow;
}

export async function startSlackWorld(opts: SlackWorldOptions = { mode: 'http' }): Promise<SlackWorld> {
  // The sim parses jobs with HashiCorp's HCL parser (Go compiled to WASM): its first parse in a
  // process blocks the event loop for about a second, long enough to trip the harness's 2 s
  // Nomad timeout while Bolt and the websocket wait. Pay it once, before anything runs.
  hclWarm ??= import('@cdktf/hcl2json').then(({ parse }) => parse('warm.hcl', 'a = 1'));
  await hclWarm;
  const double = await SlackDouble.start();
  for (const [id, name] of [[ADMIN1, 'admin1'], [ADMIN2, 'admin2'], [GROUP_ADMIN, 'groupadmin'], [MEMBER, 'member'], [OTHER, 'other']] as const) double.addUser(id, name);
  // OTHER is in the admin channel too: a member who can see the buttons but may not press them.
  double.addChannel(ADMIN_CHANNEL, { members: [ADMIN1, ADMIN2, GROUP_ADMIN, OTHER] });
  double.addChannel('C0GENERAL', { members: [ADMIN1, ADMIN2, GROUP_ADMIN, MEMBER, OTHER] });
  double.setUsergroup('S0ADMINS', [GROUP_ADMIN]);

  const harnessOpts = opts.harness ?? {};
  const h = await startHarness({
    ...harnessOpts,
    // A quick cluster: these tests are about Slack, not boot timing.
    sim: { bootDelayMs: 20, chunkDelayMs: 2, startDelayMs: 20, stopDelayMs: 10, gcDelayMs: 20, ...harnessOpts.sim },
    config: { ...harnessOpts.config, slack: { adminChannel: ADMIN_CHANNEL, admins: [ADMIN1, ADMIN2], adminGroup: 'S0ADMINS', apiUrl: double.apiUrl, mode: opts.mode, listen: '127.0.0.1:0' } },
  });
  const adapter = createSlackAdapter({
    config: h.config.slack!,
    botToken: double.botToken,
    ...(opts.mode === 'socket' ? { appToken: double.appToken } : { signingSecret: double.signingSecret }),
    workflow: opts.wrapWorkflow ? opts.wrapWorkflow(h.core.workflow) : h.core.workflow,
    logger: silentLogger,
    clientOptions: { retryConfig: { retries: 0 } },
    socketModeOptions: { autoReconnectEnabled: false },
    ...opts.adapter,
  });
  h.core.workflow.attachSurface(adapter);
  try {
    await adapter.start();
  } catch (err) {
    await h.close();
    await double.close();
    throw err;
  }
  if (opts.mode === 'http') double.deliverTo({ mode: 'http', url: adapter.url! });
  else {
    await double.socketConnected();
    double.deliverTo({ mode: 'socket' });
  }

  const world: SlackWorld = {
    double,
    h,
    adapter,
    async request(user, values = {}) {
      const before = double.views.length;
      const ack = await double.slashCommand({ user, text: 'request' });
      if (ack.status !== 200) throw new Error(`slash command answered ${ack.status}`);
      const view = await double.waitFor(() => double.views.length > before && double.lastViewFor(user), 5_000, 'the request modal');
      return double.submitView({ user, view, values: { name: 'my-vm', distro: 'debian-12', size: 'small', sshKeys: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAVetM1RAU3e4XdWWTX8NaglZCn+DtXS1g8BszVPJ+rt alice@laptop', login: 'alice', reason: 'Coursework', ...values } });
    },
    card(name, until = () => true, what = `the card of ${name}`) {
      return double.waitFor(() => double.messagesIn(ADMIN_CHANNEL).find((m) => cardText(m).includes(`VM request: ${name}`) && until(m)), 8_000, what);
    },
    async requestId(name) {
      const rows = (await h.core.store.requests.list()).filter((r) => r.name === name);
      const latest = rows.sort((a, b) => a.createdAt.localeCompare(b.createdAt)).at(-1);
      if (!latest) throw new Error(`no request named ${name}`);
      return latest.id;
    },
    async reach(name, state, timeoutMs = 15_000) {
      const id = await world.requestId(name);
      await h.waitFor(
        async () => {
          const req = await h.core.store.requests.get(id);
          if (req?.state === 'failed' && state !== 'failed') throw new Error(`${name} failed: ${req.failure?.code} ${req.failure?.message}`);
          return req?.state === state;
        },
        { what: `${name} ${state}`, timeoutMs },
      ).catch(async (err: Error) => {
        const req = await h.core.store.requests.get(id);
        throw new Error(`${err.message} (now ${req?.state}${req?.failure ? `: ${req.failure.code} ${req.failure.message}` : ''})`);
      });
    },
    async close() {
      await adapter.stop().catch(() => undefined);
      await h.close();
      await double.close();
    },
  };
  return world;
}
