// Resource quotas: how much a member may hold (VMs, CPU MHz, memory MiB of live VMs), what
// they hold now, and whether a new request fits. Pure: the workflow passes the member's
// groups and the VMs that count (live VMs and requests waiting for approval).
import { problem, type Problem } from './problem.js';

/** A limit left out means no limit. */
export interface QuotaLimits {
  vms?: number;
  cpu?: number;
  memory?: number;
}

export interface QuotaGroupOverride extends QuotaLimits {
  /** A Slack user-group ID or a Discord role ID, as in Actor.groups. */
  group: string;
}

/** The parts of config.policy that decide a quota. */
export interface QuotaPolicy {
  /** The older name of quota.vms (0 = no limit); the schema refuses both at once. */
  maxVmsPerMember: number;
  quota: QuotaLimits & { groups: readonly QuotaGroupOverride[] };
}

export interface SizeResources {
  name: string;
  /** MHz */
  cpu: number;
  /** MiB */
  memory: number;
}

export interface QuotaUsage {
  vms: number;
  cpu: number;
  memory: number;
}

const KEYS = ['vms', 'cpu', 'memory'] as const;

/**
 * The member's limits: the member-wide ones, raised by every group of theirs that has an
 * override (the most generous of each wins; a group leaves a key out to keep the member-wide
 * value). Overrides only raise: no limit member-wide stays no limit.
 */
export function effectiveQuota(policy: QuotaPolicy, groups: readonly string[]): QuotaLimits {
  const base: QuotaLimits = { ...pick(policy.quota) };
  if (base.vms === undefined && policy.maxVmsPerMember > 0) base.vms = policy.maxVmsPerMember;
  const mine = policy.quota.groups.filter((o) => groups.includes(o.group));
  const out: QuotaLimits = {};
  for (const key of KEYS) {
    const limit = base[key];
    if (limit === undefined) continue;
    out[key] = Math.max(limit, ...mine.map((o) => o[key] ?? limit));
  }
  return out;
}

function pick(limits: QuotaLimits): QuotaLimits {
  const out: QuotaLimits = {};
  for (const key of KEYS) if (limits[key] !== undefined) out[key] = limits[key];
  return out;
}

/**
 * What the member holds: one VM per entry and the resources of its size. A VM whose size has
 * since left the configuration counts as a VM with no known resources (it cannot be priced).
 */
export function quotaUsage(vms: readonly { size: string }[], sizes: readonly SizeResources[]): QuotaUsage {
  const usage: QuotaUsage = { vms: vms.length, cpu: 0, memory: 0 };
  for (const vm of vms) {
    const size = sizes.find((s) => s.name === vm.size);
    usage.cpu += size?.cpu ?? 0;
    usage.memory += size?.memory ?? 0;
  }
  return usage;
}

const vmCount = (n: number): string => `${n} VM${n === 1 ? '' : 's'}`;

/**
 * The problems of a new VM of `size` for a member with `usage` and `quota`; empty when it fits.
 * The VM count comes first and alone (a smaller size would not help) and has no field: the
 * form shows it on its first field. CPU and memory concern the `size` field.
 */
export function checkQuota(quota: QuotaLimits, usage: QuotaUsage, size: SizeResources): Problem[] {
  if (quota.vms !== undefined && usage.vms + 1 > quota.vms) {
    const message =
      quota.vms === 0
        ? 'Your quota allows no VMs (policy.quota.vms is 0 and none of your groups raises it): ask an admin.'
        : `You have ${vmCount(usage.vms)} and your limit is ${quota.vms}: delete one you no longer need, then ask again.`;
    return [problem('quota_exceeded', message)];
  }
  const problems: Problem[] = [];
  const uses = `you have ${vmCount(usage.vms)} using`;
  if (quota.cpu !== undefined && usage.cpu + size.cpu > quota.cpu) {
    problems.push(problem('quota_exceeded', `This would use ${usage.cpu + size.cpu} of your ${quota.cpu} MHz of CPU (${uses} ${usage.cpu} MHz): choose a smaller size or delete a VM.`, 'size'));
  }
  if (quota.memory !== undefined && usage.memory + size.memory > quota.memory) {
    problems.push(problem('quota_exceeded', `This would use ${usage.memory + size.memory} of your ${quota.memory} MiB of memory (${uses} ${usage.memory} MiB): choose a smaller size or delete a VM.`, 'size'));
  }
  return problems;
}

/** One line for the admin card: "2 of 3 VMs, 8000/12000 MHz, 6144/8192 MiB" (use before this request). */
export function quotaSummary(quota: QuotaLimits, usage: QuotaUsage): string {
  const vms = quota.vms !== undefined ? `${usage.vms} of ${vmCount(quota.vms)}` : vmCount(usage.vms);
  const cpu = quota.cpu !== undefined ? `${usage.cpu}/${quota.cpu} MHz` : `${usage.cpu} MHz`;
  const memory = quota.memory !== undefined ? `${usage.memory}/${quota.memory} MiB` : `${usage.memory} MiB`;
  const unlimited = KEYS.every((key) => quota[key] === undefined) ? ' (no quota)' : '';
  return `${vms}, ${cpu}, ${memory}${unlimited}`;
}
