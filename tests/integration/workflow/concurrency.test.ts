// Events are idempotent: 100 requests approved at once, each approval delivered twice (by
// two admins), make exactly 100 decisions, 100 jobs (one registration each) and 100
// distinct MACs. The conditional transition in the store decides every race.
import { afterEach, expect, it } from 'vitest';
import { startHarness, type Harness } from '../../support/harness.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

it('100 concurrent approvals plus 100 duplicates → 100 jobs and 100 distinct MACs', async () => {
  // A loaded CI machine can take a while for 100 boots; the ip timeout must not be what ends them.
  h = await startHarness({ config: { nomad: { ipTimeout: 120_000 } } });
  const harness = h;
  const ids: string[] = [];
  for (let i = 0; i < 100; i++) {
    const r = await harness.core.workflow.submitRequest(harness.member(`U${i % 7}`), harness.input({ name: `vm-${i}` }));
    if (!r.ok) throw new Error(JSON.stringify(r.problems));
    ids.push(r.value.requestId);
  }
  const results = await Promise.all(ids.flatMap((id) => [harness.core.workflow.approve(harness.admin('UADMIN1'), id), harness.core.workflow.approve(harness.admin('UADMIN2'), id)]));
  expect(results.filter((r) => r.ok)).toHaveLength(100);
  const losers = results.filter((r) => !r.ok);
  expect(losers).toHaveLength(100);
  for (const loser of losers) expect(!loser.ok && loser.problems[0]!.code).toBe('wrong_state');

  const running = await harness.waitFor(
    async () => {
      const all = await harness.core.store.requests.list({ states: ['running'] });
      return all.length === 100 ? all : undefined;
    },
    { what: '100 VMs running', timeoutMs: 90_000 },
  );
  expect(new Set(running.map((r) => r.mac)).size).toBe(100);
  // Addresses are whatever the (simulated) router leases; each VM got one.
  for (const r of running) expect(r.address?.ipv4).toMatch(/^10\.10\.0\.\d+$/);
  const jobs = harness.sim.control.jobs().filter((j) => j.id.startsWith('uservm-vm-'));
  expect(jobs).toHaveLength(100);
  for (const id of ids) expect(harness.sim.control.registrations(running.find((r) => r.id === id)!.jobId!)).toBe(1);
  const approvals = await Promise.all(ids.map((id) => harness.core.store.audit.list({ requestId: id })));
  for (const rows of approvals) expect(rows.filter((a) => a.action === 'approve')).toHaveLength(1);
  expect((await harness.core.store.macs.usage()).used).toBe(100);
}, 120_000);
