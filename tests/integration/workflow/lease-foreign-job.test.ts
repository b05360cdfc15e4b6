// A VM whose lease ends after its Nomad job was replaced by a hand-made one (no
// meta.vmbot_request, or another request's): vmbot never stops a job it did not make, so the
// expiry is handled ONCE without touching it. The request moves running → lost (the state the
// liveness check gives a VM whose job is not its own), one `job_not_ours` audit row says the
// job was left running, the admin card shows why (failure `job_not_ours`), the member is told
// once, and the scheduler's later ticks write nothing. The grace deletion, a renewal and a
// start leave the hand-made job alone too; a restart changes none of it (all from the store).
// Injected clock: no test waits real days; the liveness check's timer is off (liveCheckMs 0)
// so only the lease scheduler acts.
import { afterEach, describe, expect, it } from 'vitest';
import { DAY_MS } from '../../../src/domain/lease.js';
import { startSimCluster } from '../../../src/nomad/sim/index.js';
import type { Leases } from '../../../src/workflow/leases.js';
import { noticeWording, plainText } from '../../../src/workflow/notices.js';
import { handMadeHcl } from '../../support/hand-made-job.js';
import type { Harness, RecordingSurface } from '../../support/harness.js';
import { EXPIRY, iso, leaseHarnesses, runningVm, testClock, type LeasedOptions, type TestClock } from '../../support/leases.js';
import { makeTempDir } from '../../support/tmp.js';

const MINUTE = 60_000;
const harnesses = leaseHarnesses();
afterEach(() => harnesses.closeAll());
/** The liveness check's timer off: only the lease scheduler acts. */
const leased = (opts: LeasedOptions) => harnesses.leased({ ...opts, liveCheckMs: 0 });

/**
 * An admin re-registers the VM's job by hand. Waits for the hand-made job's own allocation
 * to run (the job's status reads running while ours is still stopping: not a lasting state).
 */
async function replaceByHand(h: Harness, id: string, jobId: string, meta?: string) {
  const running = (await h.core.store.requests.get(id))!;
  await h.core.nomad.submitJob(handMadeHcl(jobId, '52:54:84:ba:49:77', meta));
  const alloc = await h.waitFor(() => h.sim.control.allocations(jobId).find((a) => a.ID !== running.allocId && a.ClientStatus === 'running'), { what: 'the hand-made allocation running' });
  const job = h.sim.control.jobs().find((j) => j.id === jobId)!;
  expect(job.meta.vmbot_request).toBe(meta);
  return { allocId: alloc.ID, version: job.version };
}

/** The hand-made job as the admins left it: registered, not stopped, same version, its allocation running. */
function expectUntouched(h: Harness, jobId: string, hand: { allocId: string; version: number }, meta?: string): void {
  const job = h.sim.control.jobs().find((j) => j.id === jobId);
  expect(job).toMatchObject({ stop: false, version: hand.version });
  expect(job?.meta.vmbot_request).toBe(meta);
  expect(h.sim.control.allocations(jobId).find((a) => a.ID === hand.allocId)?.ClientStatus).toBe('running');
}

const auditOf = async (h: Harness, id: string) => h.core.store.audit.list({ requestId: id, limit: 500 });
const countOf = async (h: Harness, id: string, action: string): Promise<number> => (await auditOf(h, id)).filter((a) => a.action === action).length;
const noticeKinds = (surface: RecordingSurface, id: string): string[] => surface.noticesFor(id).map((n) => n.kind);

/** The scheduler's retries: ticks a minute apart (RETRY_MS), as its timer would run them. */
async function ticksAfter(leases: Leases, clock: TestClock, from: number, count: number): Promise<void> {
  for (let i = 1; i <= count; i++) {
    clock.set(from + i * MINUTE);
    await leases.tick();
  }
}

describe('lease expiry when the VM’s job was replaced by a hand-made one', () => {
  it('is handled once: the job stays as it is, one job_not_ours row, the VM lost with the reason on the card, the member told once; grace delete leaves it too', async () => {
    const clock = testClock();
    const { h, surface, leases } = await leased({ clock });
    const id = await runningVm(h, 'swapped');
    const hand = await replaceByHand(h, id, 'uservm-swapped');

    clock.set(EXPIRY);
    await leases.tick();
    await ticksAfter(leases, clock, EXPIRY, 5);

    expectUntouched(h, 'uservm-swapped', hand);
    // Before the fix every tick tried the stop again: one job_not_ours row a minute.
    expect(await countOf(h, id, 'job_not_ours')).toBe(1);
    const lost = (await h.core.store.requests.get(id))!;
    expect(lost.state).toBe('lost');
    expect(lost.lease?.stoppedAt).toBe(iso(EXPIRY));
    expect(lost.failure?.code).toBe('job_not_ours');
    expect(lost.failure?.message).toContain('uservm-swapped');

    // One row says why; the expiry stop was never tried (so no stop or stop_failed rows).
    const audit = await auditOf(h, id);
    const skipped = audit.filter((a) => a.action === 'job_not_ours');
    expect(skipped).toHaveLength(1);
    expect(skipped[0]?.detail).toContain("job uservm-swapped is not vmbot's (meta.vmbot_request missing): left running");
    expect(audit.filter((a) => a.action === 'lease_expired')).toHaveLength(1);
    expect(audit.filter((a) => a.action === 'state:running->lost')).toHaveLength(1);
    expect(audit.map((a) => a.action)).not.toContain('stop');
    expect(audit.map((a) => a.action)).not.toContain('stop_failed');

    // The member: told once, in words that fit (not "it was stopped"), with Renew and Delete now.
    expect(noticeKinds(surface, id).filter((k) => k.startsWith('lease_'))).toEqual(['lease_job_kept']);
    const told = surface.noticesFor(id).find((n) => n.kind === 'lease_job_kept');
    expect(told).toMatchObject({ name: 'swapped', deleteAt: iso(EXPIRY + 14 * DAY_MS) });
    expect(told?.actions?.map((a) => a.kind)).toEqual(['renew', 'delete']);
    const words = plainText(noticeWording(told!));
    expect(words).toContain('swapped has ended, but it was not stopped');
    expect(words).toContain('The admins have been told');
    expect(words).toContain('2027-02-23 09:00 UTC');

    // The admins: the card (drawn in their channel) shows the VM lost and why.
    const card = await h.waitFor(() => surface.drawsFor(id).find((c) => c.state === 'lost' && c.failure?.code === 'job_not_ours'), { what: 'the admin card showing the job left running' });
    expect(card.failure?.message).toContain('left it running');
    expect(card.stateLabel).toBe('Lost (its job is gone from Nomad or is no longer vmbot’s)');

    // Later ticks find nothing to do: the row is not written again (so no redraw either).
    const before = await h.core.store.requests.get(id);
    await ticksAfter(leases, clock, EXPIRY + 10 * MINUTE, 5);
    expect(await h.core.store.requests.get(id)).toEqual(before);
    expect(await countOf(h, id, 'job_not_ours')).toBe(1);

    // Grace over: deleted, the hand-made job still left alone (deletion's own job_not_ours row).
    clock.set(EXPIRY + 14 * DAY_MS);
    await leases.tick();
    await h.inState(id, 'deleted');
    expectUntouched(h, 'uservm-swapped', hand);
    expect(await countOf(h, id, 'lease_delete')).toBe(1);
    expect(await countOf(h, id, 'job_not_ours')).toBe(2);
    expect(noticeKinds(surface, id).slice(-2)).toEqual(['lease_deleting', 'deleted']);
    await ticksAfter(leases, clock, EXPIRY + 14 * DAY_MS, 3);
    expect(noticeKinds(surface, id).filter((k) => k === 'lease_deleting')).toHaveLength(1);
  });

  it('a job carrying another request’s vmbot_request is not stopped at expiry either', async () => {
    const clock = testClock();
    const { h, surface, leases } = await leased({ clock });
    const id = await runningVm(h, 'restored');
    const hand = await replaceByHand(h, id, 'uservm-restored', 'someone-else');

    clock.set(EXPIRY);
    await leases.tick();
    await ticksAfter(leases, clock, EXPIRY, 4);

    expectUntouched(h, 'uservm-restored', hand, 'someone-else');
    expect((await h.core.store.requests.get(id))?.state).toBe('lost');
    const skipped = (await auditOf(h, id)).filter((a) => a.action === 'job_not_ours');
    expect(skipped.map((a) => a.detail)).toEqual([expect.stringContaining("job uservm-restored is not vmbot's (meta.vmbot_request is someone-else): left running")]);
    expect(noticeKinds(surface, id).filter((k) => k === 'lease_job_kept')).toHaveLength(1);
  });

  it('afterwards, /vm start is refused and Renew keeps only the record: neither touches the hand-made job; the next expiry tells once more, without a stop', async () => {
    const clock = testClock();
    const { h, surface, leases } = await leased({ clock });
    const id = await runningVm(h, 'kept');
    const hand = await replaceByHand(h, id, 'uservm-kept');
    clock.set(EXPIRY);
    await leases.tick();
    expect((await h.core.store.requests.get(id))?.state).toBe('lost');

    const start = await h.core.workflow.start(h.member(), 'kept');
    expect(start.ok).toBe(false);
    expectUntouched(h, 'uservm-kept', hand);

    clock.set(EXPIRY + DAY_MS);
    const renewed = await h.core.workflow.renew(h.member(), 'kept');
    expect(renewed.ok).toBe(true);
    const after = (await h.core.store.requests.get(id))!;
    expect(after.state).toBe('lost');
    expect(after.lease?.stoppedAt).toBeUndefined();
    expect(after.lease?.expiresAt).toBe(iso(EXPIRY + DAY_MS + 30 * DAY_MS));
    expectUntouched(h, 'uservm-kept', hand);
    expect(noticeKinds(surface, id).filter((k) => k === 'renewed')).toHaveLength(1);

    // The renewed lease ends too: recorded and told once (same words), nothing stopped.
    const second = EXPIRY + DAY_MS + 30 * DAY_MS;
    clock.set(second);
    await leases.tick();
    await ticksAfter(leases, clock, second, 3);
    expectUntouched(h, 'uservm-kept', hand);
    expect((await h.core.store.requests.get(id))?.lease?.stoppedAt).toBe(iso(second));
    expect(noticeKinds(surface, id).filter((k) => k === 'lease_job_kept')).toHaveLength(2);
    expect(noticeKinds(surface, id)).not.toContain('lease_stopped');
    expect(await countOf(h, id, 'lease_expired')).toBe(2);
    expect(await countOf(h, id, 'stop')).toBe(0);
  });

  it('survives a restart: the new core finds the expiry handled in the store and neither repeats it nor touches the job', async () => {
    const sim = await startSimCluster({ bootDelayMs: 50 });
    harnesses.track(sim);
    const temp = await makeTempDir('lease-foreign-restart');
    harnesses.track({ close: temp.cleanup });
    const clock = testClock();
    const first = await leased({ clock, dir: temp.dir, simCluster: sim });
    const id = await runningVm(first.h, 'reborn');
    const hand = await replaceByHand(first.h, id, 'uservm-reborn');
    clock.set(EXPIRY);
    await first.leases.tick();
    expect((await first.h.core.store.requests.get(id))?.state).toBe('lost');
    await first.h.close();

    const second = await leased({ clock, dir: temp.dir, simCluster: sim });
    await second.h.core.workflow.resume();
    await ticksAfter(second.leases, clock, EXPIRY, 5);
    expectUntouched(second.h, 'uservm-reborn', hand);
    expect(await countOf(second.h, id, 'job_not_ours')).toBe(1);
    expect(await countOf(second.h, id, 'lease_expired')).toBe(1);
    expect(noticeKinds(second.surface, id)).toEqual([]);
  });
});
