// Prometheus metrics (prom-client) on a registry of our own, so nothing else in the process
// (a library registering on the global registry) leaks into vmbot's /metrics.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { REQUEST_STATES } from './domain/states.js';
import type { MacStore, RequestStore } from './store/types.js';
import type { VmWorkflow } from './workflow/api.js';
import type { RequestCardView } from './workflow/views.js';

/** What metrics read from the store: counts only, never a write. */
export interface MetricsStore {
  requests: Pick<RequestStore, 'list' | 'get'>;
  macs: Pick<MacStore, 'usage'>;
}

export interface Metrics {
  readonly registry: Registry;
  readonly contentType: string;
  /** The text exposition format, read fresh from the store. */
  render(): Promise<string>;
  /** Counts an error by its code (request failures are counted from the cards already). */
  recordError(code: string): void;
  /** Stops listening to the workflow. */
  close(): void;
}

/** Approval to address: seconds to minutes on a real cluster (image download + boot). */
const APPROVAL_BUCKETS = [5, 10, 20, 30, 45, 60, 90, 120, 180, 300, 600, 900, 1800];

export function createMetrics(opts: { store: MetricsStore; workflow: Pick<VmWorkflow, 'onCard'>; defaultMetrics?: boolean }): Metrics {
  const { store, workflow } = opts;
  const registry = new Registry();
  if (opts.defaultMetrics ?? true) collectDefaultMetrics({ register: registry, prefix: 'vmbot_' });

  new Gauge({
    name: 'vmbot_requests',
    help: 'Requests by state, as stored',
    labelNames: ['state'],
    registers: [registry],
    async collect() {
      const counts = new Map<string, number>(REQUEST_STATES.map((s) => [s, 0]));
      for (const r of await store.requests.list()) counts.set(r.state, (counts.get(r.state) ?? 0) + 1);
      for (const [state, n] of counts) this.set({ state }, n);
    },
  });
  // One usage() call serves both pool gauges: the first collect caches it for the second.
  let usage: ReturnType<MacStore['usage']> | undefined;
  const poolUsage = () => (usage ??= store.macs.usage().finally(() => queueMicrotask(() => (usage = undefined))));
  new Gauge({
    name: 'vmbot_mac_pool_free',
    help: 'MAC addresses of the pool that are free',
    registers: [registry],
    async collect() {
      this.set((await poolUsage()).free);
    },
  });
  new Gauge({
    name: 'vmbot_mac_pool_used',
    help: 'MAC addresses of the pool held by requests, reservations or hand-made jobs',
    registers: [registry],
    async collect() {
      const u = await poolUsage();
      this.set(u.total - u.free);
    },
  });
  const approvalToAddress = new Histogram({
    name: 'vmbot_approval_to_address_seconds',
    help: 'Time from approval until the guest reported its address',
    buckets: APPROVAL_BUCKETS,
    registers: [registry],
  });
  const errors = new Counter({ name: 'vmbot_errors_total', help: 'Errors by code (failed requests and internal errors)', labelNames: ['code'], registers: [registry] });

  // Cards tell us when an address appears and when a request fails. A request first seen
  // with an address already (a redraw after restart) is not a new observation.
  const seen = new Map<string, { addressed: boolean; failed: boolean }>();
  const onCard = async (card: RequestCardView) => {
    const prev = seen.get(card.requestId);
    const now = { addressed: card.address !== undefined, failed: card.state === 'failed' };
    seen.set(card.requestId, now);
    if (now.failed && !prev?.failed) errors.inc({ code: card.failure?.code ?? 'unknown' });
    if (now.addressed && prev && !prev.addressed) {
      const request = await store.requests.get(card.requestId);
      const approved = request?.approvedAt ? Date.parse(request.approvedAt) : NaN;
      const addressed = request?.address ? Date.parse(request.address.seenAt) : NaN;
      if (Number.isFinite(approved) && Number.isFinite(addressed) && addressed >= approved) approvalToAddress.observe((addressed - approved) / 1000);
    }
  };
  const unsubscribe = workflow.onCard((card) => {
    onCard(card).catch(() => errors.inc({ code: 'metrics' }));
  });

  return {
    registry,
    contentType: registry.contentType,
    render: () => registry.metrics(),
    recordError: (code) => errors.inc({ code }),
    close: unsubscribe,
  };
}
