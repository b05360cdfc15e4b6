// The lease tests' shared set-up: one lease policy, a clock the test moves (no test waits
// real days), harnesses on the real Workflow whose lease scheduler the test can tick, and a
// VM taken to running. Each test file keeps its own cases; this is only where they start.
import { DAY_MS } from '../../src/domain/lease.js';
import type { ConfigInput } from '../../src/config/schema.js';
import type { SimCluster } from '../../src/nomad/sim/index.js';
import { Workflow } from '../../src/workflow/workflow.js';
import type { Leases } from '../../src/workflow/leases.js';
import { RecordingSurface, startHarness, type Harness } from './harness.js';

export const T0 = Date.parse('2027-01-10T09:00:00.000Z');
export const LEASE: Partial<ConfigInput> = { policy: { lease: { default: '30d', reminders: ['7d', '3d', '1d', 0], autoRenewals: 2, graceDays: 14 } } as ConfigInput['policy'] };
/** When a VM approved at T0 under LEASE expires. */
export const EXPIRY = T0 + 30 * DAY_MS;
export const iso = (ms: number): string => new Date(ms).toISOString();

export interface TestClock {
  now(): Date;
  set(ms: number): void;
}

/** A clock the test moves; everything in the workflow reads its time from here. */
export function testClock(start = T0): TestClock {
  let t = start;
  return { now: () => new Date(t), set: (ms: number) => void (t = ms) };
}

export interface LeasedOptions {
  clock: TestClock;
  config?: Partial<ConfigInput>;
  dir?: string;
  simCluster?: SimCluster;
  /** 0 turns the liveness check's timer off, so only the lease scheduler acts. */
  liveCheckMs?: number;
}

export interface Leased {
  h: Harness;
  surface: RecordingSurface;
  leases: Leases;
}

interface Closable {
  close(): Promise<void>;
}

/**
 * Harnesses opened by one test file, and what it `track`s (a shared sim, a temp folder);
 * `closeAll` in its afterEach closes them newest first, so a harness goes before its sim.
 */
export function leaseHarnesses(): { leased(opts: LeasedOptions): Promise<Leased>; track(item: Closable): void; closeAll(): Promise<void> } {
  const open: Closable[] = [];
  return {
    track(item) {
      open.push(item);
    },
    async leased(opts) {
      const h = await startHarness({
        config: opts.config ?? LEASE,
        workflow: { now: opts.clock.now, ...(opts.liveCheckMs !== undefined ? { liveCheckMs: opts.liveCheckMs } : {}) },
        ...(opts.dir ? { dir: opts.dir } : {}),
        ...(opts.simCluster ? { simCluster: opts.simCluster } : {}),
      });
      open.push(h);
      const surface = new RecordingSurface('slack');
      h.core.workflow.attachSurface(surface);
      const workflow = h.core.workflow;
      if (!(workflow instanceof Workflow)) throw new Error('the harness core should run the real Workflow');
      return { h, surface, leases: workflow.leases };
    },
    async closeAll() {
      for (const item of open.splice(0).reverse()) await item.close();
    },
  };
}

/** A member's request, approved by an admin, running. */
export async function runningVm(h: Harness, name = 'lease-vm'): Promise<string> {
  const submitted = await h.core.workflow.submitRequest(h.member(), h.input({ name }));
  if (!submitted.ok) throw new Error(JSON.stringify(submitted.problems));
  const approved = await h.core.workflow.approve(h.admin(), submitted.value.requestId);
  if (!approved.ok) throw new Error(JSON.stringify(approved.problems));
  await h.inState(submitted.value.requestId, 'running');
  return submitted.value.requestId;
}
