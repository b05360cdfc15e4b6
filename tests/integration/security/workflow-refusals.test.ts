// DESIGN §4 at the workflow, the one place that decides: every refused press leaves an audit
// row naming who and why — including a press naming a request that does not exist (a forged
// button value or custom_id: vmbot never draws a button for an id it did not store).
import { afterEach, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../../support/harness.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

describe('security: refusals are decided and audited by the workflow', () => {
  it('approve, deny and retry of an unknown request id are refused and audited, for members and admins alike', async () => {
    h = await startHarness();
    const wf = h.core.workflow;
    const forged = 'r_forged_0001';
    const outcomes = [
      ['approve', await wf.approve(h.member('U2'), forged)],
      ['deny', await wf.deny(h.member('U2'), forged, 'no')],
      ['retry', await wf.retry(h.admin(), forged)],
    ] as const;
    for (const [verb, result] of outcomes) {
      expect(!result.ok && result.problems[0]?.code, verb).toBe('not_found');
    }
    const rows = (await h.core.store.audit.list({ limit: 20 })).filter((a) => a.action.endsWith('_refused'));
    expect(rows.map((a) => [a.action, a.actor.userId]).sort()).toEqual([
      ['approve_refused', 'U2'],
      ['deny_refused', 'U2'],
      ['retry_refused', 'UADMIN1'],
    ]);
    expect(rows.every((a) => a.detail?.startsWith('not_found') && a.detail.includes(forged))).toBe(true);
  });

  it('every use case refuses a member acting on another member’s request, with an audit row per refusal', async () => {
    h = await startHarness();
    const wf = h.core.workflow;
    const sent = await wf.submitRequest(h.member('U1'), h.input({ name: 'sec-owned' }));
    if (!sent.ok) throw new Error(JSON.stringify(sent.problems));
    const id = sent.value.requestId;
    const intruder = h.member('U2');
    // The same user id on another platform is someone else too.
    const lookalike = h.member('U1', 'discord');
    const attempts = [
      ['approve', () => wf.approve(intruder, id)],
      ['deny', () => wf.deny(intruder, id, 'mine now')],
      ['retry', () => wf.retry(intruder, id)],
      ['cancel', () => wf.cancel(intruder, id)],
      ['delete', () => wf.delete(intruder, id)],
      ['ip', () => wf.ip(intruder, 'sec-owned')],
      ['status', () => wf.status(intruder, 'sec-owned')],
      ['cancel', () => wf.cancel(lookalike, 'sec-owned')],
      ['status', () => wf.status(lookalike, id)],
    ] as const;
    for (const [verb, attempt] of attempts) {
      const result = await attempt();
      expect(!result.ok && result.problems[0]?.code, verb).toBe('forbidden');
    }
    const refused = (await h.core.store.audit.list({ requestId: id })).filter((a) => a.action.endsWith('_refused'));
    expect(refused).toHaveLength(attempts.length);
    expect(refused.map((a) => a.action).sort()).toEqual(attempts.map(([verb]) => `${verb}_refused`).sort());
    expect((await h.core.store.requests.get(id))?.state).toBe('pending');
  });
});
