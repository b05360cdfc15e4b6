import { describe, expect, it } from 'vitest';
import { type QuotaPolicy, checkQuota, effectiveQuota, quotaSummary, quotaUsage } from '../../../src/domain/quota.js';

const SIZES = [
  { name: 'small', cpu: 2000, memory: 2048 },
  { name: 'medium', cpu: 6000, memory: 4096 },
  { name: 'large', cpu: 12000, memory: 8192 },
];
const size = (name: string) => SIZES.find((s) => s.name === name)!;
const policy = (quota: Partial<QuotaPolicy['quota']>, maxVmsPerMember = 0): QuotaPolicy => ({ maxVmsPerMember, quota: { groups: [], ...quota } });

describe('the effective quota', () => {
  it('is the member-wide limits when the member is in no overriding group', () => {
    expect(effectiveQuota(policy({ vms: 3, cpu: 12000, memory: 8192, groups: [{ group: 'S1', vms: 5 }] }), ['S2'])).toEqual({ vms: 3, cpu: 12000, memory: 8192 });
  });

  it('takes the most generous of each key over the member-wide limits and every group of the member', () => {
    const p = policy({
      vms: 2,
      cpu: 8000,
      memory: 4096,
      groups: [
        { group: 'staff', vms: 5, cpu: 10000 },
        { group: 'gpu', cpu: 24000, memory: 2048 },
      ],
    });
    expect(effectiveQuota(p, ['staff', 'gpu'])).toEqual({ vms: 5, cpu: 24000, memory: 4096 });
    expect(effectiveQuota(p, ['staff'])).toEqual({ vms: 5, cpu: 10000, memory: 4096 });
  });

  it('has no limit where the policy sets none (a group cannot lower it)', () => {
    expect(effectiveQuota(policy({ cpu: 8000, groups: [{ group: 'S1', vms: 1 }] }), ['S1'])).toEqual({ cpu: 8000 });
    expect(effectiveQuota(policy({}), [])).toEqual({});
  });

  it('reads policy.maxVmsPerMember as the VM limit (0 = none), as before quotas', () => {
    expect(effectiveQuota(policy({}, 2), [])).toEqual({ vms: 2 });
    expect(effectiveQuota(policy({ groups: [{ group: 'staff', vms: 4 }] }, 2), ['staff'])).toEqual({ vms: 4 });
    expect(effectiveQuota(policy({}, 0), [])).toEqual({});
  });
});

describe('use and the check of a new request', () => {
  const twoVms = quotaUsage([{ size: 'medium' }, { size: 'small' }], SIZES);

  it('adds up the sizes of the VMs held; a size no longer configured counts as a VM only', () => {
    expect(twoVms).toEqual({ vms: 2, cpu: 8000, memory: 6144 });
    expect(quotaUsage([{ size: 'gone' }, { size: 'large' }], SIZES)).toEqual({ vms: 2, cpu: 12000, memory: 8192 });
    expect(quotaUsage([], SIZES)).toEqual({ vms: 0, cpu: 0, memory: 0 });
  });

  it('lets a request that fits exactly through', () => {
    expect(checkQuota({ vms: 3, cpu: 10000, memory: 8192 }, twoVms, size('small'))).toEqual([]);
    expect(checkQuota({}, twoVms, size('large'))).toEqual([]);
  });

  it('refuses too much CPU on the size field, naming the limit and current use', () => {
    expect(checkQuota({ vms: 3, cpu: 12000, memory: 65536 }, twoVms, size('medium'))).toEqual([
      { code: 'quota_exceeded', field: 'size', message: 'This would use 14000 of your 12000 MHz of CPU (you have 2 VMs using 8000 MHz): choose a smaller size or delete a VM.' },
    ]);
  });

  it('refuses too much memory on the size field, and reports CPU and memory together', () => {
    expect(checkQuota({ cpu: 12000, memory: 8192 }, twoVms, size('large'))).toEqual([
      { code: 'quota_exceeded', field: 'size', message: 'This would use 20000 of your 12000 MHz of CPU (you have 2 VMs using 8000 MHz): choose a smaller size or delete a VM.' },
      { code: 'quota_exceeded', field: 'size', message: 'This would use 14336 of your 8192 MiB of memory (you have 2 VMs using 6144 MiB): choose a smaller size or delete a VM.' },
    ]);
    expect(checkQuota({ memory: 4096 }, quotaUsage([{ size: 'small' }], SIZES), size('small'))).toEqual([]);
    expect(checkQuota({ memory: 4096 }, quotaUsage([{ size: 'small' }], SIZES), size('medium'))[0]?.message).toContain('(you have 1 VM using 2048 MiB)');
  });

  it('refuses one VM too many without a field (no size would help), and says so alone', () => {
    expect(checkQuota({ vms: 2, cpu: 1000 }, twoVms, size('large'))).toEqual([
      { code: 'quota_exceeded', message: 'You have 2 VMs and your limit is 2: delete one you no longer need, then ask again.' },
    ]);
    expect(checkQuota({ vms: 0 }, quotaUsage([], SIZES), size('small'))).toEqual([
      { code: 'quota_exceeded', message: 'Your quota allows no VMs (policy.quota.vms is 0 and none of your groups raises it): ask an admin.' },
    ]);
  });
});

describe('the admin card summary', () => {
  const usage = { vms: 2, cpu: 8000, memory: 6144 };

  it('shows use against every limit', () => {
    expect(quotaSummary({ vms: 3, cpu: 12000, memory: 8192 }, usage)).toBe('2 of 3 VMs, 8000/12000 MHz, 6144/8192 MiB');
    expect(quotaSummary({ vms: 1 }, { vms: 0, cpu: 0, memory: 0 })).toBe('0 of 1 VM, 0 MHz, 0 MiB');
  });

  it('shows bare use where there is no limit', () => {
    expect(quotaSummary({ cpu: 12000 }, usage)).toBe('2 VMs, 8000/12000 MHz, 6144 MiB');
    expect(quotaSummary({}, { vms: 1, cpu: 2000, memory: 2048 })).toBe('1 VM, 2000 MHz, 2048 MiB (no quota)');
  });
});
