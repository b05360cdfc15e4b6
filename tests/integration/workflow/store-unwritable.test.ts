// Issue 11: a write that fails mid-provisioning with SQLITE_FULL must not leave the request
// in `provisioning` with nobody told. The member hears at once ('delayed'), vmbot keeps
// trying to record the failure, and once the disk has room again the request is `failed`
// (store_unwritable) with Retry on the admins' card; Retry then brings the VM up.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { startHarness, RecordingSurface, type Harness } from '../../support/harness.js';

let h: Harness | undefined;
afterEach(async () => {
  vi.restoreAllMocks();
  await h?.close();
  h = undefined;
});

function sqliteFull(): Error {
  return Object.assign(new Error('SQLITE_FULL: database or disk is full'), { code: 'SQLITE_FULL', errno: 13 });
}

describe('the database refuses writes mid-provisioning', () => {
  it('member told at once, failure recorded once writes work again, Retry → running', async () => {
    let full = false;
    h = await startHarness({
      hooks: {
        step: (step) => {
          // The disk fills up right after approved → provisioning was written.
          if (step === 'after_provisioning') full = true;
        },
      },
    });
    const { store } = h.core;
    const update = store.requests.update.bind(store.requests);
    const transition = store.requests.transition.bind(store.requests);
    vi.spyOn(store.requests, 'update').mockImplementation((...args) => (full ? Promise.reject(sqliteFull()) : update(...args)));
    vi.spyOn(store.requests, 'transition').mockImplementation((...args) => (full ? Promise.reject(sqliteFull()) : transition(...args)));
    const surface = new RecordingSurface('slack');
    h.core.workflow.attachSurface(surface);

    const submitted = await h.core.workflow.submitRequest(h.member(), h.input({ name: 'full-disk' }));
    if (!submitted.ok) throw new Error(JSON.stringify(submitted.problems));
    const id = submitted.value.requestId;
    expect((await h.core.workflow.approve(h.admin(), id)).ok).toBe(true);

    // Told while the request is still stuck in provisioning (nothing could be written).
    const notice = await h.waitFor(() => surface.noticesFor(id).find((n) => n.kind === 'delayed'), { what: 'the delayed notice' });
    expect(notice).toMatchObject({ kind: 'delayed', name: 'full-disk', reason: expect.stringContaining('vmbot could not save its progress') });
    expect((await store.requests.get(id))?.state).toBe('provisioning');
    expect(h.sim.control.registrations('uservm-full-disk')).toBe(0);

    // Room again: the failure lands on its own, without a second notice to the member.
    full = false;
    const failed = await h.inState(id, 'failed', 15_000);
    expect(failed.failure).toMatchObject({ code: 'store_unwritable', message: expect.stringContaining('the disk holding the database is full') });
    const card = await h.waitFor(() => surface.drawsFor(id).find((c) => c.state === 'failed'), { what: 'the failed card' });
    expect(card.actions.map((a) => a.kind)).toContain('retry');
    expect(surface.noticesFor(id).filter((n) => n.kind === 'delayed')).toHaveLength(1);

    expect((await h.core.workflow.retry(h.admin(), id)).ok).toBe(true);
    const running = await h.inState(id, 'running', 15_000);
    expect(running.failure).toBeNull();
  }, 30_000);
});
