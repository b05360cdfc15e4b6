// Every action kind of src/workflow/views.ts, pressed on Slack, reaches workflow.act (after
// canAct and the reason modal for kinds that need a reason): no kind can be drawn and then
// silently dropped by the handlers. Iterates ACTION_KINDS, so a new kind is covered here.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { actionFor } from '../../../../src/workflow/cards.js';
import type { VmWorkflow } from '../../../../src/workflow/api.js';
import { ACTION_KINDS, ACTIONS, type ActionCommand } from '../../../../src/workflow/views.js';
import { ADMIN1, ADMIN_CHANNEL, MEMBER, startSlackWorld, type SlackWorld } from './world.js';

type Recorded = { method: 'act' | 'canAct'; command: Partial<ActionCommand> };

/** The real workflow, with its act/canAct calls recorded. */
function recording(workflow: VmWorkflow, calls: Recorded[]): VmWorkflow {
  return new Proxy(workflow, {
    get(target, prop) {
      if (prop === 'act' || prop === 'canAct') {
        return (actor: Parameters<VmWorkflow['act']>[0], command: ActionCommand) => {
          calls.push({ method: prop, command });
          return target[prop](actor, command);
        };
      }
      const value: unknown = Reflect.get(target, prop);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

describe('Slack: every action kind is routed to the workflow', () => {
  let w: SlackWorld;
  const calls: Recorded[] = [];
  beforeAll(async () => {
    w = await startSlackWorld({ mode: 'http', wrapWorkflow: (workflow) => recording(workflow, calls) });
  });
  afterAll(async () => {
    await w.close();
  });

  it.each(ACTION_KINDS.map((kind) => [kind]))('a press of %s reaches workflow.act', async (kind) => {
    const name = `route-${kind.replaceAll('_', '-')}`;
    expect((await w.request(MEMBER, { name })).status).toBe(200);
    const requestId = await w.requestId(name);
    const card = (await w.h.core.workflow.card(requestId))!;
    // A card carrying this kind's button, drawn by the adapter as any card is.
    const ref = await w.adapter.drawCard({ ...card, actions: [actionFor(kind, requestId)], version: card.version + 100 }, undefined);
    const ts = ref.slice(ref.indexOf(':') + 1);
    const message = await w.double.waitFor(() => w.double.messagesIn(ADMIN_CHANNEL).find((m) => m.ts === ts), 5_000, 'the drawn card');
    calls.length = 0;
    const before = w.double.views.length;
    const press = await w.double.pressButton({ user: ADMIN1, message, actionId: `vm:${kind}`, confirmed: ACTIONS[kind].needs === 'confirmation' });
    expect(press.status).toBe(200);

    if (ACTIONS[kind].needs === 'reason') {
      await w.double.waitFor(() => calls.some((c) => c.method === 'canAct'), 5_000, 'canAct before the modal');
      expect(calls[0]).toEqual({ method: 'canAct', command: { kind, requestId } });
      const view = await w.double.waitFor(() => w.double.views.length > before && w.double.lastViewFor(ADMIN1), 5_000, 'the reason modal');
      expect(view.view['callback_id']).toBe(`vm:${kind}`);
      expect(calls.some((c) => c.method === 'act')).toBe(false);
      await w.double.submitView({ user: ADMIN1, view, values: { reason: 'routed by the test' } });
      await w.double.waitFor(() => calls.some((c) => c.method === 'act'), 5_000, 'act after the modal');
      expect(calls.find((c) => c.method === 'act')!.command).toEqual({ kind, requestId, reason: 'routed by the test' });
    } else {
      await w.double.waitFor(() => calls.some((c) => c.method === 'act'), 5_000, `act(${kind})`);
      expect(calls).toEqual([{ method: 'act', command: { kind, requestId } }]);
    }
  });

  it('routes a press of a notice’s button in the DM to workflow.act and answers there (no card is redrawn for it)', async () => {
    expect((await w.request(MEMBER, { name: 'route-dm' })).status).toBe(200);
    const requestId = await w.requestId('route-dm');
    await w.adapter.notifyMember({ platform: 'slack', userId: MEMBER }, { kind: 'requested', requestId, name: 'route-dm', actions: [actionFor('cancel', requestId)] });
    const dm = await w.double.waitFor(() => w.double.dmsTo(MEMBER).find((m) => JSON.stringify(m.blocks).includes('"vm:cancel"')), 5_000, 'the DM with its button');
    calls.length = 0;
    const answers = w.double.responseUrlPosts.length;
    expect((await w.double.pressButton({ user: MEMBER, message: dm, actionId: 'vm:cancel' })).status).toBe(200);
    const answer = await w.double.waitFor(() => w.double.responseUrlPosts.slice(answers).find((p) => p.user === MEMBER), 5_000, 'the answer in the DM');
    expect(calls).toEqual([{ method: 'act', command: { kind: 'cancel', requestId } }]);
    expect(JSON.stringify(answer.body)).toContain('is cancelled');
    expect((await w.h.core.store.requests.get(requestId))?.state).toBe('cancelled');
  });

  it('answers a press of a button vmbot does not know, instead of ignoring it', async () => {
    expect((await w.request(MEMBER, { name: 'route-unknown' })).status).toBe(200);
    const card = await w.card('route-unknown', (m) => JSON.stringify(m.blocks).includes('vm:approve'));
    // A card from a future (or forged) version: the same layout, a kind this vmbot lacks.
    const forged = { ...card, blocks: JSON.parse(JSON.stringify(card.blocks).replaceAll('"vm:approve"', '"vm:launch"')) as typeof card.blocks };
    calls.length = 0;
    const ephemerals = w.double.ephemeralsFor(ADMIN1).length;
    await w.double.pressButton({ user: ADMIN1, message: forged, actionId: 'vm:launch' });
    const answer = await w.double.waitFor(() => w.double.ephemeralsFor(ADMIN1).slice(ephemerals).find((m) => m.text.includes('not one vmbot knows')), 5_000, 'the answer');
    expect(answer.text).toContain('`/vm status`');
    expect(calls).toEqual([]);
  });
});
