// policy.lease and policy.quota in the config schema: defaults, values, and cross-key rules.
import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../../src/config/load.js';
import { DAY_MS } from '../../../src/domain/lease.js';

const SIM = { nomad: { adapter: 'sim' } };
const withPolicy = (policy: unknown) => ({ ...SIM, policy });
const parse = (policy: unknown) => parseConfig(withPolicy(policy)).policy;

function problems(policy: unknown): string[] {
  try {
    parseConfig(withPolicy(policy), 'test.yaml');
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).issues;
  }
  throw new Error('expected the configuration to be refused');
}

describe('policy defaults', () => {
  it('has no lease (VMs never expire, as before) and no quota unless configured', () => {
    const policy = parse(undefined);
    expect(policy.lease).toBeUndefined();
    expect(policy.quota).toEqual({ groups: [] });
    expect(policy.maxVmsPerMember).toBe(0);
  });

  it('fills in reminders 7d, 3d, 1d, 0, two automatic renewals and 14 grace days', () => {
    expect(parse({ lease: { default: '90d' } }).lease).toEqual({ default: 90 * DAY_MS, reminders: [7 * DAY_MS, 3 * DAY_MS, DAY_MS, 0], autoRenewals: 2, graceDays: 14 });
  });
});

describe('policy.lease', () => {
  it('reads durations in days and hours, and keeps the shorter units working', () => {
    expect(parse({ lease: { default: '36h', reminders: ['1d', '2h', '30m', 0] } }).lease).toMatchObject({ default: 36 * 3_600_000, reminders: [DAY_MS, 7_200_000, 1_800_000, 0] });
    expect(parseConfig({ ...SIM, nomad: { adapter: 'sim', ipTimeout: '1d', pollInterval: '500ms' } }).nomad).toMatchObject({ ipTimeout: DAY_MS, pollInterval: 500 });
  });

  it('takes term-end dates, past ones included (a config outlives a term)', () => {
    expect(parse({ lease: { until: ['2020-01-31', '2027-01-31', '2027-06-15'], graceDays: 0, autoRenewals: 0 } }).lease).toEqual({
      until: ['2020-01-31', '2027-01-31', '2027-06-15'],
      reminders: [7 * DAY_MS, 3 * DAY_MS, DAY_MS, 0],
      autoRenewals: 0,
      graceDays: 0,
    });
  });

  it('takes both default and until (until first, default once the dates run out)', () => {
    expect(parse({ lease: { default: '30d', until: ['2027-01-31'] } }).lease).toMatchObject({ default: 30 * DAY_MS, until: ['2027-01-31'] });
  });

  it('refuses a lease section that says neither how long nor until when', () => {
    expect(problems({ lease: { graceDays: 3 } })).toEqual([
      'policy.lease: set policy.lease.default (e.g. 90d) or policy.lease.until (term-end dates), or leave policy.lease out so that VMs never expire',
    ]);
  });

  it('refuses bad dates, dates out of order, and an empty date list', () => {
    expect(problems({ lease: { until: ['2027-02-30', '31.01.2027', '2027-06-15', '2027-06-15', '2027-01-31'] } })).toEqual([
      'policy.lease.until[0]: "2027-02-30" is not a date (expected YYYY-MM-DD, e.g. 2027-01-31)',
      'policy.lease.until[1]: "31.01.2027" is not a date (expected YYYY-MM-DD, e.g. 2027-01-31)',
      'policy.lease.until[3]: 2027-06-15 is not after 2027-06-15: list the dates in order, each once',
      'policy.lease.until[4]: 2027-01-31 is not after 2027-06-15: list the dates in order, each once',
    ]);
    expect(problems({ lease: { until: [] } })).toEqual(['policy.lease.until: list at least one date, or leave until out']);
  });

  it('refuses a reminder that is not within the lease, and a lease shorter than an hour', () => {
    expect(problems({ lease: { default: '5d', reminders: ['7d', '5d', '1d'] } })).toEqual([
      'policy.lease.reminders[0]: 7d before expiry is not within the lease (policy.lease.default is 5d): make the reminder shorter or the lease longer',
      'policy.lease.reminders[1]: 5d before expiry is not within the lease (policy.lease.default is 5d): make the reminder shorter or the lease longer',
    ]);
    expect(problems({ lease: { default: '10m', reminders: [] } })).toEqual(['policy.lease.default: 10m is too short for a lease: give at least 1h (e.g. 90d)']);
  });

  it('refuses negative and malformed values, and unknown keys', () => {
    const issues = problems({ lease: { default: '-3d', reminders: ['1w'], autoRenewals: -1, graceDays: 1.5, renewals: 2 } });
    expect(issues).toEqual([
      expect.stringMatching(/^policy\.lease\.default: .*"-3d" is not a duration/),
      'policy.lease.reminders[0]: "1w" is not a reminder offset (expected e.g. 7d, 12h, or 0 for the expiry itself)',
      expect.stringMatching(/^policy\.lease\.autoRenewals: .*>=0/),
      expect.stringMatching(/^policy\.lease\.graceDays: .*expected int/),
      expect.stringMatching(/^policy\.lease: unknown key\(s\) "renewals"/),
    ]);
    expect(problems({ lease: { default: '90d', reminders: [-1] } })).toEqual([expect.stringMatching(/^policy\.lease\.reminders\[0\]: .*>=0/)]);
  });
});

describe('policy.quota', () => {
  it('reads member-wide limits and group overrides', () => {
    const policy = parse({ quota: { vms: 3, cpu: 12000, memory: 8192, groups: [{ group: 'S0123ABC', vms: 5 }, { group: '100000000000000009', cpu: 24000, memory: 16384 }] } });
    expect(policy.quota).toEqual({ vms: 3, cpu: 12000, memory: 8192, groups: [{ group: 'S0123ABC', vms: 5 }, { group: '100000000000000009', cpu: 24000, memory: 16384 }] });
  });

  it('refuses policy.maxVmsPerMember together with policy.quota.vms, naming both', () => {
    expect(problems({ maxVmsPerMember: 2, quota: { vms: 3 } })).toEqual([
      'policy.maxVmsPerMember: policy.maxVmsPerMember and policy.quota.vms are both set: they mean the same; keep policy.quota.vms and remove policy.maxVmsPerMember',
    ]);
    // maxVmsPerMember alone keeps working.
    expect(parse({ maxVmsPerMember: 2 }).maxVmsPerMember).toBe(2);
  });

  it('refuses negative or fractional limits and a group override without its group', () => {
    expect(problems({ quota: { cpu: -1, memory: 1.5, groups: [{ vms: 1 }] } })).toEqual([
      expect.stringMatching(/^policy\.quota\.cpu: .*>=0/),
      expect.stringMatching(/^policy\.quota\.memory: .*expected int/),
      expect.stringMatching(/^policy\.quota\.groups\[0\]\.group: .*required/),
    ]);
  });

  it('refuses a group given twice and an override that sets nothing', () => {
    expect(problems({ quota: { groups: [{ group: 'S1', vms: 2 }, { group: 'S1', cpu: 4000 }, { group: 'S2' }] } })).toEqual([
      'policy.quota.groups[1].group: "S1" has two overrides: merge them into one entry',
      'policy.quota.groups[2]: this override sets none of vms, cpu, memory: add the limits this group gets, or remove the entry',
    ]);
  });
});
