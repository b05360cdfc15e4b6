// Power actions on the simulated cluster (issue 12): /vm stop keeps the job registered but
// stopped (MAC and cloud-init files kept), /vm start registers the same job again (same MAC,
// same seed URL) and finds the address again, /vm reboot restarts the allocation in place,
// /vm rebuild boots a fresh allocation with a new cloud-init instance-id, and a VM Nomad
// reschedules to another node is followed (the member told it moved). Owner or admin only;
// a job vmbot did not make is never stopped.
import { afterEach, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import type { Actor } from '../../../src/domain/request.js';
import type { Workflow } from '../../../src/workflow/workflow.js';
import { plainText, noticeWording } from '../../../src/workflow/notices.js';
import { startHarness, RecordingSurface, type Harness } from '../../support/harness.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

async function runningVm(harness: Harness, name = 'my-vm') {
  const submitted = await harness.core.workflow.submitRequest(harness.member(), harness.input({ name }));
  if (!submitted.ok) throw new Error(`submit refused: ${JSON.stringify(submitted.problems)}`);
  const approved = await harness.core.workflow.approve(harness.admin(), submitted.value.requestId);
  if (!approved.ok) throw new Error(`approve refused: ${JSON.stringify(approved.problems)}`);
  return harness.inState(submitted.value.requestId, 'running');
}

const seedOf = (harness: Harness, token: string | null) => `${harness.nocloudUrl}/nocloud/${token}/`;
const jobView = (harness: Harness, jobId: string) => harness.sim.control.jobs().find((j) => j.id === jobId);
const liveAllocs = (harness: Harness, jobId: string) => harness.sim.control.allocations(jobId).filter((a) => a.ClientStatus === 'running');
/** The instance-id cloud-init reads from the published meta-data. */
const instanceId = async (seed: string) => (parseYaml(await (await fetch(`${seed}meta-data`)).text()) as { 'instance-id': string })['instance-id'];
const auditActions = async (harness: Harness, id: string) => (await harness.core.store.audit.list({ requestId: id })).map((a) => a.action);

describe('stop and start', () => {
  it('stop keeps the job registered but stopped, the MAC and the files; start runs the same job again with the same MAC and seed URL', async () => {
    h = await startHarness();
    const surface = new RecordingSurface('slack');
    h.core.workflow.attachSurface(surface);
    const running = await runningVm(h);
    const jobId = running.jobId!;
    const seed = seedOf(h, running.seedToken);
    const firstAlloc = running.allocId!;
    const args = JSON.stringify(jobView(h, jobId)?.job);
    expect(args).toContain(running.mac!);
    expect(args).toContain(seed);

    const stopped = await h.core.workflow.stop(h.member(), 'my-vm');
    expect(stopped.ok && stopped.value).toMatchObject({ state: 'stopped', stateLabel: 'Stopped' });
    const stoppedReq = await h.core.store.requests.get(running.id);
    expect(stoppedReq).toMatchObject({ state: 'stopped', stopReason: 'member', mac: running.mac });
    // Registered, stopped (not purged); QEMU gone; the MAC still the request's; the files still served.
    expect(jobView(h, jobId)).toMatchObject({ stop: true, meta: { vmbot_request: running.id } });
    await h.waitFor(() => liveAllocs(h!, jobId).length === 0, { what: 'the allocation to stop' });
    const holder = (await h.core.store.macs.usage()).holders.find((x) => x.mac === running.mac)?.holder;
    expect(holder).toMatchObject({ kind: 'request', requestId: running.id, state: 'stopped' });
    expect((await fetch(`${seed}meta-data`)).status).toBe(200);
    expect((h.core.workflow as Workflow).lifecycle.watcher.isWatching(running.id)).toBe(false);
    // A stopped VM keeps its name: nobody else can ask for it.
    const clash = await h.core.workflow.submitRequest(h.member('U2'), h.input({ name: 'my-vm' }));
    expect(clash.ok || clash.problems[0]?.code).toBe('name_taken');
    // The list shows it stopped, with Start and Delete on its card.
    const listed = await h.core.workflow.list(h.member());
    expect(listed.ok && listed.value.map((v) => [v.name, v.state, v.stateLabel])).toEqual([['my-vm', 'stopped', 'Stopped']]);
    const card = await h.core.workflow.card(running.id);
    expect(card?.actions.map((a) => a.kind)).toEqual(['start', 'delete']);
    expect(card?.ownerActions?.map((a) => a.kind)).toEqual(['start', 'delete']);

    // Stopping again, or rebooting, is refused with the state; each refusal audited.
    const again = await h.core.workflow.stop(h.member(), 'my-vm');
    expect(!again.ok && again.problems[0]).toMatchObject({ code: 'wrong_state' });
    const reboot = await h.core.workflow.reboot(h.member(), 'my-vm');
    expect(!reboot.ok && reboot.problems[0]?.message).toContain('/vm start my-vm');

    const started = await h.core.workflow.start(h.member(), 'my-vm');
    expect(started.ok && started.value.state).toBe('provisioning');
    const back = await h.waitFor(async () => {
      const req = await h!.core.store.requests.get(running.id);
      return req?.state === 'running' && req.allocId !== firstAlloc ? req : undefined;
    }, { what: 'the VM running again on a new allocation' });
    expect(back).toMatchObject({ mac: running.mac, seedToken: running.seedToken, stopReason: null, bootCause: null, address: { ipv4: running.address!.ipv4 } });
    expect(h.sim.control.registrations(jobId)).toBe(2);
    expect(jobView(h, jobId)).toMatchObject({ stop: false, status: 'running' });
    const argsAgain = JSON.stringify(jobView(h, jobId)?.job);
    expect(argsAgain).toContain(running.mac!);
    expect(argsAgain).toContain(seed);
    // The instance-id is unchanged (not a rebuild).
    expect(await instanceId(seed)).toBe(`${running.id}-my-vm`);

    const up = await h.waitFor(() => surface.noticesFor(running.id).filter((n) => n.kind === 'up')[1], { what: 'the second up notice' });
    expect(up).toMatchObject({ kind: 'up', after: 'start' });
    expect(plainText(noticeWording(up))).toContain('started again on a fresh disk');
    const actions = await auditActions(h, running.id);
    for (const action of ['stop', 'stop_refused', 'reboot_refused', 'start', 'state:provisioning->running']) expect(actions).toContain(action);
    expect(actions).not.toContain('job_adopted');
  });

  it('an admin may stop a member\'s VM (stop reason admin); delete works from stopped', async () => {
    h = await startHarness();
    const running = await runningVm(h);
    const stopped = await h.core.workflow.stop(h.admin(), 'my-vm');
    expect(stopped.ok).toBe(true);
    expect((await h.core.store.requests.get(running.id))?.stopReason).toBe('admin');
    expect((await h.core.store.audit.list({ requestId: running.id })).find((a) => a.action === 'stop')).toMatchObject({ actor: { userId: 'UADMIN1' }, detail: 'reason admin' });

    expect((await h.core.workflow.delete(h.member(), 'my-vm')).ok).toBe(true);
    await h.inState(running.id, 'deleted');
    expect(jobView(h, running.jobId!)).toBeUndefined();
    expect((await h.core.store.macs.usage()).holders.find((x) => x.mac === running.mac)).toBeUndefined();
  });
});

describe('a stop cut short', () => {
  it('resume() finishes a stop whose state moved but whose job still runs (vmbot stopped in between)', async () => {
    h = await startHarness();
    const running = await runningVm(h);
    // As if vmbot died right after the transition, before it asked Nomad.
    await h.core.store.requests.transition(running.id, 'running', 'stopped', { stopReason: 'member' }, { actor: h.member(), action: 'stop' });
    expect(jobView(h, running.jobId!)).toMatchObject({ stop: false });
    await h.core.workflow.resume();
    await h.waitFor(() => jobView(h!, running.jobId!)?.stop === true || undefined, { what: 'the job stopped by resume' });
    expect(jobView(h, running.jobId!)).toMatchObject({ stop: true, meta: { vmbot_request: running.id } });
    expect((await h.core.store.requests.get(running.id))?.state).toBe('stopped');
  });
});

describe('reboot', () => {
  it('restarts the current allocation in place: same allocation, still running, audited', async () => {
    h = await startHarness();
    const running = await runningVm(h);
    const restartsOf = () => h!.sim.control.allocations(running.jobId!).find((a) => a.ID === running.allocId)?.TaskStates?.['vm']?.Restarts;
    expect(restartsOf()).toBe(0);

    const rebooted = await h.core.workflow.reboot(h.member(), 'my-vm');
    expect(rebooted.ok && rebooted.value.state).toBe('running');
    await h.waitFor(() => restartsOf() === 1, { what: 'the task restarted' });
    const after = await h.core.store.requests.get(running.id);
    expect(after).toMatchObject({ state: 'running', allocId: running.allocId });
    expect(h.sim.control.allocations(running.jobId!).map((a) => a.ID)).toEqual([running.allocId]);
    const audit = (await h.core.store.audit.list({ requestId: running.id })).find((a) => a.action === 'reboot');
    expect(audit?.detail).toBe(`allocation ${running.allocId!.slice(0, 8)} restarted in place`);
  });
});

describe('rebuild', () => {
  it('boots a new allocation with a new instance-id in the published meta-data, same name, MAC and address', async () => {
    h = await startHarness();
    const surface = new RecordingSurface('slack');
    h.core.workflow.attachSurface(surface);
    const running = await runningVm(h);
    const seed = seedOf(h, running.seedToken);
    expect(await instanceId(seed)).toBe(`${running.id}-my-vm`);

    const rebuilt = await h.core.workflow.rebuild(h.member(), 'my-vm');
    expect(rebuilt.ok && rebuilt.value.state).toBe('provisioning');
    const back = await h.waitFor(async () => {
      const req = await h!.core.store.requests.get(running.id);
      return req?.state === 'running' && req.allocId !== running.allocId ? req : undefined;
    }, { what: 'the rebuilt VM running on a new allocation' });
    expect(back).toMatchObject({ rebuilds: 1, mac: running.mac, seedToken: running.seedToken, address: { ipv4: running.address!.ipv4 }, bootCause: null });
    expect(await instanceId(seed)).toBe(`${running.id}-r1-my-vm`);
    expect(h.sim.control.allocations(running.jobId!).map((a) => a.ID)).not.toContain(running.allocId);

    const up = await h.waitFor(() => surface.noticesFor(running.id).filter((n) => n.kind === 'up')[1], { what: 'the up notice after the rebuild' });
    expect(up).toMatchObject({ after: 'rebuild' });
    expect(plainText(noticeWording(up))).toContain('host keys changed because of the rebuild');
    expect((await h.core.store.audit.list({ requestId: running.id })).find((a) => a.action === 'rebuild')?.detail).toBe('rebuild 1 from running');

    // A second rebuild, from stopped this time: instance-id -r2.
    expect((await h.core.workflow.stop(h.member(), 'my-vm')).ok).toBe(true);
    expect((await h.core.workflow.rebuild(h.member(), 'my-vm')).ok).toBe(true);
    await h.waitFor(async () => (await h!.core.store.requests.get(running.id))?.state === 'running' || undefined, { what: 'running after the second rebuild' });
    expect(await instanceId(seed)).toBe(`${running.id}-r2-my-vm`);
  });
});

describe('who may act', () => {
  it('refuses a member who is neither the owner nor an admin, for each action, with an audit row', async () => {
    h = await startHarness();
    const running = await runningVm(h);
    const stranger: Actor = h.member('U2');
    const wf = h.core.workflow;
    for (const [kind, run] of [
      ['stop', () => wf.stop(stranger, 'my-vm')],
      ['start', () => wf.start(stranger, 'my-vm')],
      ['reboot', () => wf.reboot(stranger, 'my-vm')],
      ['rebuild', () => wf.rebuild(stranger, 'my-vm')],
    ] as const) {
      const result = await run();
      expect(!result.ok && result.problems[0]).toMatchObject({ code: 'forbidden', message: `"my-vm" is not your VM: you can only ${kind} your own VMs; ask an admin.` });
    }
    const refused = (await h.core.store.audit.list({ requestId: running.id })).filter((a) => a.action.endsWith('_refused'));
    expect(refused.map((a) => [a.action, a.actor.userId])).toEqual(
      expect.arrayContaining([['stop_refused', 'U2'], ['start_refused', 'U2'], ['reboot_refused', 'U2'], ['rebuild_refused', 'U2']]),
    );
    // Nothing changed on the cluster.
    expect(await h.core.store.requests.get(running.id)).toMatchObject({ state: 'running', allocId: running.allocId, rebuilds: 0 });
    expect(jobView(h, running.jobId!)).toMatchObject({ stop: false, status: 'running' });
  });

  it('never stops a job that is not ours: a hand-made job under the VM\'s job id stays running, the stop refused and audited', async () => {
    h = await startHarness();
    const running = await runningVm(h);
    const jobId = running.jobId!;
    // Someone purged vmbot's job and put their own under the same id.
    await h.core.nomad.stopJob(jobId);
    await h.waitFor(() => jobView(h!, jobId) === undefined || undefined, { what: 'the purge' });
    await h.core.nomad.submitJob(
      [`job "${jobId}" {`, '  datacenters = ["aperture"]', '  group "hand" {', '    task "hand" {', '      driver = "qemu"', '      config {', '        image_path = "local/hand.qcow2"', '      }', '    }', '  }', '}'].join('\n'),
    );
    // The purged job's allocation is still stopping (and counts as the job's status) for a
    // moment: wait for the hand-made job's own allocation to run, which stays running.
    await h.waitFor(() => liveAllocs(h!, jobId).find((a) => a.ID !== running.allocId), { what: 'the hand-made job running' });
    const version = jobView(h, jobId)!.version;

    const stopped = await h.core.workflow.stop(h.member(), 'my-vm');
    expect(!stopped.ok && stopped.problems[0]?.message).toContain('is not the one vmbot made');
    expect(jobView(h, jobId)).toMatchObject({ stop: false, status: 'running', version });
    expect((await h.core.store.requests.get(running.id))?.state).toBe('running');
    const actions = await auditActions(h, running.id);
    expect(actions).toContain('job_not_ours');
    expect(actions).toContain('stop_failed');
  });
});

describe('a VM Nomad moves to another node', () => {
  it('tells the member, follows the new allocation and watches for the address again', async () => {
    h = await startHarness({ workflow: { liveCheckMs: 30 } });
    const surface = new RecordingSurface('slack');
    h.core.workflow.attachSurface(surface);
    await h.core.workflow.resume(); // starts the periodic check
    const running = await runningVm(h);
    const replacement = h.sim.control.reschedule(running.jobId!);

    const moved = await h.waitFor(() => surface.noticesFor(running.id).find((n) => n.kind === 'moved'), { what: 'the moved notice' });
    expect(plainText(noticeWording(moved))).toContain('on another node');
    const back = await h.waitFor(async () => {
      const req = await h!.core.store.requests.get(running.id);
      return req?.state === 'running' && req.allocId === replacement ? req : undefined;
    }, { what: 'running on the replacement allocation' });
    expect(back.address?.ipv4).toBe(running.address!.ipv4);
    const up = await h.waitFor(() => surface.noticesFor(running.id).filter((n) => n.kind === 'up')[1], { what: 'the up notice after the move' });
    expect(up).toMatchObject({ after: 'moved' });
    const audit = (await h.core.store.audit.list({ requestId: running.id })).find((a) => a.action === 'state:running->provisioning');
    expect(audit?.detail).toBe(`allocation ${running.allocId!.slice(0, 8)} was replaced by ${replacement.slice(0, 8)} (Nomad rescheduled the VM; a fresh disk)`);
  });
});
