// Provisioning failures shown on the card with a Retry button: an exhausted MAC pool, and
// Nomad down then back. Also a workflow too slow for Slack's 3-second form deadline.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { VmWorkflow } from '../../../../src/workflow/api.js';
import { ADMIN1, MEMBER, buttonsOf, cardText, startSlackWorld, type SlackWorld } from './world.js';

/** Holds submitRequest until the test opens the gate. */
function gated(workflow: VmWorkflow, gate: { wait?: Promise<void> }): VmWorkflow {
  return new Proxy(workflow, {
    get(target, prop) {
      if (prop === 'submitRequest') {
        return async (...args: Parameters<VmWorkflow['submitRequest']>) => {
          await gate.wait;
          return target.submitRequest(...args);
        };
      }
      const value: unknown = Reflect.get(target, prop);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

describe('Slack (HTTP mode): failures and Retry', () => {
  let w: SlackWorld;
  const gate: { wait?: Promise<void> } = {};
  beforeAll(async () => {
    // One usable MAC: the second VM finds the pool exhausted.
    w = await startSlackWorld({
      mode: 'http',
      harness: { config: { macPool: { ranges: ['52:54:84:ba:49:10-52:54:84:ba:49:10'], reserved: [] } } },
      adapter: { submitDeadlineMs: 300 },
      wrapWorkflow: (workflow) => gated(workflow, gate),
    });
  });
  afterAll(async () => {
    await w.close();
  });

  const approve = async (name: string) => {
    const card = await w.card(name, (m) => buttonsOf(m).includes('vm:approve'), `${name} pending`);
    await w.double.pressButton({ user: ADMIN1, message: card, actionId: 'vm:approve' });
  };

  it('pool exhausted: the card shows the failure and Retry; Retry works once a MAC is free', async () => {
    await w.request(MEMBER, { name: 'first' });
    await approve('first');
    await w.reach('first', 'running');

    await w.request(MEMBER, { name: 'second' });
    await approve('second');
    const failed = await w.card('second', (m) => buttonsOf(m).includes('vm:retry'), 'second failed with Retry');
    expect(cardText(failed)).toContain('pool_exhausted');
    await w.double.waitFor(() => w.double.dmsTo(MEMBER).find((m) => m.text.includes('second') && m.text.includes('delayed')), 5_000, 'the delayed DM');

    // Free the MAC: delete the first VM (confirmed), then Retry the second.
    const first = await w.card('first', (m) => buttonsOf(m).includes('vm:delete'));
    await w.double.pressButton({ user: ADMIN1, message: first, actionId: 'vm:delete', confirmed: true });
    await w.reach('first', 'deleted');
    await w.double.pressButton({ user: ADMIN1, message: failed, actionId: 'vm:retry' });
    await w.reach('second', 'running');
    await w.card('second', (m) => cardText(m).includes('ssh alice@'), 'second card with the address');
  });

  it('Nomad down: failure on the card; back up: Retry provisions the same job', async () => {
    await w.request(MEMBER, { name: 'third' });
    // The only MAC is held by "second"; delete it first so this one fails only on Nomad.
    const second = await w.card('second', (m) => buttonsOf(m).includes('vm:delete'));
    await w.double.pressButton({ user: ADMIN1, message: second, actionId: 'vm:delete', confirmed: true });
    await w.reach('second', 'deleted');

    w.h.sim.control.failRequests('always');
    await approve('third');
    const failed = await w.card('third', (m) => buttonsOf(m).includes('vm:retry'), 'third failed with Retry');
    expect(cardText(failed)).toMatch(/nomad_/);

    w.h.sim.control.failRequests('off');
    await w.double.pressButton({ user: ADMIN1, message: failed, actionId: 'vm:retry' });
    await w.reach('third', 'running');
    const req = await w.h.core.store.requests.get(await w.requestId('third'));
    expect(req?.jobId).toBe('uservm-third');
  });

  it('a form the workflow answers late is acked in time; the outcome follows as a card or a DM', async () => {
    let open!: () => void;
    gate.wait = new Promise((resolve) => (open = resolve));
    const valid = await w.request(MEMBER, { name: 'slow-ok' });
    // Acked empty (the modal closes) without waiting for the workflow.
    expect(valid).toEqual({ status: 200, body: '' });
    const dms = w.double.dmsTo(MEMBER).length;
    const invalid = await w.request(MEMBER, { name: 'Not Valid!' });
    expect(invalid).toEqual({ status: 200, body: '' });
    open();
    gate.wait = undefined;
    await w.card('slow-ok', () => true, 'the late card');
    const dm = await w.double.waitFor(() => w.double.dmsTo(MEMBER).slice(dms).find((m) => m.text.includes('was not sent')), 5_000, 'the DM with the problems');
    expect(dm.text).toContain('/vm request');
  });
});
