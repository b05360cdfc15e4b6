// Leases (issue 12) on the simulated cluster, with an injected clock: no test waits real
// days. Approval sets the expiry; the scheduler reminds at 7d, 3d, 1d (each once), stops the
// VM at expiry (job stopped, not purged; MAC kept) and deletes it graceDays later (MAC
// released); a restart in between picks up from the store. Renew: the owner only, twice at
// once, then an admin decides; an admin sets any VM's expiry.
import { afterEach, describe, expect, it } from 'vitest';
import { DAY_MS } from '../../../src/domain/lease.js';
import { startSimCluster } from '../../../src/nomad/sim/index.js';
import type { ConfigInput } from '../../../src/config/schema.js';
import type { MemberNotice } from '../../../src/workflow/views.js';
import type { Harness, RecordingSurface } from '../../support/harness.js';
import { EXPIRY, T0, iso, leaseHarnesses, runningVm, testClock } from '../../support/leases.js';
import { makeTempDir } from '../../support/tmp.js';

const harnesses = leaseHarnesses();
const leased = harnesses.leased;
afterEach(() => harnesses.closeAll());

const LEASE_KINDS = new Set(['lease_reminder', 'lease_stopped', 'lease_deleting', 'renewed', 'renewal_requested', 'renewal_denied', 'expiry_set']);
const leaseNotices = (surface: RecordingSurface, id: string): MemberNotice[] => surface.noticesFor(id).filter((n) => LEASE_KINDS.has(n.kind));
const auditActions = async (h: Harness, id: string): Promise<string[]> => (await h.core.store.audit.list({ requestId: id, limit: 500 })).map((a) => a.action);

describe('lease at approval', () => {
  it('approval sets the expiry (default from approval), the approved notice and the card say it, /vm list and /vm status show it', async () => {
    const clock = testClock();
    const { h, surface } = await leased({ clock });
    const id = await runningVm(h);
    const req = (await h.core.store.requests.get(id))!;
    expect(req.lease).toEqual({ expiresAt: iso(EXPIRY), remindersSent: [], renewals: 0 });
    expect(surface.noticesFor(id).find((n) => n.kind === 'approved')).toMatchObject({ expiresAt: iso(EXPIRY) });
    expect((await h.core.workflow.card(id))?.lease).toBe('expires 2027-02-09 (in 30 days), 0 of 2 automatic renewals used');
    const list = await h.core.workflow.list(h.member());
    expect(list.ok && list.value[0]?.lease).toBe('expires 2027-02-09 (in 30 days), 0 of 2 automatic renewals used');
    const status = await h.core.workflow.status(h.member(), 'lease-vm');
    expect(status.ok && status.value.lease).toMatch(/^expires 2027-02-09/);
    // The owner's own view offers Renew.
    expect((await h.core.workflow.card(id))?.ownerActions?.map((a) => a.kind)).toContain('renew');
  });

  it('leases off (no policy.lease): no lease record, no lease line, no Renew, and nothing expires', async () => {
    const clock = testClock();
    const { h, surface, leases } = await leased({ clock, config: {} });
    const id = await runningVm(h);
    expect((await h.core.store.requests.get(id))?.lease).toBeNull();
    expect((await h.core.workflow.card(id))?.lease).toBeUndefined();
    expect((await h.core.workflow.card(id))?.ownerActions?.map((a) => a.kind)).not.toContain('renew');
    clock.set(T0 + 400 * DAY_MS);
    await leases.tick();
    expect((await h.core.store.requests.get(id))?.state).toBe('running');
    expect(leaseNotices(surface, id)).toEqual([]);
    const renew = await h.core.workflow.renew(h.member(), 'lease-vm');
    expect(renew.ok).toBe(false);
  });
});

describe('the lease timeline', () => {
  it('reminds at 7d, 3d and 1d (each once), stops at expiry (job kept, MAC kept), deletes graceDays later (MAC released)', async () => {
    const clock = testClock();
    const { h, surface, leases } = await leased({ clock });
    const id = await runningVm(h);
    const running = (await h.core.store.requests.get(id))!;
    const mac = running.mac!;

    clock.set(EXPIRY - 8 * DAY_MS);
    await leases.tick();
    expect(leaseNotices(surface, id)).toEqual([]);

    for (const [offset, count] of [[7, 1], [3, 2], [1, 3]] as const) {
      clock.set(EXPIRY - offset * DAY_MS);
      await leases.tick();
      await leases.tick();
      const notices = leaseNotices(surface, id);
      expect(notices, `after the ${offset}d reminder`).toHaveLength(count);
      const last = notices.at(-1)!;
      expect(last).toMatchObject({ kind: 'lease_reminder', name: 'lease-vm', expiresAt: iso(EXPIRY) });
      expect(last.actions?.map((a) => [a.kind, a.label])).toEqual([['renew', 'Renew'], ['delete', 'Delete now']]);
    }
    expect((await h.core.store.requests.get(id))?.lease?.remindersSent).toEqual([7 * DAY_MS, 3 * DAY_MS, DAY_MS]);

    // Expiry: stopped for the lease; the job is stopped but still registered; the MAC stays.
    clock.set(EXPIRY);
    await leases.tick();
    const stopped = await h.inState(id, 'stopped');
    expect(stopped.stopReason).toBe('lease');
    expect(stopped.lease?.stoppedAt).toBe(iso(EXPIRY));
    expect(stopped.mac).toBe(mac);
    const job = h.sim.control.jobs().find((j) => j.id === 'uservm-lease-vm');
    expect(job).toMatchObject({ stop: true });
    expect((await h.core.store.macs.usage()).holders.find((x) => x.mac === mac)?.holder).toMatchObject({ kind: 'request', requestId: id });
    const stopNotice = leaseNotices(surface, id).at(-1)!;
    expect(stopNotice).toMatchObject({ kind: 'lease_stopped', deleteAt: iso(EXPIRY + 14 * DAY_MS) });
    expect(stopNotice.actions?.map((a) => a.kind)).toEqual(['renew', 'delete']);
    expect((await h.core.workflow.card(id))?.lease).toBe('stopped: lease expired; deleted 2027-02-23 unless renewed');

    // Nothing more until the grace period is over.
    clock.set(EXPIRY + 14 * DAY_MS - 1);
    await leases.tick();
    expect(leaseNotices(surface, id)).toHaveLength(4);
    expect((await h.core.store.requests.get(id))?.state).toBe('stopped');

    clock.set(EXPIRY + 14 * DAY_MS);
    await leases.tick();
    await h.inState(id, 'deleted');
    expect(h.sim.control.jobs().find((j) => j.id === 'uservm-lease-vm')).toBeUndefined();
    expect((await h.core.store.macs.usage()).holders.find((x) => x.mac === mac)).toBeUndefined();
    expect(surface.noticesFor(id).slice(-2).map((n) => n.kind)).toEqual(['lease_deleting', 'deleted']);

    const actions = await auditActions(h, id);
    expect(actions.filter((a) => a === 'lease_reminder')).toHaveLength(3);
    expect(actions.filter((a) => a === 'lease_expired')).toHaveLength(1);
    expect(actions.filter((a) => a === 'lease_delete')).toHaveLength(1);
    await leases.tick();
    expect(surface.noticesFor(id).filter((n) => n.kind === 'lease_deleting')).toHaveLength(1);
  });

  it('a restart between a reminder and the expiry: the new core picks up from the store, sends the next reminder and stops at expiry, nothing twice', async () => {
    const sim = await startSimCluster({ bootDelayMs: 50 });
    harnesses.track(sim);
    const temp = await makeTempDir('leases-restart');
    harnesses.track({ close: temp.cleanup });
    const clock = testClock();
    const first = await leased({ clock, dir: temp.dir, simCluster: sim });
    const id = await runningVm(first.h);
    clock.set(EXPIRY - 7 * DAY_MS);
    await first.leases.tick();
    expect(leaseNotices(first.surface, id).map((n) => n.kind)).toEqual(['lease_reminder']);
    await first.h.close();

    // Down across the 3d reminder: the new core's resume() sets its timer from the store and
    // the timer (due now) sends it, without anyone calling tick().
    clock.set(EXPIRY - 2 * DAY_MS);
    const second = await leased({ clock, dir: temp.dir, simCluster: sim });
    await second.h.core.workflow.resume();
    await second.h.waitFor(async () => (await auditActions(second.h, id)).filter((a) => a === 'lease_reminder').length === 2, { what: 'the 3d reminder after the restart' });
    expect((await second.h.core.store.requests.get(id))?.lease?.remindersSent).toEqual([7 * DAY_MS, 3 * DAY_MS]);

    clock.set(EXPIRY - DAY_MS);
    await second.leases.tick();
    clock.set(EXPIRY);
    await second.leases.tick();
    await second.leases.tick();
    const stopped = await second.h.inState(id, 'stopped');
    expect(stopped.lease?.remindersSent).toEqual([7 * DAY_MS, 3 * DAY_MS, DAY_MS]);
    const actions = await auditActions(second.h, id);
    expect(actions.filter((a) => a === 'lease_reminder')).toHaveLength(3);
    expect(actions.filter((a) => a === 'lease_expired')).toHaveLength(1);
    expect(leaseNotices(second.surface, id).map((n) => n.kind).filter((k) => k === 'lease_stopped')).toEqual(['lease_stopped']);
  });
});

describe('the lease timeline when Nomad is down', () => {
  it('the expiry stop waits for the cluster: nothing is recorded or told until the stop is done, then once', async () => {
    const clock = testClock();
    const { h, surface, leases } = await leased({ clock });
    const id = await runningVm(h);
    clock.set(EXPIRY + DAY_MS);
    h.sim.control.failRequests('always');
    await leases.tick();
    const still = (await h.core.store.requests.get(id))!;
    expect(still.state).toBe('running');
    expect(still.lease?.stoppedAt).toBeUndefined();
    expect(leaseNotices(surface, id)).toEqual([]);
    expect(await auditActions(h, id)).toContain('stop_failed');

    h.sim.control.failRequests('off');
    clock.set(EXPIRY + DAY_MS + 3_600_000);
    await leases.tick();
    await leases.tick();
    const stopped = await h.inState(id, 'stopped');
    // The grace period runs from the actual stop, not from the expiry or the failed try.
    expect(stopped.lease?.stoppedAt).toBe(iso(EXPIRY + DAY_MS + 3_600_000));
    expect(leaseNotices(surface, id).map((n) => n.kind)).toEqual(['lease_stopped']);
  });
});

describe('Renew', () => {
  it('the first two renewals are immediate; the third goes to the admins (card buttons; a non-admin refused; approve extends)', async () => {
    const clock = testClock();
    const { h, surface } = await leased({ clock });
    const id = await runningVm(h);
    clock.set(EXPIRY - 2 * DAY_MS);

    const first = await h.core.workflow.renew(h.member(), 'lease-vm');
    expect(first.ok).toBe(true);
    expect((await h.core.store.requests.get(id))?.lease).toMatchObject({ expiresAt: iso(EXPIRY + 30 * DAY_MS), renewals: 1, remindersSent: [] });
    const second = await h.core.workflow.act(h.member(), { kind: 'renew', requestId: id });
    expect(second.ok).toBe(true);
    expect((await h.core.store.requests.get(id))?.lease).toMatchObject({ expiresAt: iso(EXPIRY + 60 * DAY_MS), renewals: 2 });
    expect(leaseNotices(surface, id).map((n) => n.kind)).toEqual(['renewed', 'renewed']);

    // The third: the expiry stays, the admins' card asks.
    const third = await h.core.workflow.act(h.member(), { kind: 'renew', requestId: id });
    expect(third.ok).toBe(true);
    const asked = (await h.core.store.requests.get(id))!;
    expect(asked.lease).toMatchObject({ expiresAt: iso(EXPIRY + 60 * DAY_MS), renewals: 2 });
    expect(asked.renewalRequestedAt).toBe(iso(EXPIRY - 2 * DAY_MS));
    expect(leaseNotices(surface, id).at(-1)).toMatchObject({ kind: 'renewal_requested', expiresAt: iso(EXPIRY + 60 * DAY_MS) });
    const card = await h.waitFor(() => surface.drawsFor(id).find((c) => c.renewalRequestedAt !== undefined), { what: 'the card showing the renewal ask' });
    expect(card.actions.slice(0, 2).map((a) => [a.kind, a.label])).toEqual([['approve_renewal', 'Approve renewal'], ['deny_renewal', 'Deny renewal']]);
    expect(card.ownerActions?.map((a) => a.kind)).not.toContain('renew');
    // Asking again while the admins decide is refused.
    expect((await h.core.workflow.renew(h.member(), 'lease-vm')).ok).toBe(false);

    // A member who is not an admin cannot decide; the owner cannot either.
    const byOther = await h.core.workflow.act(h.member('U2'), { kind: 'approve_renewal', requestId: id });
    expect(byOther.ok || byOther.problems[0]?.code).toBe('forbidden');
    const byOwner = await h.core.workflow.act(h.member(), { kind: 'approve_renewal', requestId: id });
    expect(byOwner.ok || byOwner.problems[0]?.code).toBe('forbidden');
    const refusals = (await h.core.store.audit.list({ requestId: id })).filter((a) => a.action === 'approve_renewal_refused');
    expect(refusals.map((r) => r.actor.userId).sort()).toEqual(['U1', 'U2']);
    expect((await h.core.store.requests.get(id))?.lease?.renewals).toBe(2);

    const approved = await h.core.workflow.act(h.admin(), { kind: 'approve_renewal', requestId: id });
    expect(approved.ok).toBe(true);
    const after = (await h.core.store.requests.get(id))!;
    expect(after.lease).toMatchObject({ expiresAt: iso(EXPIRY + 90 * DAY_MS), renewals: 3 });
    expect(after.renewalRequestedAt).toBeNull();
    expect(leaseNotices(surface, id).at(-1)).toMatchObject({ kind: 'renewed', by: { userId: 'UADMIN1' }, expiresAt: iso(EXPIRY + 90 * DAY_MS) });
    // A second press on the old card finds nothing to decide.
    const again = await h.core.workflow.act(h.admin('UADMIN2'), { kind: 'approve_renewal', requestId: id });
    expect(again.ok || again.problems[0]?.code).toBe('wrong_state');
    expect((await h.core.workflow.card(id))?.actions.map((a) => a.kind)).not.toContain('approve_renewal');

    // The fourth ask, denied: the expiry stays and the member is told.
    expect((await h.core.workflow.renew(h.member(), 'lease-vm')).ok).toBe(true);
    const denied = await h.core.workflow.act(h.admin(), { kind: 'deny_renewal', requestId: id });
    expect(denied.ok).toBe(true);
    expect((await h.core.store.requests.get(id))).toMatchObject({ renewalRequestedAt: null, lease: { expiresAt: iso(EXPIRY + 90 * DAY_MS), renewals: 3 } });
    expect(leaseNotices(surface, id).at(-1)).toMatchObject({ kind: 'renewal_denied', by: { userId: 'UADMIN1' } });
    const actions = await auditActions(h, id);
    expect(actions.filter((a) => a === 'renew')).toHaveLength(2);
    expect(actions.filter((a) => a === 'renew_requested')).toHaveLength(2);
    expect(actions).toContain('approve_renewal');
    expect(actions).toContain('deny_renewal');
  });

  it('an admin may not approve the renewal of their own VM unless policy.allowSelfApproval', async () => {
    const clock = testClock();
    const { h } = await leased({ clock, config: { policy: { lease: { default: '30d', autoRenewals: 0 } } as ConfigInput['policy'] } });
    const submitted = await h.core.workflow.submitRequest(h.admin('UADMIN2'), h.input({ name: 'admin-vm' }));
    if (!submitted.ok) throw new Error('submit refused');
    const id = submitted.value.requestId;
    expect((await h.core.workflow.approve(h.admin(), id)).ok).toBe(true);
    await h.inState(id, 'running');
    expect((await h.core.workflow.renew(h.admin('UADMIN2'), 'admin-vm')).ok).toBe(true);
    const self = await h.core.workflow.decideRenewal(h.admin('UADMIN2'), id, 'approve');
    expect(self.ok || self.problems[0]?.code).toBe('self_approval');
    expect((await h.core.workflow.decideRenewal(h.admin(), id, 'approve')).ok).toBe(true);
  });

  it('Renew by anyone but the owner is refused, an admin included, with an audit row', async () => {
    const clock = testClock();
    const { h } = await leased({ clock });
    const id = await runningVm(h);
    const byOther = await h.core.workflow.act(h.member('U2'), { kind: 'renew', requestId: id });
    expect(byOther.ok || byOther.problems[0]?.code).toBe('forbidden');
    const byAdmin = await h.core.workflow.renew(h.admin(), 'lease-vm');
    expect(byAdmin.ok || byAdmin.problems[0]).toMatchObject({ code: 'forbidden', message: expect.stringContaining('/vm expire lease-vm') });
    const refused = (await h.core.store.audit.list({ requestId: id })).filter((a) => a.action === 'renew_refused');
    expect(refused.map((r) => r.actor.userId).sort()).toEqual(['U2', 'UADMIN1']);
    expect(refused[0]?.detail).toMatch(/^forbidden: /);
    expect((await h.core.store.requests.get(id))?.lease?.renewals).toBe(0);
  });

  it('renewing a VM stopped for its lease starts the same job again (same MAC), and the grace deletion is off', async () => {
    const clock = testClock();
    const { h, leases } = await leased({ clock });
    const id = await runningVm(h);
    const mac = (await h.core.store.requests.get(id))!.mac;
    clock.set(EXPIRY + DAY_MS);
    await leases.tick();
    await h.inState(id, 'stopped');
    // A plain start would outlive the lease: only a renewal starts it again.
    const start = await h.core.workflow.start(h.member(), 'lease-vm');
    expect(start.ok || start.problems[0]).toMatchObject({ code: 'wrong_state', message: expect.stringContaining('/vm renew lease-vm') });
    // Nor would a rebuild, which boots it too.
    const rebuild = await h.core.workflow.rebuild(h.member(), 'lease-vm');
    expect(rebuild.ok || rebuild.problems[0]).toMatchObject({ code: 'wrong_state', message: expect.stringContaining('/vm renew lease-vm') });
    expect((await h.core.store.requests.get(id))?.state).toBe('stopped');
    expect((await h.core.workflow.renew(h.member(), 'lease-vm')).ok).toBe(true);
    const back = await h.inState(id, 'running');
    expect(back.mac).toBe(mac);
    expect(back.lease).toMatchObject({ expiresAt: iso(EXPIRY + 31 * DAY_MS), renewals: 1 });
    expect(back.lease?.stoppedAt).toBeUndefined();
    clock.set(EXPIRY + 16 * DAY_MS);
    await leases.tick();
    expect((await h.core.store.requests.get(id))?.state).toBe('running');
  });
});

describe('a VM its owner stopped', () => {
  it('expires without a second stop (the grace period starts), and a renewal leaves it stopped', async () => {
    const clock = testClock();
    const { h, surface, leases } = await leased({ clock });
    const id = await runningVm(h);
    expect((await h.core.workflow.stop(h.member(), 'lease-vm')).ok).toBe(true);
    await h.inState(id, 'stopped');
    clock.set(EXPIRY);
    await leases.tick();
    const expired = (await h.core.store.requests.get(id))!;
    expect(expired).toMatchObject({ state: 'stopped', stopReason: 'member', lease: { stoppedAt: iso(EXPIRY) } });
    expect(leaseNotices(surface, id).map((n) => n.kind)).toEqual(['lease_stopped']);
    expect((await h.core.workflow.renew(h.member(), 'lease-vm')).ok).toBe(true);
    const renewed = (await h.core.store.requests.get(id))!;
    expect(renewed.state).toBe('stopped');
    expect(renewed.lease).toMatchObject({ renewals: 1, expiresAt: iso(EXPIRY + 30 * DAY_MS) });
    expect(renewed.lease?.stoppedAt).toBeUndefined();
    // Its owner starts it when they want to: the lease no longer holds it.
    expect((await h.core.workflow.start(h.member(), 'lease-vm')).ok).toBe(true);
    await h.inState(id, 'running');
  });
});

describe('an admin sets the expiry', () => {
  it('any VM, to the end of the given day; the member is told; audited; refused for members, bad and past dates', async () => {
    const clock = testClock();
    const { h, surface } = await leased({ clock });
    const id = await runningVm(h);
    const set = await h.core.workflow.setExpiry(h.admin(), 'lease-vm', '2027-06-30');
    expect(set.ok).toBe(true);
    expect((await h.core.store.requests.get(id))?.lease).toMatchObject({ expiresAt: '2027-07-01T00:00:00.000Z', renewals: 0 });
    expect(leaseNotices(surface, id).at(-1)).toMatchObject({ kind: 'expiry_set', by: { userId: 'UADMIN1' }, expiresAt: '2027-07-01T00:00:00.000Z' });
    const audit = (await h.core.store.audit.list({ requestId: id })).find((a) => a.action === 'set_expiry');
    expect(audit?.detail).toBe(`expires 2027-07-01T00:00:00.000Z (was ${iso(EXPIRY)})`);

    const byMember = await h.core.workflow.setExpiry(h.member(), 'lease-vm', '2030-01-01');
    expect(byMember.ok || byMember.problems[0]?.code).toBe('forbidden');
    expect(await auditActions(h, id)).toContain('set_expiry_refused');
    const bad = await h.core.workflow.setExpiry(h.admin(), 'lease-vm', '2027-02-30');
    expect(bad.ok || bad.problems[0]).toMatchObject({ code: 'invalid_date', field: 'date' });
    const past = await h.core.workflow.setExpiry(h.admin(), 'lease-vm', '2027-01-09');
    expect(past.ok || past.problems[0]?.code).toBe('invalid_date');
    const missing = await h.core.workflow.setExpiry(h.admin(), 'no-such-vm', '2027-06-30');
    expect(missing.ok || missing.problems[0]?.code).toBe('not_found');
    expect((await h.core.store.requests.get(id))?.lease?.expiresAt).toBe('2027-07-01T00:00:00.000Z');
  });
});
