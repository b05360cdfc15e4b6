// Quotas by resources (issue 12): the request form refuses what would go over the member's
// quota (their live VMs and pending requests), naming the limit and the use, on the size
// field for CPU and memory and without a field for the VM count; group overrides raise
// it; a deleted (or denied) request frees it; the older policy.maxVmsPerMember still works.
// Default sizes: small 2000 MHz / 2048 MiB, medium 6000 / 4096, large 12000 / 8192.
import { afterEach, describe, expect, it } from 'vitest';
import type { ConfigInput } from '../../../src/config/schema.js';
import type { Actor } from '../../../src/domain/request.js';
import { startHarness, type Harness } from '../../support/harness.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

async function withPolicy(policy: Partial<ConfigInput['policy']>): Promise<Harness> {
  h = await startHarness({ config: { policy } as Partial<ConfigInput> });
  return h;
}

async function submit(harness: Harness, name: string, size: string, actor: Actor = harness.member()) {
  return harness.core.workflow.submitRequest(actor, harness.input({ name, size }));
}

async function submitted(harness: Harness, name: string, size: string, actor?: Actor): Promise<string> {
  const r = await submit(harness, name, size, actor);
  if (!r.ok) throw new Error(`submit refused: ${JSON.stringify(r.problems)}`);
  return r.value.requestId;
}

describe('quota in the request form', () => {
  it('refuses CPU over the quota on the size field, naming the limit and the use; a smaller size fits', async () => {
    const harness = await withPolicy({ quota: { cpu: 8000 } });
    await submitted(harness, 'first', 'medium');

    const refused = await submit(harness, 'second', 'medium');
    expect(refused).toEqual({
      ok: false,
      problems: [{ code: 'quota_exceeded', field: 'size', message: 'This would use 12000 of your 8000 MHz of CPU (you have 1 VM using 6000 MHz): choose a smaller size or delete a VM.' }],
    });
    expect(await harness.core.store.requests.findLiveByName('second')).toBeUndefined();

    const smaller = await submit(harness, 'second', 'small');
    expect(smaller.ok).toBe(true);
  });

  it('refuses memory over the quota on the size field', async () => {
    const harness = await withPolicy({ quota: { memory: 6144 } });
    await submitted(harness, 'first', 'medium');
    const refused = await submit(harness, 'second', 'medium');
    expect(refused.ok).toBe(false);
    if (refused.ok) return;
    expect(refused.problems).toEqual([
      { code: 'quota_exceeded', field: 'size', message: 'This would use 8192 of your 6144 MiB of memory (you have 1 VM using 4096 MiB): choose a smaller size or delete a VM.' },
    ]);
  });

  it('refuses a VM over the count without a field (a smaller size would not help)', async () => {
    const harness = await withPolicy({ quota: { vms: 1 } });
    await submitted(harness, 'first', 'small');
    const refused = await submit(harness, 'second', 'small');
    expect(refused).toEqual({ ok: false, problems: [{ code: 'quota_exceeded', message: 'You have 1 VM and your limit is 1: delete one you no longer need, then ask again.' }] });
    // Another member has a quota of their own.
    expect((await submit(harness, 'other', 'small', harness.member('U2'))).ok).toBe(true);
  });

  it('policy.maxVmsPerMember keeps working as the VM limit', async () => {
    const harness = await withPolicy({ maxVmsPerMember: 2 });
    await submitted(harness, 'one', 'large');
    await submitted(harness, 'two', 'large');
    const refused = await submit(harness, 'three', 'small');
    expect(refused.ok).toBe(false);
    if (refused.ok) return;
    expect(refused.problems).toEqual([{ code: 'quota_exceeded', message: 'You have 2 VMs and your limit is 2: delete one you no longer need, then ask again.' }]);
  });

  it('a group override raises the limit for the members of that group only', async () => {
    const harness = await withPolicy({ quota: { vms: 1, cpu: 4000, groups: [{ group: 'S0STAFF', vms: 3, cpu: 20000 }] } });
    const staff: Actor = { platform: 'slack', userId: 'USTAFF', groups: ['S0STAFF'] };
    await submitted(harness, 'staff-1', 'medium', staff);
    await submitted(harness, 'staff-2', 'medium', staff);
    const third = await submit(harness, 'staff-3', 'large', staff);
    expect(third.ok).toBe(false);
    if (!third.ok) expect(third.problems).toEqual([{ code: 'quota_exceeded', field: 'size', message: 'This would use 24000 of your 20000 MHz of CPU (you have 2 VMs using 12000 MHz): choose a smaller size or delete a VM.' }]);
    expect((await submit(harness, 'staff-3', 'small', staff)).ok).toBe(true);

    // Without the group: the member-wide limits.
    const member = harness.member();
    const big = await submit(harness, 'member-1', 'medium', member);
    expect(big.ok).toBe(false);
    if (!big.ok) expect(big.problems[0]).toMatchObject({ field: 'size', message: expect.stringContaining('of your 4000 MHz of CPU') });
    await submitted(harness, 'member-1', 'small', member);
    expect((await submit(harness, 'member-2', 'small', member)).ok).toBe(false);
  });

  it('a deleted VM and a denied or cancelled request free the quota', async () => {
    const harness = await withPolicy({ quota: { vms: 1 } });
    const { workflow } = harness.core;
    const first = await submitted(harness, 'first', 'small');
    expect((await workflow.approve(harness.admin(), first)).ok).toBe(true);
    await harness.inState(first, 'running');
    expect((await submit(harness, 'second', 'small')).ok).toBe(false);

    expect((await workflow.delete(harness.member(), 'first')).ok).toBe(true);
    await harness.inState(first, 'deleted');
    const second = await submitted(harness, 'second', 'small');

    expect((await workflow.deny(harness.admin(), second, 'not this term')).ok).toBe(true);
    const third = await submitted(harness, 'third', 'small');
    expect((await workflow.cancel(harness.member(), 'third')).ok).toBe(true);
    expect((await harness.core.store.requests.get(third))?.state).toBe('cancelled');
    expect((await submit(harness, 'fourth', 'small')).ok).toBe(true);
  });

  it('no quota configured: any number of VMs, and the cards say nothing about quotas', async () => {
    const harness = await withPolicy({});
    for (const name of ['a1', 'a2', 'a3', 'a4']) await submitted(harness, name, 'large');
    const fifth = await submit(harness, 'a5', 'large');
    expect(fifth.ok).toBe(true);
    if (fifth.ok) expect((await harness.core.workflow.card(fifth.value.requestId))?.quota).toBeUndefined();
  });
});

describe('quota on the admin card', () => {
  it('shows the requester\'s use before this request against their quota, with their group\'s override, while it waits', async () => {
    const harness = await withPolicy({ quota: { vms: 1, cpu: 4000, groups: [{ group: 'S0STAFF', vms: 3, cpu: 20000 }] } });
    const staff: Actor = { platform: 'slack', userId: 'USTAFF', groups: ['S0STAFF'] };
    await submitted(harness, 'staff-1', 'medium', staff);
    const second = await submitted(harness, 'staff-2', 'medium', staff);
    // The groups were recorded with the request: the card, drawn later from the store, knows them.
    expect((await harness.core.store.requests.get(second))?.requesterGroups).toEqual(['S0STAFF']);
    expect((await harness.core.workflow.card(second))?.quota).toBe('1 of 3 VMs, 6000/20000 MHz, 4096 MiB');

    const member = await submitted(harness, 'member-1', 'small');
    expect((await harness.core.workflow.card(member))?.quota).toBe('0 of 1 VM, 0/4000 MHz, 0 MiB');

    // Decided: the line has done its job.
    expect((await harness.core.workflow.deny(harness.admin(), second, 'one is enough')).ok).toBe(true);
    expect((await harness.core.workflow.card(second))?.quota).toBeUndefined();
  });
});
