// Host keys that come late (issue 12): cloud-init prints the address in its `init` stage and
// the SSH host keys only at the end of `modules:final`, which package installs or runcmd
// can hold up for minutes. The up notice goes out with the address (after nomad.hostKeyWait)
// without the keys; the console is still read for them until nomad.hostKeysTimeout, and
// they come as ONE follow-up notice ('host_keys'), stored on the request. The sim holds a
// boot in its final stage (holdFinalStage) until the test releases it: no timing involved.
import { afterEach, describe, expect, it } from 'vitest';
import type { ConfigInput } from '../../../src/config/schema.js';
import type { Workflow } from '../../../src/workflow/workflow.js';
import { startSimCluster } from '../../../src/nomad/sim/index.js';
import { noticeWording, plainText } from '../../../src/workflow/notices.js';
import { startHarness, RecordingSurface, type Harness } from '../../support/harness.js';
import { makeTempDir } from '../../support/tmp.js';

let h: Harness | undefined;
const open: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  await h?.close();
  h = undefined;
  for (const o of open.splice(0).reverse()) await o.close();
});

const JOB = 'uservm-my-vm';
// hostKeyWait is also how long fingerprints wait for the keys block printed right after them:
// long enough that a slow event loop never splits the two.
const config = (hostKeysTimeout: number) => ({ nomad: { hostKeyWait: 500, hostKeysTimeout } }) as Partial<ConfigInput>;

/** A VM whose boot stops in cloud-init's final stage (before the keys): up, with its up notice. */
async function upWithoutKeys(harness: Harness, surface: RecordingSurface) {
  harness.sim.control.holdFinalStage(JOB);
  const submitted = await harness.core.workflow.submitRequest(harness.member(), harness.input());
  if (!submitted.ok) throw new Error(`submit refused: ${JSON.stringify(submitted.problems)}`);
  const id = submitted.value.requestId;
  const approved = await harness.core.workflow.approve(harness.admin(), id);
  if (!approved.ok) throw new Error(`approve refused: ${JSON.stringify(approved.problems)}`);
  const running = await harness.inState(id, 'running');
  const up = await harness.waitFor(() => surface.noticesFor(id).find((n) => n.kind === 'up'), { what: 'the up notice' });
  return { id, running, up };
}

const watching = (harness: Harness, id: string) => (harness.core.workflow as Workflow).lifecycle.watcher.isWatching(id);
const hostKeyNotices = (surface: RecordingSurface, id: string) => surface.noticesFor(id).filter((n) => n.kind === 'host_keys');
const auditActions = async (harness: Harness, id: string) => (await harness.core.store.audit.list({ requestId: id })).map((a) => a.action);

describe('host keys printed after the up notice', () => {
  it('the up notice goes without them; once printed they are stored and sent in one follow-up with exactly the printed fingerprints', async () => {
    h = await startHarness({ config: config(60_000) });
    const surface = new RecordingSurface('slack');
    h.core.workflow.attachSurface(surface);
    const { id, running, up } = await upWithoutKeys(h, surface);
    expect(up.kind === 'up' && up.hostKeys).toBeFalsy();
    expect(plainText(noticeWording(up))).toContain('SSH host keys were not on the console yet');
    expect(running.hostKeys).toBeNull();
    // Up, and still read for its keys.
    expect(watching(h, id)).toBe(true);
    expect(hostKeyNotices(surface, id)).toEqual([]);

    h.sim.control.releaseFinalStage(JOB);
    const followUp = await h.waitFor(() => hostKeyNotices(surface, id)[0], { what: 'the host keys follow-up' });
    const printed = h.sim.control.hostKeysOf(running.allocId!)!;
    expect(printed.length).toBe(3);
    const ipv4 = running.address!.ipv4!;
    expect(followUp).toEqual({
      kind: 'host_keys',
      requestId: id,
      name: 'my-vm',
      hostKeys: {
        fingerprints: printed.map((k) => ({ type: k.label, fingerprint: k.fingerprint })),
        knownHosts: printed.map((k) => `${ipv4} ${k.type} ${k.blob}`),
      },
    });
    const text = plainText(noticeWording(followUp));
    expect(text).toMatch(/^Host keys of my-vm: /);
    for (const key of printed) expect(text).toContain(`${key.label} ${key.fingerprint}`);

    // Stored on the request, audited, and the watch is over: nothing can send them again.
    await h.waitFor(() => !watching(h!, id), { what: 'the watch to end' });
    const stored = await h.core.store.requests.get(id);
    expect(stored).toMatchObject({ state: 'running' });
    expect(stored?.hostKeys?.map((k) => k.fingerprint)).toEqual(printed.map((k) => k.fingerprint));
    expect((await auditActions(h, id)).filter((a) => a === 'host_keys_late')).toHaveLength(1);
    expect(hostKeyNotices(surface, id)).toHaveLength(1);
    expect(surface.noticesFor(id).filter((n) => n.kind === 'up')).toHaveLength(1);
  });

  it('keys never printed: no follow-up, and the watch ends at nomad.hostKeysTimeout', async () => {
    h = await startHarness({ config: config(300) });
    const surface = new RecordingSurface('slack');
    h.core.workflow.attachSurface(surface);
    const { id } = await upWithoutKeys(h, surface);

    await h.waitFor(() => !watching(h!, id), { what: 'the watch to end at its deadline' });
    expect(hostKeyNotices(surface, id)).toEqual([]);
    const stored = await h.core.store.requests.get(id);
    expect(stored).toMatchObject({ state: 'running', hostKeys: null });
    expect(await auditActions(h, id)).not.toContain('host_keys_late');
  });

  it('the VM deleted while its keys are awaited: the watch ends and nothing is sent', async () => {
    h = await startHarness({ config: config(60_000) });
    const surface = new RecordingSurface('slack');
    h.core.workflow.attachSurface(surface);
    const { id } = await upWithoutKeys(h, surface);
    expect(watching(h, id)).toBe(true);

    const deleted = await h.core.workflow.delete(h.member(), 'my-vm');
    expect(deleted.ok).toBe(true);
    expect(watching(h, id)).toBe(false);
    await h.inState(id, 'deleted');
    await h.waitFor(() => surface.noticesFor(id).find((n) => n.kind === 'deleted'), { what: 'the deleted notice' });
    expect(hostKeyNotices(surface, id)).toEqual([]);
    expect((await h.core.store.requests.get(id))?.hostKeys).toBeNull();
  });

  it('the VM stopped while its keys are awaited: the watch ends, nothing is sent', async () => {
    h = await startHarness({ config: config(60_000) });
    const surface = new RecordingSurface('slack');
    h.core.workflow.attachSurface(surface);
    const { id } = await upWithoutKeys(h, surface);

    const stopped = await h.core.workflow.stop(h.member(), 'my-vm');
    expect(stopped.ok).toBe(true);
    expect(watching(h, id)).toBe(false);
    h.sim.control.releaseFinalStage(JOB);
    expect(hostKeyNotices(surface, id)).toEqual([]);
    expect(await h.core.store.requests.get(id)).toMatchObject({ state: 'stopped', hostKeys: null });
  });
});

describe('a restart while the keys are awaited', () => {
  const T0 = Date.parse('2027-01-10T09:00:00.000Z');
  /** Two cores, one after the other, on one database and one cluster; the clock is the workflow's. */
  async function restarted(secondAt: number) {
    const sim = await startSimCluster({ bootDelayMs: 50 });
    open.push(sim);
    const temp = await makeTempDir('late-keys-restart');
    open.push({ close: temp.cleanup });
    let t = T0;
    const now = () => new Date(t);
    const first = await startHarness({ config: config(60_000), dir: temp.dir, simCluster: sim, workflow: { now } });
    open.push(first);
    const firstSurface = new RecordingSurface('slack');
    first.core.workflow.attachSurface(firstSurface);
    const { id, running } = await upWithoutKeys(first, firstSurface);
    await first.close();

    t = secondAt;
    const second = await startHarness({ config: config(60_000), dir: temp.dir, simCluster: sim, workflow: { now } });
    open.push(second);
    const surface = new RecordingSurface('slack');
    second.core.workflow.attachSurface(surface);
    await second.core.workflow.resume();
    return { sim, second, surface, id, running };
  }

  it('inside the window: the new core reads the console again and sends the one follow-up', async () => {
    const { sim, second, surface, id, running } = await restarted(T0 + 30_000);
    expect(watching(second, id)).toBe(true);
    sim.control.releaseFinalStage(JOB);
    const followUp = await second.waitFor(() => hostKeyNotices(surface, id)[0], { what: 'the follow-up after the restart' });
    const printed = sim.control.hostKeysOf(running.allocId!)!;
    expect(followUp.kind === 'host_keys' && followUp.hostKeys.fingerprints.map((f) => f.fingerprint)).toEqual(printed.map((k) => k.fingerprint));
    await second.waitFor(() => !watching(second, id), { what: 'the watch to end' });
    expect(hostKeyNotices(surface, id)).toHaveLength(1);
    expect((await second.core.store.requests.get(id))?.hostKeys?.map((k) => k.fingerprint)).toEqual(printed.map((k) => k.fingerprint));
  });

  it('after the window: the new core does not watch for them, and sends nothing', async () => {
    const { second, surface, id } = await restarted(T0 + 61_000);
    expect(watching(second, id)).toBe(false);
    expect(hostKeyNotices(surface, id)).toEqual([]);
    expect(await second.core.store.requests.get(id)).toMatchObject({ state: 'running', hostKeys: null });
  });
});
