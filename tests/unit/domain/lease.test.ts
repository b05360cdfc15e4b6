import { describe, expect, it } from 'vitest';
import {
  DAY_MS,
  type LeasePolicy,
  type LeaseRecord,
  expiryAtApproval,
  formatDuration,
  leaseAtApproval,
  leasePolicyWarnings,
  leaseSchedule,
  leaseSummary,
  recordDone,
  renewLease,
  renewalIsAutomatic,
  setLeaseExpiry,
} from '../../../src/domain/lease.js';

const at = (iso: string): Date => new Date(iso);
const REMINDERS = [7 * DAY_MS, 3 * DAY_MS, DAY_MS, 0];
const NINETY: LeasePolicy = { default: 90 * DAY_MS, reminders: REMINDERS, autoRenewals: 2, graceDays: 14 };
const TERMS: LeasePolicy = { until: ['2027-01-31', '2027-06-15'], reminders: REMINDERS, autoRenewals: 2, graceDays: 14 };
const record = (expiresAt: string, extra: Partial<LeaseRecord> = {}): LeaseRecord => ({ expiresAt, remindersSent: [], renewals: 0, ...extra });

describe('the expiry at approval', () => {
  it('is approval plus the default', () => {
    expect(expiryAtApproval(NINETY, at('2027-01-01T10:00:00Z'))?.toISOString()).toBe('2027-04-01T10:00:00.000Z');
  });

  it('is the end (24:00 UTC) of the next term date after approval', () => {
    expect(expiryAtApproval(TERMS, at('2026-12-03T12:00:00Z'))?.toISOString()).toBe('2027-02-01T00:00:00.000Z');
    // Approved on a term's last day: that term still counts.
    expect(expiryAtApproval(TERMS, at('2027-01-31T23:00:00Z'))?.toISOString()).toBe('2027-02-01T00:00:00.000Z');
    expect(expiryAtApproval(TERMS, at('2027-02-01T00:00:00Z'))?.toISOString()).toBe('2027-06-16T00:00:00.000Z');
  });

  it('falls back to the default when the term list has run out, and to none without one', () => {
    expect(expiryAtApproval({ ...TERMS, default: 30 * DAY_MS }, at('2027-07-01T00:00:00Z'))?.toISOString()).toBe('2027-07-31T00:00:00.000Z');
    expect(expiryAtApproval(TERMS, at('2027-07-01T00:00:00Z'))).toBeUndefined();
    expect(leasePolicyWarnings(TERMS, at('2027-07-01T00:00:00Z'))).toEqual([expect.stringContaining('every date in policy.lease.until is past')]);
    expect(leasePolicyWarnings(TERMS, at('2027-03-01T00:00:00Z'))).toEqual([]);
  });

  it('is none without policy.lease: VMs never expire, as before leases', () => {
    expect(expiryAtApproval(undefined, at('2027-01-01T00:00:00Z'))).toBeUndefined();
    expect(leaseAtApproval(undefined, at('2027-01-01T00:00:00Z'))).toBeUndefined();
  });

  it('starts a record with no renewals, counting reminders already past as sent', () => {
    expect(leaseAtApproval(NINETY, at('2027-01-01T10:00:00Z'))).toEqual({ expiresAt: '2027-04-01T10:00:00.000Z', remindersSent: [], renewals: 0 });
    // Two days before the term ends: the 7d and 3d reminders are not sent a second after approval.
    expect(leaseAtApproval(TERMS, at('2027-01-30T00:00:00Z'))).toEqual({ expiresAt: '2027-02-01T00:00:00.000Z', remindersSent: [7 * DAY_MS, 3 * DAY_MS], renewals: 0 });
  });
});

describe('renewal', () => {
  it('extends by the default from the current expiry when it is still ahead', () => {
    const renewed = renewLease(NINETY, record('2027-04-01T10:00:00.000Z', { remindersSent: [7 * DAY_MS] }), at('2027-03-28T09:00:00Z'));
    expect(renewed).toEqual({ ok: true, value: { expiresAt: '2027-06-30T10:00:00.000Z', remindersSent: [], renewals: 1 } });
  });

  it('extends by the default from now when the lease has already expired, and lifts the stop', () => {
    const stopped = record('2027-04-01T10:00:00.000Z', { stoppedAt: '2027-04-01T10:00:05.000Z', renewals: 1 });
    const renewed = renewLease(NINETY, stopped, at('2027-04-05T00:00:00Z'));
    expect(renewed).toEqual({ ok: true, value: { expiresAt: '2027-07-04T00:00:00.000Z', remindersSent: [], renewals: 2 } });
  });

  it('moves to the next term date after the current expiry', () => {
    const renewed = renewLease(TERMS, record('2027-02-01T00:00:00.000Z'), at('2027-01-28T00:00:00Z'));
    expect(renewed.ok && renewed.value.expiresAt).toBe('2027-06-16T00:00:00.000Z');
  });

  it('with no term date left: uses the default if there is one, else says an admin must set the expiry', () => {
    const last = record('2027-06-16T00:00:00.000Z');
    const withDefault = renewLease({ ...TERMS, default: 30 * DAY_MS }, last, at('2027-06-10T00:00:00Z'));
    expect(withDefault.ok && withDefault.value.expiresAt).toBe('2027-07-16T00:00:00.000Z');
    expect(renewLease(TERMS, last, at('2027-06-10T00:00:00Z'))).toEqual({
      ok: false,
      problems: [{ code: 'wrong_state', message: expect.stringMatching(/no term end after 2027-06-16 in policy\.lease\.until.*ask an admin to set its expiry/) }],
    });
  });

  it('is automatic for the first autoRenewals renewals, then needs an admin', () => {
    expect([0, 1, 2, 3].map((renewals) => renewalIsAutomatic(NINETY, record('2027-04-01T00:00:00.000Z', { renewals })))).toEqual([true, true, false, false]);
    expect(renewalIsAutomatic({ ...NINETY, autoRenewals: 0 }, record('2027-04-01T00:00:00.000Z'))).toBe(false);
  });

  it('an admin setting the expiry keeps the renewal count and restarts the reminders', () => {
    const set = setLeaseExpiry(NINETY, record('2027-04-01T00:00:00.000Z', { renewals: 3, remindersSent: [7 * DAY_MS, 3 * DAY_MS], stoppedAt: '2027-04-01T00:00:00.000Z' }), at('2027-05-01T00:00:00Z'), at('2027-04-26T00:00:00Z'));
    expect(set).toEqual({ expiresAt: '2027-05-01T00:00:00.000Z', remindersSent: [7 * DAY_MS], renewals: 3 });
  });
});

describe('the scheduler', () => {
  const lease = record('2027-04-01T00:00:00.000Z');

  it('before the first reminder: nothing due, next is the 7-day reminder', () => {
    expect(leaseSchedule(NINETY, lease, at('2027-01-01T00:00:00Z'))).toEqual({ nextAt: '2027-03-25T00:00:00.000Z' });
  });

  it('walks through every reminder, then the stop, then the deletion graceDays after the stop', () => {
    const steps: Array<{ now: string; due: unknown; nextAt: string | undefined }> = [];
    let current = lease;
    for (const now of ['2027-03-25T00:00:00Z', '2027-03-29T00:00:00Z', '2027-03-31T00:00:00Z', '2027-04-01T00:00:00Z', '2027-04-15T00:00:00Z']) {
      const s = leaseSchedule(NINETY, current, at(now));
      steps.push({ now, due: s.due, nextAt: s.nextAt });
      if (s.due) current = recordDone(current, s.due, at(now));
      // Once done and recorded, asking again at the same moment gives nothing new, and the same next time.
      expect(leaseSchedule(NINETY, current, at(now))).toEqual(s.due?.kind === 'delete' ? { due: { kind: 'delete' } } : { nextAt: s.nextAt });
    }
    expect(steps).toEqual([
      { now: '2027-03-25T00:00:00Z', due: { kind: 'remind', offset: 7 * DAY_MS }, nextAt: '2027-03-29T00:00:00.000Z' },
      { now: '2027-03-29T00:00:00Z', due: { kind: 'remind', offset: 3 * DAY_MS }, nextAt: '2027-03-31T00:00:00.000Z' },
      { now: '2027-03-31T00:00:00Z', due: { kind: 'remind', offset: DAY_MS }, nextAt: '2027-04-01T00:00:00.000Z' },
      // The offset-0 reminder is the stop notice itself.
      { now: '2027-04-01T00:00:00Z', due: { kind: 'stop' }, nextAt: '2027-04-15T00:00:00.000Z' },
      { now: '2027-04-15T00:00:00Z', due: { kind: 'delete' }, nextAt: undefined },
    ]);
  });

  it('late after a restart across two reminders: sends only the latest one', () => {
    const s = leaseSchedule(NINETY, recordDone(lease, { kind: 'remind', offset: 7 * DAY_MS }, at('2027-03-25T00:00:00Z')), at('2027-03-31T06:00:00Z'));
    expect(s).toEqual({ due: { kind: 'remind', offset: DAY_MS }, nextAt: '2027-04-01T00:00:00.000Z' });
    const after = recordDone(lease, s.due!, at('2027-03-31T06:00:00Z'));
    // The superseded 3-day reminder never comes back.
    expect(leaseSchedule(NINETY, after, at('2027-03-31T07:00:00Z'))).toEqual({ nextAt: '2027-04-01T00:00:00.000Z' });
  });

  it('past the expiry and not stopped: stop now, and the grace runs from the actual stop', () => {
    expect(leaseSchedule(NINETY, lease, at('2027-04-03T12:00:00Z'))).toEqual({ due: { kind: 'stop' }, nextAt: '2027-04-17T12:00:00.000Z' });
    // Even past expiry plus grace, a VM never stopped is stopped first, not deleted unannounced.
    expect(leaseSchedule(NINETY, lease, at('2027-06-01T00:00:00Z')).due).toEqual({ kind: 'stop' });
  });

  it('stopped: waits for the grace period, then deletes (late or not)', () => {
    const stopped = record('2027-04-01T00:00:00.000Z', { stoppedAt: '2027-04-02T00:00:00.000Z' });
    expect(leaseSchedule(NINETY, stopped, at('2027-04-10T00:00:00Z'))).toEqual({ nextAt: '2027-04-16T00:00:00.000Z' });
    expect(leaseSchedule(NINETY, stopped, at('2027-05-30T00:00:00Z'))).toEqual({ due: { kind: 'delete' } });
    expect(leaseSchedule({ ...NINETY, graceDays: 0 }, stopped, at('2027-04-02T00:00:00Z'))).toEqual({ due: { kind: 'delete' } });
  });

  it('reminders: given in any order or twice, or none at all, still due once each in time order', () => {
    const odd: LeasePolicy = { ...NINETY, reminders: [DAY_MS, 7 * DAY_MS, DAY_MS] };
    expect(leaseSchedule(odd, lease, at('2027-03-01T00:00:00Z'))).toEqual({ nextAt: '2027-03-25T00:00:00.000Z' });
    expect(leaseSchedule(odd, lease, at('2027-03-25T00:00:00Z'))).toEqual({ due: { kind: 'remind', offset: 7 * DAY_MS }, nextAt: '2027-03-31T00:00:00.000Z' });
    expect(leaseSchedule({ ...NINETY, reminders: [] }, lease, at('2027-03-31T00:00:00Z'))).toEqual({ nextAt: '2027-04-01T00:00:00.000Z' });
  });

  it('after a renewal the reminders start again for the new expiry', () => {
    const renewed = renewLease(NINETY, record('2027-04-01T00:00:00.000Z', { remindersSent: [7 * DAY_MS, 3 * DAY_MS] }), at('2027-03-30T00:00:00Z'));
    expect(renewed.ok).toBe(true);
    if (!renewed.ok) return;
    expect(leaseSchedule(NINETY, renewed.value, at('2027-03-30T00:00:01Z'))).toEqual({ nextAt: '2027-06-23T00:00:00.000Z' });
  });
});

describe('formatDuration', () => {
  it('names a duration by its largest whole unit', () => {
    expect([90 * DAY_MS, 36 * 3_600_000, 90_000, 1500, 0].map(formatDuration)).toEqual(['90d', '36h', '90s', '1500ms', '0']);
  });
});

describe('leaseSummary', () => {
  it('says when the lease ends and how many renewals are left without an admin', () => {
    expect(leaseSummary(NINETY, record('2027-04-01T10:00:00.000Z', { renewals: 1 }), at('2027-03-27T09:00:00Z'))).toBe('expires 2027-04-01 (in 5 days), 1 of 2 automatic renewals used');
    expect(leaseSummary({ ...NINETY, autoRenewals: 0 }, record('2027-04-01T10:00:00.000Z'), at('2027-03-31T09:00:00Z'))).toBe('expires 2027-04-01 (in 1 day)');
    expect(leaseSummary(NINETY, record('2027-04-01T10:00:00.000Z', { renewals: 4 }), at('2027-04-01T09:00:00Z'))).toBe('expires 2027-04-01 (today), 2 of 2 automatic renewals used');
  });

  it('for a VM stopped at expiry, says when it will be deleted', () => {
    expect(leaseSummary(NINETY, record('2027-04-01T00:00:00.000Z', { stoppedAt: '2027-04-02T08:00:00.000Z' }), at('2027-04-03T00:00:00Z'))).toBe('stopped: lease expired; deleted 2027-04-16 unless renewed');
  });
});
