// Cards redraw from the store's change events, not from calls the use cases must remember:
// a change written straight to the store (as `vmbot ip --refresh` does) redraws the card,
// and the watcher's per-read bookkeeping does not.
import { afterEach, describe, expect, it } from 'vitest';
import { RecordingSurface, startHarness, type Harness } from '../../support/harness.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

describe('card redraws follow the store', () => {
  it('a store update of what the card shows redraws it; the console offset alone does not', async () => {
    h = await startHarness();
    const surface = new RecordingSurface('slack');
    h.core.workflow.attachSurface(surface);
    const submitted = await h.core.workflow.submitRequest(h.member(), h.input({ name: 'redrawn' }));
    if (!submitted.ok) throw new Error(JSON.stringify(submitted.problems));
    const id = submitted.value.requestId;
    expect((await h.core.workflow.approve(h.admin(), id)).ok).toBe(true);
    const running = await h.inState(id, 'running');
    await h.waitFor(() => surface.drawsFor(id).find((c) => c.state === 'running'), { what: 'the running card' });

    // Bookkeeping first (no event, so nothing for the notifier to draw), then a visible change.
    const events: string[] = [];
    const stop = h.core.store.requests.onChange((req) => events.push(req.id));
    await h.core.store.requests.update(id, ['running'], { logOffset: running.logOffset + 10 });
    expect(events).toEqual([]);
    await h.core.store.requests.update(id, ['running'], { address: { ipv4: '10.99.0.7', ipv6: [], seenAt: new Date().toISOString() } });
    stop();
    expect(events).toEqual([id]);
    const redrawn = await h.waitFor(() => surface.drawsFor(id).find((c) => c.progress.some((p) => p.detail === '10.99.0.7')), { what: 'the card with the new address' });
    expect(redrawn.state).toBe('running');
  });
});
