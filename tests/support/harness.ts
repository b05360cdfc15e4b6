// The shared test harness: a whole vmbot core against the simulated Nomad cluster, with
// real parts wherever they run here — a SQLite file in a temp dir, the sim over HTTP, the
// real http Nomad adapter, the built-in publisher and its NoCloud server — and fast
// timings (boot ~50 ms, poll 20 ms). No chat platform: attach one (or a RecordingSurface)
// with `h.core.workflow.attachSurface(...)`.
//
//   const h = await startHarness();
//   const r = await h.core.workflow.submitRequest(h.member(), h.input({ name: 'vm1' }));
//   await h.core.workflow.approve(h.admin(), id);
//   const vm = await h.inState(id, 'running');
//   await h.close();
//
// Admins configured by default: Slack users UADMIN1/UADMIN2 (group S0ADMINS), Discord role
// `role-admin` (and user 300000000000000001), web user `webadmin`. Callers override any
// config key with `config` (objects are merged key by key, arrays replaced).
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { parseConfig } from '../../src/config/load.js';
import type { Config, ConfigInput } from '../../src/config/schema.js';
import { silentLogger, type Logger } from '../../src/log.js';
import type { Core } from '../../src/app.js';
import { startComponents, type Started } from '../../src/components.js';
import { coreComponent } from '../../src/process.js';
import { nocloudServerComponent } from '../../src/cloudinit/index.js';
import type { Actor, MemberRef, Platform, RequestInput, VmRequest } from '../../src/domain/request.js';
import type { RequestState } from '../../src/domain/states.js';
import type { ChatSurface, MemberNotice, RequestCardView } from '../../src/workflow/views.js';
import type { WorkflowDeps, WorkflowHooks } from '../../src/workflow/index.js';
import { startSimCluster, type SimCluster, type SimOptions } from '../../src/nomad/sim/index.js';
import { createHttpNomad } from '../../src/nomad/http/adapter.js';
import { createBuiltinPublisher } from '../../src/cloudinit/builtin.js';
import { makeTempDir } from './tmp.js';
import { waitFor } from './wait.js';

export const TEMPLATES_DIR = fileURLToPath(new URL('../../templates', import.meta.url));

/** A real ed25519 public key (validation parses keys; any valid one will do). */
export const TEST_SSH_KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAVetM1RAU3e4XdWWTX8NaglZCn+DtXS1g8BszVPJ+rt alice@laptop';

export interface HarnessOptions {
  /** Merged over the harness defaults (objects key by key, arrays replaced). */
  config?: Partial<ConfigInput>;
  /** Passed to startSimCluster (defaults: bootDelayMs 50). */
  sim?: SimOptions;
  /** Card redraw window (default 20 ms, so tests see cards quickly). */
  coalesceMs?: number;
  /** Crash points and other workflow hooks. */
  hooks?: WorkflowHooks;
  /** Other workflow tuning (e.g. liveCheckMs). */
  workflow?: Pick<WorkflowDeps, 'liveCheckMs' | 'maxConcurrentProvisions' | 'maxConcurrentReads' | 'deleteTimeoutMs' | 'now'>;
  /** Reuse a directory (a restarted process: same SQLite file, same NoCloud files). */
  dir?: string;
  /** Reuse a running sim (a restarted vmbot talks to the same cluster). */
  simCluster?: SimCluster;
  logger?: Logger;
  /** Per-request timeout of the http Nomad adapter (default 10 s, generous for loaded CI machines; a hang test wants less). */
  nomadTimeoutMs?: number;
  /**
   * Let the core build the clusters `config.nomad.clusters` lists (as production does)
   * instead of injecting one port to `sim` (tests with several simulated clusters).
   */
  configuredClusters?: boolean;
}

export interface Harness {
  core: Core;
  sim: SimCluster;
  nocloudUrl: string;
  dir: string;
  config: Config;
  /** Polls fn (every 10 ms) until it returns a truthy value; throws naming `what` at the deadline (default 10 s). */
  waitFor<T>(fn: () => Promise<T | undefined | false | null> | T | undefined | false | null, opts?: { timeoutMs?: number; what?: string }): Promise<T>;
  /** Waits until the request is in `state` (default deadline 10 s) and returns it. */
  inState(id: string, state: RequestState, timeoutMs?: number): Promise<VmRequest>;
  /** An actor on a platform (default: Slack member U1). */
  member(userId?: string, platform?: Platform): Actor;
  /** A configured admin (Slack UADMIN1 unless told otherwise). */
  admin(userId?: string, platform?: Platform): Actor;
  /** A valid request form, with overrides. */
  input(over?: Partial<RequestInput>): RequestInput;
  /** Closes the core, the NoCloud server and (if the harness started it) the sim; removes the temp dir. */
  close(): Promise<void>;
}

type Plain = Record<string, unknown>;
const isPlain = (v: unknown): v is Plain => typeof v === 'object' && v !== null && !Array.isArray(v);

export function mergeConfig(base: Plain, over: Plain): Plain {
  const out: Plain = { ...base };
  for (const [key, value] of Object.entries(over)) {
    out[key] = isPlain(value) && isPlain(base[key]) ? mergeConfig(base[key], value) : value;
  }
  return out;
}

/**
 * The harness's configuration input (before parsing): a SQLite file and NoCloud folder in
 * `dir`, the sim's URL, fast timings, admins on every platform; `config` merged over it.
 * Exported so a child process (the crash test) builds exactly the same configuration.
 */
export function harnessConfigInput(opts: { dir: string; simUrl: string; nocloudUrl: string; config?: Partial<ConfigInput> | undefined }): Plain {
  const defaults: Plain = {
    database: { path: join(opts.dir, 'vmbot.sqlite') },
    templates: { dir: TEMPLATES_DIR },
    macPool: { ranges: ['52:54:84:ba:49:00-52:54:84:ba:49:ff'], reserved: [{ mac: '52:54:84:ba:49:01', note: 'distro-vm' }] },
    nomad: { adapter: 'http', datacenters: ['aperture'], jobPrefix: 'uservm-', ipTimeout: 10_000, pollInterval: 20, http: { address: opts.simUrl } },
    cloudInit: { publish: 'builtin', builtin: { publicUrl: opts.nocloudUrl, dir: join(opts.dir, 'nocloud') } },
    slack: { adminChannel: 'CADMINS', admins: ['UADMIN1', 'UADMIN2'], adminGroup: 'S0ADMINS' },
    discord: {
      applicationId: '100000000000000001',
      guildId: '100000000000000002',
      adminChannel: '100000000000000003',
      adminRoles: ['role-admin'],
      admins: ['300000000000000001'],
    },
    web: { admins: ['webadmin'] },
  };
  return mergeConfig(defaults, (opts.config ?? {}) as Plain);
}

export { waitFor };

export async function startHarness(opts: HarnessOptions = {}): Promise<Harness> {
  const temp = opts.dir ? { dir: opts.dir, cleanup: async () => undefined } : await makeTempDir('harness');
  const dir = temp.dir;
  const logger = opts.logger ?? silentLogger;
  const ownSim = !opts.simCluster;
  const sim = opts.simCluster ?? (await startSimCluster({ bootDelayMs: 50, ...opts.sim }));
  const nocloudDir = join(dir, 'nocloud');
  // The same builder as production and local mode (src/process.ts): NoCloud server, then the core.
  const nocloud = nocloudServerComponent({ dir: nocloudDir, host: '127.0.0.1', port: 0, logger });
  let config: Config | undefined;
  const coreOf = coreComponent(() => {
    config = parseConfig(harnessConfigInput({ dir, simUrl: sim.url, nocloudUrl: nocloud.url, config: opts.config }), 'test harness');
    return {
      config,
      secrets: {},
      logger,
      ...(opts.configuredClusters ? {} : { nomad: createHttpNomad({ address: sim.url, timeoutMs: opts.nomadTimeoutMs ?? 10_000, retries: 0 }) }),
      publisher: createBuiltinPublisher({ dir: nocloudDir, publicUrl: config.cloudInit.builtin.publicUrl }),
      ownsPorts: true,
      workflow: { coalesceMs: opts.coalesceMs ?? 20, deleteTimeoutMs: 5_000, ...opts.workflow, ...(opts.hooks ? { hooks: opts.hooks } : {}) },
    };
  });
  let started: Started;
  try {
    started = await startComponents([nocloud, coreOf], logger);
  } catch (err) {
    if (ownSim) await sim.close();
    await temp.cleanup();
    throw err;
  }
  const core = coreOf.core();
  let closing: Promise<void> | undefined;
  return {
    core,
    sim,
    nocloudUrl: nocloud.url,
    dir,
    config: config!,
    waitFor,
    inState: (id, state, timeoutMs = 10_000) =>
      waitFor(
        async () => {
          const req = await core.store.requests.get(id);
          return req?.state === state ? req : undefined;
        },
        { what: `request ${id} to be ${state}`, timeoutMs },
      ),
    member: (userId = 'U1', platform = 'slack') => ({ platform, userId, groups: [] }),
    admin: (userId, platform = 'slack') => {
      if (platform === 'discord') return { platform, userId: userId ?? '400000000000000001', groups: ['role-admin'] };
      if (platform === 'web') return { platform, userId: userId ?? 'webadmin', groups: [] };
      return { platform, userId: userId ?? 'UADMIN1', groups: [] };
    },
    input: (over = {}) => ({ name: 'my-vm', distro: 'debian-12', size: 'small', login: 'alice', sshKeys: TEST_SSH_KEY, reason: 'course work', ...over }),
    close() {
      closing ??= (async () => {
        await started.stop();
        if (ownSim) await sim.close();
        await temp.cleanup();
      })();
      return closing;
    },
  };
}

/** A ChatSurface that records what the workflow draws and sends (no platform behind it). */
export class RecordingSurface implements ChatSurface {
  readonly draws: Array<{ card: RequestCardView; ref: string | undefined }> = [];
  readonly notices: Array<{ member: MemberRef; notice: MemberNotice }> = [];
  /** Set to make drawCard/notifyMember throw (surface errors must never fail a request). */
  failing = false;
  private posted = 0;

  constructor(readonly platform: Platform = 'slack') {}

  async drawCard(card: RequestCardView, ref: string | undefined): Promise<string> {
    if (this.failing) throw new Error('surface down');
    this.draws.push({ card, ref });
    return ref ?? `card-${++this.posted}`;
  }

  async notifyMember(member: MemberRef, notice: MemberNotice): Promise<void> {
    if (this.failing) throw new Error('surface down');
    this.notices.push({ member, notice });
  }

  drawsFor(requestId: string): RequestCardView[] {
    return this.draws.filter((d) => d.card.requestId === requestId).map((d) => d.card);
  }

  noticesFor(requestId: string): MemberNotice[] {
    return this.notices.filter((n) => n.notice.requestId === requestId).map((n) => n.notice);
  }
}
