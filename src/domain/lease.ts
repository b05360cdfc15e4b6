// Leases: when a VM expires, how a renewal moves the expiry, and what the scheduler must do
// now. Pure: the clock is a parameter, and everything the scheduler needs lives in the
// LeaseRecord the store keeps, so timers are rebuilt from the store after a restart.
import { problem, type Result, fail, ok } from './problem.js';

export const HOUR_MS = 3_600_000;
export const DAY_MS = 24 * HOUR_MS;

/** policy.lease as parsed (durations in ms). No policy.lease at all means VMs never expire. */
export interface LeasePolicy {
  /** Lease length from approval (and added by each renewal). */
  default?: number;
  /** Term ends, `YYYY-MM-DD`, ascending; a lease ends at the end (24:00 UTC) of the next one. */
  until?: readonly string[];
  /** Offsets before expiry at which the member is reminded, in ms; 0 is the expiry notice. */
  reminders: readonly number[];
  /** How many renewals are granted at once; later ones need an admin. */
  autoRenewals: number;
  /** Days between the expiry stop and the deletion. */
  graceDays: number;
}

/** What the store keeps per VM. Times are ISO strings, as in VmRequest. */
export interface LeaseRecord {
  expiresAt: string;
  /** Offsets (ms) of the reminders already sent, or skipped, for this expiry. */
  remindersSent: readonly number[];
  /** Renewals granted so far (automatic or by an admin). */
  renewals: number;
  /** When the job was stopped because the lease expired; absent while it runs. */
  stoppedAt?: string;
}

export type LeaseDue = { kind: 'remind'; offset: number } | { kind: 'stop' } | { kind: 'delete' };

export interface LeaseSchedule {
  /** What to do now, if anything: at most one thing, the most advanced one. */
  due?: LeaseDue;
  /** When the next thing falls due once `due` has been done and recorded; absent when nothing remains. */
  nextAt?: string;
}

const iso = (ms: number): string => new Date(ms).toISOString();

/** 90d, 36h, 90m... the largest unit that divides the duration; for messages. */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0';
  const units: Array<[string, number]> = [['d', DAY_MS], ['h', HOUR_MS], ['m', 60_000], ['s', 1000]];
  for (const [unit, size] of units) if (ms % size === 0) return `${ms / size}${unit}`;
  return `${ms}ms`;
}

/** The instant a term-end date is over: 24:00 UTC of that day. */
export function termEnd(date: string): number {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  return Date.UTC(y, m - 1, d + 1);
}

/** The first term end strictly after `after` (ms), if the list has one. */
export function nextTermEnd(until: readonly string[], after: number): number | undefined {
  return until.map(termEnd).filter((end) => end > after).sort((a, b) => a - b)[0];
}

/**
 * The expiry of a VM approved at `approvedAt`: the next `until` date, else `default` from
 * approval (so `default` covers the time after the term list runs out), else none: the VM
 * does not expire (as with no policy.lease at all).
 */
export function expiryAtApproval(policy: LeasePolicy | undefined, approvedAt: Date): Date | undefined {
  if (!policy) return undefined;
  const at = approvedAt.getTime();
  const term = policy.until ? nextTermEnd(policy.until, at) : undefined;
  if (term !== undefined) return new Date(term);
  return policy.default !== undefined ? new Date(at + policy.default) : undefined;
}

/**
 * Reminders whose time has already come at `now` count as sent: the approval or renewal
 * message states the new expiry, so the member is not reminded of it a second later.
 */
function passedReminders(policy: LeasePolicy, expiresAt: number, now: number): number[] {
  return policy.reminders.filter((offset) => offset > 0 && expiresAt - offset <= now);
}

/** The lease record of a VM approved now, or undefined when it never expires. */
export function leaseAtApproval(policy: LeasePolicy | undefined, approvedAt: Date): LeaseRecord | undefined {
  const expiry = expiryAtApproval(policy, approvedAt);
  if (!policy || !expiry) return undefined;
  return { expiresAt: expiry.toISOString(), remindersSent: passedReminders(policy, expiry.getTime(), approvedAt.getTime()), renewals: 0 };
}

/** Whether the next renewal is granted at once (the first `autoRenewals` ones) or needs an admin. */
export function renewalIsAutomatic(policy: LeasePolicy, record: LeaseRecord): boolean {
  return record.renewals < policy.autoRenewals;
}

/**
 * The record after one more renewal at `now`. With `default`: the later of now and the current
 * expiry, plus `default`. With `until`: the next term end after that same instant, falling
 * back to `default` when the list has none left. The reminders start again, the expiry stop
 * is lifted (the workflow starts the job again when the old record had `stoppedAt`).
 * Whether it may happen without an admin is renewalIsAutomatic's question, asked before.
 */
export function renewLease(policy: LeasePolicy, record: LeaseRecord, now: Date): Result<LeaseRecord> {
  const from = Math.max(now.getTime(), Date.parse(record.expiresAt));
  const term = policy.until ? nextTermEnd(policy.until, from) : undefined;
  const expiry = term ?? (policy.default !== undefined ? from + policy.default : undefined);
  if (expiry === undefined) {
    return fail(problem('wrong_state', `There is no term end after ${record.expiresAt.slice(0, 10)} in policy.lease.until, so this VM cannot be renewed: ask an admin to set its expiry, or to add the next date to the configuration.`));
  }
  return ok({ expiresAt: iso(expiry), remindersSent: passedReminders(policy, expiry, now.getTime()), renewals: record.renewals + 1 });
}

/** An admin sets the expiry: renewals are kept, the reminders start again, a stop is lifted. */
export function setLeaseExpiry(policy: LeasePolicy, record: LeaseRecord, expiresAt: Date, now: Date): LeaseRecord {
  return { expiresAt: expiresAt.toISOString(), remindersSent: passedReminders(policy, expiresAt.getTime(), now.getTime()), renewals: record.renewals };
}

/** The record once `due` has been done at `now`: what the workflow stores after acting. */
export function recordDone(record: LeaseRecord, due: LeaseDue, now: Date): LeaseRecord {
  if (due.kind === 'remind') return { ...record, remindersSent: [...record.remindersSent, due.offset] };
  if (due.kind === 'stop') return { ...record, stoppedAt: now.toISOString() };
  return record;
}

/**
 * The scheduler's one question: given the record and now, what is due and when to look again.
 * - Late (the process was down across several reminders): only the latest due reminder is
 *   sent; the earlier ones are superseded.
 * - Past the expiry and not stopped: stop now (the stop notice replaces any reminder still
 *   owed, including the offset-0 one). The grace period runs from the actual stop, so a
 *   member always gets `graceDays` after being told.
 * - Stopped and `graceDays` over: delete.
 */
export function leaseSchedule(policy: LeasePolicy, record: LeaseRecord, now: Date): LeaseSchedule {
  const t = now.getTime();
  const expiresAt = Date.parse(record.expiresAt);
  const grace = policy.graceDays * DAY_MS;

  if (record.stoppedAt !== undefined) {
    const deleteAt = Date.parse(record.stoppedAt) + grace;
    return t >= deleteAt ? { due: { kind: 'delete' } } : { nextAt: iso(deleteAt) };
  }
  if (t >= expiresAt) return { due: { kind: 'stop' }, nextAt: iso(t + grace) };

  // Reminders still owed: positive offsets smaller than every one sent (a later reminder
  // supersedes the earlier ones), ordered by when they fall due.
  const smallestSent = Math.min(...record.remindersSent, Number.POSITIVE_INFINITY);
  const owed = [...new Set(policy.reminders)].filter((offset) => offset > 0 && offset < smallestSent).sort((a, b) => b - a);
  const dueNow = owed.filter((offset) => expiresAt - offset <= t);
  const latest = dueNow.at(-1);
  const later = owed.filter((offset) => expiresAt - offset > t);
  const nextAt = later.length > 0 ? expiresAt - later[0]! : expiresAt;
  return latest === undefined ? { nextAt: iso(nextAt) } : { due: { kind: 'remind', offset: latest }, nextAt: iso(nextAt) };
}

/** Warnings for the log at start: a term list that has run out leaves new VMs without expiry. */
export function leasePolicyWarnings(policy: LeasePolicy | undefined, now: Date): string[] {
  if (!policy?.until || policy.default !== undefined) return [];
  if (nextTermEnd(policy.until, now.getTime()) !== undefined) return [];
  return [`every date in policy.lease.until is past, and policy.lease.default is not set: VMs approved from now on do not expire. Add the next term end, or a default.`];
}

const day = (ms: number): string => new Date(ms).toISOString().slice(0, 10);
const inDays = (ms: number): string => {
  const days = Math.round(ms / DAY_MS);
  if (days <= 0) return 'today';
  return days === 1 ? 'in 1 day' : `in ${days} days`;
};

/**
 * One line for cards and `/vm list`: "expires 2027-04-01 (in 5 days), 1 of 2 automatic
 * renewals used", or, stopped: "stopped: lease expired; deleted 2027-04-15 unless renewed".
 */
export function leaseSummary(policy: LeasePolicy, record: LeaseRecord, now: Date): string {
  if (record.stoppedAt !== undefined) {
    return `stopped: lease expired; deleted ${day(Date.parse(record.stoppedAt) + policy.graceDays * DAY_MS)} unless renewed`;
  }
  const expiresAt = Date.parse(record.expiresAt);
  const renewed = policy.autoRenewals > 0 ? `, ${Math.min(record.renewals, policy.autoRenewals)} of ${policy.autoRenewals} automatic renewals used` : '';
  return `expires ${day(expiresAt)} (${inDays(expiresAt - now.getTime())})${renewed}`;
}
