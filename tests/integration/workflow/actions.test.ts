// Workflow.act and canAct, the one entry point every adapter's button press goes through:
// act runs the kind's use case; canAct answers "may I?" with the same checks and the same
// audited refusal, and changes nothing; an unknown kind is refused and recorded.
import { afterEach, describe, expect, it } from 'vitest';
import { ACTION_KINDS, type ActionKind } from '../../../src/workflow/views.js';
import { startHarness, type Harness } from '../../support/harness.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

async function pending(harness: Harness, name: string): Promise<string> {
  const sent = await harness.core.workflow.submitRequest(harness.member('U1'), harness.input({ name }));
  if (!sent.ok) throw new Error(JSON.stringify(sent.problems));
  return sent.value.requestId;
}

describe('workflow: act and canAct', () => {
  it('canAct refuses a stranger for every kind with the audit row act would write, and changes nothing', async () => {
    h = await startHarness();
    const id = await pending(h, 'act-strange');
    const refused: ActionKind[] = [];
    for (const kind of ACTION_KINDS) {
      const answer = await h.core.workflow.canAct(h.member('U2'), { kind, requestId: id });
      if (!answer.ok) refused.push(kind);
    }
    // U2 owns nothing and is no admin: no action on U1's request is theirs.
    expect(refused).toEqual([...ACTION_KINDS]);
    const rows = (await h.core.store.audit.list({ requestId: id })).filter((a) => a.action.endsWith('_refused'));
    expect(rows.map((a) => a.action).sort()).toEqual(ACTION_KINDS.map((k) => `${k}_refused`).sort());
    expect((await h.core.store.requests.get(id))?.state).toBe('pending');
  });

  it('canAct lets an admin deny before the reason is asked; act then needs the reason and denies', async () => {
    h = await startHarness();
    const wf = h.core.workflow;
    const id = await pending(h, 'act-deny');
    const allowed = await wf.canAct(h.admin(), { kind: 'deny', requestId: id });
    expect(allowed.ok && allowed.value.name).toBe('act-deny');
    expect((await h.core.store.requests.get(id))?.state).toBe('pending');
    const noReason = await wf.act(h.admin(), { kind: 'deny', requestId: id });
    expect(!noReason.ok && noReason.problems[0]).toMatchObject({ code: 'reason_required', field: 'reason' });
    const denied = await wf.act(h.admin(), { kind: 'deny', requestId: id, reason: 'no room this term' });
    expect(denied.ok && denied.value.state).toBe('denied');
    // The same checks as act: now that it is decided, Deny is no longer allowed.
    const again = await wf.canAct(h.admin(), { kind: 'deny', requestId: id });
    expect(!again.ok && again.problems[0]?.code).toBe('wrong_state');
  });

  it('act runs the kind’s use case: cancel by the owner, by request id or VM name', async () => {
    h = await startHarness();
    const wf = h.core.workflow;
    await pending(h, 'act-cancel');
    const cancelled = await wf.act(h.member('U1'), { kind: 'cancel', requestId: 'act-cancel' });
    expect(cancelled.ok && cancelled.value.state).toBe('cancelled');
  });

  it('refuses and records a kind it does not know', async () => {
    h = await startHarness();
    const id = await pending(h, 'act-unknown');
    const forged = { kind: 'launch', requestId: id } as unknown as Parameters<typeof h.core.workflow.act>[1];
    const answer = await h.core.workflow.act(h.admin(), forged);
    expect(!answer.ok && answer.problems[0]?.code).toBe('not_found');
    const checked = await h.core.workflow.canAct(h.admin(), forged);
    expect(checked.ok).toBe(false);
    const rows = (await h.core.store.audit.list({ limit: 20 })).filter((a) => a.action === 'action_refused');
    expect(rows).toHaveLength(2);
    expect(rows[0]!.detail).toContain('"launch"');
    expect((await h.core.store.requests.get(id))?.state).toBe('pending');
  });
});
