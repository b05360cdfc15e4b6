import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/load.js';
import type { VmRequest } from '../../../src/domain/request.js';
import { cardActions, memberFailureReason, ownerActions, progressItems, sshCommand, stateLabel, toCard, toSummary } from '../../../src/workflow/cards.js';

const config = parseConfig({ nomad: { adapter: 'http' } });

function request(over: Partial<VmRequest> = {}): VmRequest {
  return {
    id: 'k3x9q2m7bz',
    name: 'my-vm',
    distro: 'debian-12',
    size: 'small',
    login: 'alice',
    sshKeys: ['ssh-ed25519 AAAA alice'],
    reason: 'course work',
    requester: { platform: 'slack', userId: 'U1' },
    state: 'pending',
    mac: null,
    jobId: null,
    cluster: null,
    seedToken: null,
    evalId: null,
    allocId: null,
    logOffset: 0,
    progress: null,
    address: null,
    decision: null,
    failure: null,
    createdAt: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-01T00:00:00.000Z',
    approvedAt: null,
    stopReason: null,
    rebuilds: 0,
    hostKeys: null,
    lease: null,
    renewalRequestedAt: null,
    bootCause: null,
    ...over,
  };
}

describe('cards', () => {
  it('offers Approve and Deny (with a reason) while pending, and no progress yet', () => {
    const card = toCard(config, request(), 7);
    expect(card.actions.map((a) => [a.kind, a.needs])).toEqual([
      ['approve', undefined],
      ['deny', 'reason'],
    ]);
    expect(card.progress).toEqual([]);
    expect(card.stateLabel).toBe('Waiting for approval');
    expect(card.distroLabel).toBe('Debian 12');
    expect(card.version).toBe(7);
  });

  it('shows provisioning progress with the current step and details', () => {
    const items = progressItems(request({ state: 'provisioning', progress: 'submitted', mac: '52:54:84:ba:49:00', jobId: 'uservm-my-vm' }));
    expect(items.map((i) => i.status)).toEqual(['done', 'done', 'current', 'todo', 'todo']);
    expect(items[0]!.detail).toBe('52:54:84:ba:49:00');
    expect(items[1]!.detail).toBe('uservm-my-vm');
    expect(stateLabel({ state: 'provisioning', progress: 'booting' })).toBe('Booting');
  });

  it('marks the step that failed and offers Retry and Delete', () => {
    const req = request({ state: 'failed', progress: 'mac', failure: { code: 'nomad_unreachable', message: 'down' } });
    expect(progressItems(req).map((i) => i.status)).toEqual(['done', 'failed', 'todo', 'todo', 'todo']);
    expect(cardActions(req).map((a) => a.kind)).toEqual(['retry', 'delete']);
    expect(cardActions(req)[1]!.needs).toBe('confirmation');
    expect(toCard(config, req, 1).failure).toEqual({ code: 'nomad_unreachable', message: 'down' });
  });

  it('offers only Delete while live and nothing once deleting or ended', () => {
    expect(cardActions(request({ state: 'running' })).map((a) => a.kind)).toEqual(['delete']);
    expect(cardActions(request({ state: 'deleting' }))).toEqual([]);
    expect(cardActions(request({ state: 'denied' }))).toEqual([]);
  });

  it('offers Start and Delete on a stopped VM, but no Start when its lease stopped it (Renew starts it)', () => {
    const stopped = request({ state: 'stopped', stopReason: 'member' });
    expect(stateLabel(stopped)).toBe('Stopped');
    expect(cardActions(stopped).map((a) => [a.kind, a.style])).toEqual([['start', 'primary'], ['delete', 'danger']]);
    expect(ownerActions(stopped).map((a) => a.kind)).toEqual(['start', 'delete']);
    const lease = { expiresAt: '2026-03-01T00:00:00.000Z', remindersSent: [], renewals: 0, stoppedAt: '2026-03-01T00:00:00.000Z' };
    const leaseStopped = request({ state: 'stopped', stopReason: 'lease', lease });
    expect(cardActions(leaseStopped).map((a) => a.kind)).toEqual(['delete']);
    expect(ownerActions(leaseStopped).map((a) => a.kind)).toEqual(['renew', 'delete']);
  });

  it('builds the ssh command, IPv4 first', () => {
    expect(sshCommand('alice', { ipv4: '10.10.0.42', ipv6: ['2001:db8::1'] })).toBe('ssh alice@10.10.0.42');
    expect(sshCommand('alice', { ipv6: ['2001:db8::1'] })).toBe('ssh alice@2001:db8::1');
    expect(sshCommand('alice', { ipv6: [] })).toBeUndefined();
    const running = request({ state: 'running', progress: 'address', address: { ipv4: '10.10.0.42', ipv6: [], seenAt: 'x' } });
    expect(toSummary(config, running)).toMatchObject({ ipv4: '10.10.0.42', ssh: 'ssh alice@10.10.0.42', stateLabel: 'Running' });
    expect(toCard(config, running, 1).address).toEqual({ ipv4: '10.10.0.42', ssh: 'ssh alice@10.10.0.42' });
  });
});

describe('memberFailureReason', () => {
  const codes = ['pool_exhausted', 'mac_in_use', 'nomad_unreachable', 'nomad_rejected', 'nomad_error', 'template_error', 'publish_failed', 'config_invalid', 'name_taken', 'task_failed', 'ip_timeout', 'internal', 'something_new'];
  it('says what happened and that the admins were told, with no admin instructions', () => {
    const reasons = codes.map(memberFailureReason);
    for (const reason of reasons) {
      expect(reason).toMatch(/\. The admins have been told/);
      expect(reason).not.toMatch(/retry|console|check|nomad|token|template|config/i);
    }
    // Each known code has its own cause; unknown codes get the generic one (as 'internal').
    expect(new Set(reasons.slice(0, -2)).size).toBe(codes.length - 2);
    expect(memberFailureReason('something_new')).toBe(memberFailureReason('internal'));
    expect(memberFailureReason('pool_exhausted')).toMatch(/^there is no free network address/);
  });
});
