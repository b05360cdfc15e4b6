import { describe, expect, it } from 'vitest';
import { createMetrics, type MetricsStore } from '../../src/metrics.js';
import type { RequestCardView } from '../../src/workflow/views.js';
import type { VmRequest } from '../../src/domain/request.js';
import type { RequestState } from '../../src/domain/states.js';

function request(id: string, state: RequestState, extra: Partial<VmRequest> = {}): VmRequest {
  const now = '2026-01-01T00:00:00.000Z';
  return {
    id, name: id, distro: 'debian-12', size: 'small', login: 'alice', sshKeys: [], reason: '', requester: { platform: 'web', userId: 'm' }, state,
    mac: null, jobId: null, cluster: null, seedToken: null, evalId: null, allocId: null, logOffset: 0, progress: null, address: null, decision: null, failure: null,
    createdAt: now, updatedAt: now, approvedAt: null, stopReason: null, rebuilds: 0, hostKeys: null, lease: null, renewalRequestedAt: null, bootCause: null, ...extra,
  };
}

function card(r: VmRequest, version: number, extra: Partial<RequestCardView> = {}): RequestCardView {
  return {
    requestId: r.id, name: r.name, requester: r.requester, distroLabel: 'Debian 12', sizeLabel: 'small', login: r.login, reason: '', state: r.state,
    stateLabel: r.state, progress: [], actions: [], version, ...extra,
  };
}

function setup(requests: VmRequest[]) {
  const listeners = new Set<(c: RequestCardView) => void>();
  const store: MetricsStore = {
    requests: { list: async () => requests, get: async (id) => requests.find((r) => r.id === id) },
    macs: { usage: async () => ({ total: 256, used: 3, reserved: 4, external: 1, free: 248, holders: [] }) },
  };
  const metrics = createMetrics({ store, workflow: { onCard: (l) => (listeners.add(l), () => listeners.delete(l)) }, defaultMetrics: false });
  const emit = (c: RequestCardView) => listeners.forEach((l) => l(c));
  return { metrics, emit, listeners };
}

/** Reads one sample's value from the text format. */
function sample(text: string, name: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(name + ' '));
  return line === undefined ? undefined : Number(line.slice(name.length + 1));
}

describe('metrics', () => {
  it('counts requests by state from the store, every state present', async () => {
    const { metrics } = setup([request('a', 'pending'), request('b', 'running'), request('c', 'running')]);
    const text = await metrics.render();
    expect(sample(text, 'vmbot_requests{state="running"}')).toBe(2);
    expect(sample(text, 'vmbot_requests{state="pending"}')).toBe(1);
    expect(sample(text, 'vmbot_requests{state="failed"}')).toBe(0);
  });

  it('reports the MAC pool as free and used (reserved and external count as used)', async () => {
    const { metrics } = setup([]);
    const text = await metrics.render();
    expect(sample(text, 'vmbot_mac_pool_free')).toBe(248);
    expect(sample(text, 'vmbot_mac_pool_used')).toBe(8);
  });

  it('observes approval-to-address once, when the address first appears', async () => {
    const r = request('a', 'provisioning', { approvedAt: '2026-01-01T00:00:00.000Z' });
    const { metrics, emit } = setup([r]);
    emit(card(r, 1));
    r.state = 'running';
    r.address = { ipv4: '10.10.0.7', seenAt: '2026-01-01T00:00:42.000Z' };
    const up = card(r, 2, { address: { ipv4: '10.10.0.7', ssh: 'ssh alice@10.10.0.7' } });
    emit(up);
    emit({ ...up, version: 3 });
    await expect.poll(async () => sample(await metrics.render(), 'vmbot_approval_to_address_seconds_count')).toBe(1);
    const text = await metrics.render();
    expect(sample(text, 'vmbot_approval_to_address_seconds_sum')).toBe(42);
    expect(sample(text, 'vmbot_approval_to_address_seconds_bucket{le="45"}')).toBe(1);
    expect(sample(text, 'vmbot_approval_to_address_seconds_bucket{le="30"}')).toBe(0);
  });

  it('does not observe a VM first seen already addressed (a redraw after restart)', async () => {
    const r = request('a', 'running', { approvedAt: '2026-01-01T00:00:00.000Z', address: { ipv4: '10.10.0.7', seenAt: '2026-01-01T00:00:42.000Z' } });
    const { metrics, emit } = setup([r]);
    emit(card(r, 5, { address: { ipv4: '10.10.0.7', ssh: 'ssh alice@10.10.0.7' } }));
    expect(sample(await metrics.render(), 'vmbot_approval_to_address_seconds_count')).toBe(0);
  });

  it('counts each entry into failed once, by code, plus recorded errors', async () => {
    const r = request('a', 'failed');
    const { metrics, emit } = setup([r]);
    const failed = card(r, 1, { state: 'failed', failure: { code: 'ip_timeout', message: 'no address' } });
    emit(failed);
    emit({ ...failed, version: 2 });
    emit(card(r, 3, { state: 'provisioning' }));
    emit({ ...failed, version: 4 });
    metrics.recordError('web_internal');
    const text = await metrics.render();
    expect(sample(text, 'vmbot_errors_total{code="ip_timeout"}')).toBe(2);
    expect(sample(text, 'vmbot_errors_total{code="web_internal"}')).toBe(1);
  });

  it('uses a registry of its own and stops listening on close', async () => {
    const { metrics, listeners } = setup([]);
    const { register } = await import('prom-client');
    expect(await register.getSingleMetric('vmbot_requests')).toBeUndefined();
    expect(listeners.size).toBe(1);
    metrics.close();
    expect(listeners.size).toBe(0);
  });
});
