// "Never touch a job we do not own" (issue 11): deleting a request never stops or purges a
// Nomad job whose meta.vmbot_request is not that request's id, even under the request's
// own job id. The request still ends `deleted`; its MAC goes back to the pool unless the
// hand-made job uses it (then it is held as `external`, as pool sync would mark it).
import { afterEach, describe, expect, it } from 'vitest';
import { handMadeHcl } from '../../support/hand-made-job.js';
import { startHarness, RecordingSurface, type Harness } from '../../support/harness.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

async function approveNew(harness: Harness, name: string): Promise<string> {
  const result = await harness.core.workflow.submitRequest(harness.member(), harness.input({ name }));
  if (!result.ok) throw new Error(`submit refused: ${JSON.stringify(result.problems)}`);
  const approved = await harness.core.workflow.approve(harness.admin(), result.value.requestId);
  if (!approved.ok) throw new Error(`approve refused: ${JSON.stringify(approved.problems)}`);
  return result.value.requestId;
}

async function waitJobRunning(harness: Harness, jobId: string) {
  return harness.waitFor(() => harness.sim.control.jobs().find((j) => j.id === jobId && j.status === 'running'), { what: `${jobId} running` });
}

async function macHolder(harness: Harness, mac: string) {
  return (await harness.core.store.macs.usage()).holders.find((x) => x.mac === mac)?.holder;
}

describe('deleting never touches a job vmbot does not own', () => {
  it('a request that failed with name_taken: delete leaves the hand-made job running and frees only its own MAC', async () => {
    h = await startHarness();
    const surface = new RecordingSurface('slack');
    h.core.workflow.attachSurface(surface);
    const handMac = '52:54:84:ba:49:22';
    await h.core.nomad.submitJob(handMadeHcl('uservm-clash', handMac));
    const handMade = await waitJobRunning(h, 'uservm-clash');

    const id = await approveNew(h, 'clash');
    const failed = await h.inState(id, 'failed');
    expect(failed.failure?.code).toBe('name_taken');
    expect(failed.mac).toBe('52:54:84:ba:49:00');

    expect((await h.core.workflow.delete(h.member(), 'clash')).ok).toBe(true);
    const deleted = await h.inState(id, 'deleted');
    expect(deleted.state).toBe('deleted');

    // The admins' job is still registered, not stopped, the same version, still running.
    const after = h.sim.control.jobs().find((j) => j.id === 'uservm-clash');
    expect(after).toMatchObject({ stop: false, status: 'running', version: handMade.version });
    expect(after?.meta.vmbot_request).toBeUndefined();
    expect(h.sim.control.allocations('uservm-clash').filter((a) => a.ClientStatus === 'running')).toHaveLength(1);

    // The request's own MAC (never used by the hand-made job) is free again.
    expect(await macHolder(h, failed.mac!)).toBeUndefined();

    const audit = await h.core.store.audit.list({ requestId: id });
    const skip = audit.find((a) => a.action === 'job_not_ours');
    expect(skip?.detail).toBe("job uservm-clash is not vmbot's (meta.vmbot_request missing): left running");
    expect(audit.find((a) => a.action === 'state:deleting->deleted')?.detail).toContain('left running');
    // The notice follows the state change (it is sent after the row reads deleted): wait for it.
    const notice = await h.waitFor(() => surface.noticesFor(id).find((n) => n.kind === 'deleted'), { what: 'the deleted notice' });
    expect(notice).toMatchObject({ kind: 'deleted', name: 'clash' });
    expect(surface.noticesFor(id).at(-1)).toBe(notice);
  });

  it('a running VM whose job was replaced by a hand-made one using its MAC: delete leaves it, the MAC stays held as external', async () => {
    h = await startHarness();
    const id = await approveNew(h, 'swap');
    const running = await h.inState(id, 'running');
    const mac = running.mac!;
    // An admin re-registers the job by hand (same id, same MAC, no meta).
    await h.core.nomad.submitJob(handMadeHcl('uservm-swap', mac));
    // The job reads `running` while our replaced allocation is still stopping, so wait for
    // the hand-made job's own allocation to run, not for the job's status.
    await h.waitFor(() => h!.sim.control.jobs().find((j) => j.id === 'uservm-swap' && j.meta.vmbot_request === undefined), { what: 'the hand-made job registered' });
    await h.waitFor(() => h!.sim.control.allocations('uservm-swap').find((a) => a.ID !== running.allocId && a.ClientStatus === 'running'), { what: 'the hand-made allocation running' });

    expect((await h.core.workflow.delete(h.member(), 'swap')).ok).toBe(true);
    await h.inState(id, 'deleted');

    const after = h.sim.control.jobs().find((j) => j.id === 'uservm-swap');
    expect(after).toMatchObject({ stop: false, status: 'running' });
    expect(after?.meta.vmbot_request).toBeUndefined();
    // Not freed to the pool: the hand-made job carries it, so it is external now.
    expect(await macHolder(h, mac)).toEqual({ kind: 'external', jobId: 'uservm-swap' });
    const audit = await h.core.store.audit.list({ requestId: id });
    expect(audit.find((a) => a.action === 'job_not_ours')?.detail).toBe("job uservm-swap is not vmbot's (meta.vmbot_request missing): left running");
    expect(audit.find((a) => a.action === 'state:deleting->deleted')?.detail).toContain(`MAC ${mac} kept: the hand-made job uservm-swap uses it`);

    // The next request does not get that MAC.
    const next = await approveNew(h, 'next');
    expect((await h.inState(next, 'running')).mac).not.toBe(mac);
  });

  it('a running VM whose job was replaced by a hand-made one with another MAC: delete leaves it and frees the VM’s MAC once its allocation stopped', async () => {
    h = await startHarness();
    const id = await approveNew(h, 'moved');
    const running = await h.inState(id, 'running');
    await h.core.nomad.submitJob(handMadeHcl('uservm-moved', '52:54:84:ba:49:33'));
    // The update replaces our allocation: wait for the hand-made one to run.
    await h.waitFor(() => h!.sim.control.allocations('uservm-moved').find((a) => a.ID !== running.allocId && a.ClientStatus === 'running'), { what: 'the hand-made allocation running' });

    expect((await h.core.workflow.delete(h.admin(), 'moved')).ok).toBe(true);
    await h.inState(id, 'deleted');
    expect(h.sim.control.jobs().find((j) => j.id === 'uservm-moved')).toMatchObject({ stop: false, status: 'running' });
    // Our QEMU (the replaced allocation) is gone, so the MAC is free.
    const ours = h.sim.control.allocations('uservm-moved').find((a) => a.ID === running.allocId);
    expect(ours?.ClientStatus).not.toBe('running');
    expect(await macHolder(h, running.mac!)).toBeUndefined();
  });

  it('a job carrying another request’s vmbot_request is left alone too', async () => {
    h = await startHarness();
    const id = await approveNew(h, 'other');
    const running = await h.inState(id, 'running');
    // Re-register vmbot's own job under a different request id (as a restored backup might).
    const job = h.sim.control.jobs().find((j) => j.id === 'uservm-other')!;
    expect(job.meta.vmbot_request).toBe(id);
    const replaced = handMadeHcl('uservm-other', '52:54:84:ba:49:44', 'someone-else');
    await h.core.nomad.submitJob(replaced);
    await h.waitFor(() => h!.sim.control.allocations('uservm-other').find((a) => a.ID !== running.allocId && a.ClientStatus === 'running'), { what: 'the replaced job’s allocation running' });

    expect((await h.core.workflow.delete(h.admin(), 'other')).ok).toBe(true);
    await h.inState(id, 'deleted');
    expect(h.sim.control.jobs().find((j) => j.id === 'uservm-other')).toMatchObject({ stop: false, meta: { vmbot_request: 'someone-else' } });
    const audit = await h.core.store.audit.list({ requestId: id });
    expect(audit.find((a) => a.action === 'job_not_ours')?.detail).toBe("job uservm-other is not vmbot's (meta.vmbot_request is someone-else): left running");
  });
});
