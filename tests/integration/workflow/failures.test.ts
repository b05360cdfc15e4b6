// Failures never lose a request: each ends `failed` with a reason, admins get Retry, the
// member a 'delayed' notice in member terms (no admin instructions), and Retry (same MAC, same job id) brings the VM up once the
// cause is gone. Also the watcher's own failures: task failure, reschedule, ip timeout.
import { afterEach, describe, expect, it } from 'vitest';
import { noticeText } from '../../../src/chat/discord/draw.js';
import { noticeMessage } from '../../../src/chat/slack/blocks.js';
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

describe('provisioning failures', () => {
  it('pool exhausted → failed → a MAC is freed → Retry → running', async () => {
    // A pool of two MACs, one of them reserved: room for one VM.
    h = await startHarness({ config: { macPool: { ranges: ['52:54:84:ba:49:00-52:54:84:ba:49:01'], reserved: [{ mac: '52:54:84:ba:49:01', note: 'distro-vm' }] } } });
    const surface = new RecordingSurface('slack');
    h.core.workflow.attachSurface(surface);
    const first = await approveNew(h, 'first');
    await h.inState(first, 'running');

    const second = await approveNew(h, 'second');
    const failed = await h.inState(second, 'failed');
    expect(failed.failure?.code).toBe('pool_exhausted');
    expect(failed.mac).toBeNull();
    expect(h.sim.control.registrations('uservm-second')).toBe(0);
    // The notice is sent after the row reads failed: wait for it rather than read it at once.
    const delayed = await h.waitFor(() => surface.noticesFor(second).find((n) => n.kind === 'delayed'), { what: 'the delayed notice' });
    expect(surface.noticesFor(second).at(-1)).toBe(delayed);
    const card = await h.waitFor(() => surface.drawsFor(second).find((c) => c.state === 'failed'), { what: 'the failed card' });
    expect(card.actions.map((a) => a.kind)).toEqual(['retry', 'delete']);
    expect(card.failure?.code).toBe('pool_exhausted');

    // A member cannot retry; Retry while the pool is still full fails the same way.
    const byMember = await h.core.workflow.retry(h.member(), second);
    expect(!byMember.ok && byMember.problems[0]?.code).toBe('forbidden');

    await h.core.workflow.delete(h.admin(), 'first');
    await h.inState(first, 'deleted');
    const retried = await h.core.workflow.retry(h.admin(), second);
    expect(retried.ok).toBe(true);
    const running = await h.inState(second, 'running');
    expect(running.mac).toBe('52:54:84:ba:49:00');
    expect(running.failure).toBeNull();
    // Retry twice (a double click) makes one decision.
    const again = await h.core.workflow.retry(h.admin('UADMIN2'), second);
    expect(!again.ok && again.problems[0]?.code).toBe('wrong_state');
  });

  it('Nomad answering 500 → failed (nothing lost) → Nomad back → Retry → running, same MAC and job', async () => {
    h = await startHarness();
    h.sim.control.failRequests('always');
    const id = await approveNew(h, 'flaky');
    const failed = await h.inState(id, 'failed');
    expect(failed.failure?.code).toMatch(/^nomad_/);
    expect(failed.failure?.message).toMatch(/Retry/);
    expect(failed.mac).toBe('52:54:84:ba:49:00');
    expect(failed.jobId).toBe('uservm-flaky');

    h.sim.control.failRequests('off');
    expect((await h.core.workflow.retry(h.admin(), id)).ok).toBe(true);
    const running = await h.inState(id, 'running');
    expect(running.mac).toBe(failed.mac);
    expect(running.jobId).toBe(failed.jobId);
    expect(h.sim.control.jobs().filter((j) => j.id === 'uservm-flaky')).toHaveLength(1);
    expect((await h.core.store.macs.usage()).used).toBe(1);
  });

  it('Nomad hanging → failed with nomad_unreachable → back → Retry → running', async () => {
    h = await startHarness({ nomadTimeoutMs: 1_000 });
    h.sim.control.hang(true);
    const id = await approveNew(h, 'hung');
    const failed = await h.inState(id, 'failed');
    expect(failed.failure?.code).toBe('nomad_unreachable');
    h.sim.control.hang(false);
    expect((await h.core.workflow.retry(h.admin(), id)).ok).toBe(true);
    await h.inState(id, 'running');
  });

  it('a job of the same name that vmbot did not make is never overwritten', async () => {
    h = await startHarness();
    // A hand-made job like the admins': same ID as vmbot would use, no vmbot_request meta.
    const handMade = [
      'job "uservm-clash" {',
      '  datacenters = ["aperture"]',
      '  group "clash" {',
      '    task "clash" {',
      '      driver = "qemu"',
      '      config {',
      '        image_path = "local/clash.qcow2"',
      '        args = ["-device", "virtio-net-pci,netdev=hn0,id=nic1,mac=52:54:84:ba:49:22"]',
      '      }',
      '    }',
      '  }',
      '}',
    ].join('\n');
    await h.core.nomad.submitJob(handMade);
    const id = await approveNew(h, 'clash');
    const failed = await h.inState(id, 'failed');
    expect(failed.failure?.code).toBe('name_taken');
    expect(failed.failure?.message).toMatch(/uservm-clash.*hand-made/);
    expect(h.sim.control.registrations('uservm-clash')).toBe(1);
    expect(h.sim.control.jobs().find((j) => j.id === 'uservm-clash')?.meta.vmbot_request).toBeUndefined();
  });
});

describe('the watcher', () => {
  it('reports Nomad’s message when the task fails; Retry starts it afresh', async () => {
    h = await startHarness();
    h.sim.control.failNextTask('uservm-broken', 'failed to start task: qemu: image not found');
    const id = await approveNew(h, 'broken');
    const failed = await h.inState(id, 'failed');
    expect(failed.failure).toMatchObject({ code: 'task_failed' });
    expect(failed.failure?.message).toContain('failed to start task: qemu: image not found');
    expect((await h.core.workflow.retry(h.admin(), id)).ok).toBe(true);
    const running = await h.inState(id, 'running');
    expect(running.mac).toBe(failed.mac);
    expect(h.sim.control.registrations('uservm-broken')).toBe(2);
  });

  it('follows a rescheduled allocation and takes the address from the new one', async () => {
    // The first allocation starts but does not boot until the test has moved it.
    h = await startHarness({ sim: { bootDelayMs: 60_000 } });
    const id = await approveNew(h, 'moving');
    const booting = await h.waitFor(
      async () => {
        const req = await h!.core.store.requests.get(id);
        // The firmware prints at once, so 'booting' may follow 'allocation_running' in the same poll.
        return req?.state === 'provisioning' && req.allocId && (req.progress === 'allocation_running' || req.progress === 'booting') ? req : undefined;
      },
      { what: 'the first allocation running' },
    );
    h.sim.control.setBootDelay(50);
    const next = h.sim.control.reschedule('uservm-moving');
    const running = await h.inState(id, 'running');
    expect(running.allocId).toBe(next);
    expect(running.allocId).not.toBe(booting.allocId);
    expect(running.address?.ipv4).toMatch(/^10\.10\.0\./);
    const console = h.sim.control.consoleOf(next).toString();
    expect(console).toContain(running.address!.ipv4!);
  });

  it('the member is told what happened in member terms and that the admins know; the admin card carries the instructions', async () => {
    h = await startHarness({ config: { nomad: { ipTimeout: 600 } } });
    const surface = new RecordingSurface('slack');
    h.core.workflow.attachSurface(surface);
    h.sim.control.neverPrintAddress('uservm-quiet');
    const id = await approveNew(h, 'quiet');
    const failed = await h.inState(id, 'failed');
    expect(failed.failure?.code).toBe('ip_timeout');

    const notice = await h.waitFor(() => surface.noticesFor(id).find((n) => n.kind === 'delayed'), { what: 'the delayed notice' });
    if (notice.kind !== 'delayed') throw new Error('not a delayed notice');
    expect(notice.name).toBe('quiet');
    expect(notice.reason).toMatch(/did not get a network address/);
    expect(notice.reason).toMatch(/admins have been told/);
    // What each platform sends the member: no admin instructions, "told" said once.
    for (const text of [notice.reason, noticeMessage(notice).text, noticeText(notice)]) {
      expect(text).not.toMatch(/retry|console|check the|nomad/i);
      expect(text.match(/admins have been told/g)).toHaveLength(1);
    }

    // The admins' card has what to do: the console tail, the instruction and the Retry button.
    const card = await h.waitFor(() => surface.drawsFor(id).filter((c) => c.state === 'failed').at(-1), { what: 'the failed card' });
    expect(card.failure?.message).toMatch(/Check the console tail/);
    expect(card.failure?.message).toMatch(/press Retry/);
    expect(card.failure?.consoleTail?.length).toBeGreaterThan(0);
    expect(card.actions.map((a) => a.kind)).toContain('retry');
  });

  it('gives up after ipTimeout with the last console lines', async () => {
    h = await startHarness({ config: { nomad: { ipTimeout: 600 } } });
    h.sim.control.neverPrintAddress('uservm-silent');
    const id = await approveNew(h, 'silent');
    const failed = await h.inState(id, 'failed');
    expect(failed.failure?.code).toBe('ip_timeout');
    expect(failed.failure?.consoleTail?.length).toBeGreaterThan(0);
    expect(failed.failure?.consoleTail?.length).toBeLessThanOrEqual(20);
    expect(failed.address).toBeNull();
  });

  it('a running VM whose job vanished from Nomad is marked lost at start; Delete still cleans up', async () => {
    h = await startHarness();
    const surface = new RecordingSurface('slack');
    h.core.workflow.attachSurface(surface);
    const id = await approveNew(h, 'gone');
    const running = await h.inState(id, 'running');
    const other = await approveNew(h, 'stays');
    await h.inState(other, 'running');
    await h.core.nomad.stopJob(running.jobId!); // purged by hand behind vmbot's back
    await h.core.workflow.resume();
    expect((await h.core.store.requests.get(id))?.state).toBe('lost');
    expect((await h.core.store.requests.get(other))?.state).toBe('running');
    expect(surface.noticesFor(id).at(-1)).toMatchObject({ kind: 'lost', name: 'gone' });
    const audit = await h.core.store.audit.list({ requestId: id });
    expect(audit.find((a) => a.action === 'state:running->lost')?.detail).toBe('job uservm-gone is gone from Nomad');
    expect((await h.core.workflow.delete(h.member(), 'gone')).ok).toBe(true);
    await h.inState(id, 'deleted');
    expect((await h.core.store.macs.usage()).used).toBe(1);
  });

  it('while running, a periodic check notices a vanished job', async () => {
    h = await startHarness({ workflow: { liveCheckMs: 30 } });
    await h.core.workflow.resume(); // starts the periodic check
    const id = await approveNew(h, 'purged');
    const running = await h.inState(id, 'running');
    await h.core.nomad.stopJob(running.jobId!);
    await h.inState(id, 'lost');
  });
});
