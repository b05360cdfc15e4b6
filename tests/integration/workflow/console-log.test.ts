// `/vm logs NAME` through the workflow on the simulated cluster (issue 12): the last 40
// console lines of the current allocation, colours stripped, the NoCloud seed token never
// shown (the guest's console repeats the seed URL); owner or admin only, a refusal audited;
// a VM with nothing to show yet gets a clear message.
import { afterEach, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../../support/harness.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

async function runningVm(harness: Harness, name: string) {
  const submitted = await harness.core.workflow.submitRequest(harness.member(), harness.input({ name }));
  if (!submitted.ok) throw new Error(JSON.stringify(submitted.problems));
  const id = submitted.value.requestId;
  const approved = await harness.core.workflow.approve(harness.admin(), id);
  if (!approved.ok) throw new Error(JSON.stringify(approved.problems));
  await harness.inState(id, 'running');
  // The up notice goes out with the address; the console goes on a little (host keys, login prompt).
  return harness.waitFor(async () => {
    const req = await harness.core.store.requests.get(id);
    const raw = req?.allocId ? harness.sim.control.consoleOf(req.allocId).toString() : '';
    return raw.includes(' login: ') ? req : undefined;
  }, { what: 'the login prompt on the console' });
}

describe('/vm logs through the workflow', () => {
  it('gives the owner the last 40 lines of the current allocation: ANSI stripped, the seed token removed', async () => {
    h = await startHarness();
    const req = await runningVm(h, 'logvm');
    const raw = h.sim.control.consoleOf(req.allocId!).toString();
    // What the test guards against is really on the console.
    expect(raw).toContain(req.seedToken!);
    expect(raw).toContain('\x1b[0;32m');

    const result = await h.core.workflow.logs(h.member(), 'logvm');
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    const log = result.value;
    expect(log).toMatchObject({ requestId: req.id, name: 'logvm', allocation: req.allocId!.slice(0, 8) });
    expect(log.lines).toHaveLength(40);
    expect(log.lines.at(-1)).toBe('uservm-logvm login: ');
    const text = log.lines.join('\n');
    expect(text).not.toContain(req.seedToken!);
    expect(text).toMatch(/\[seed=dmi,http:\/\/[^ ]*\/\[redacted\]\/\]/);
    expect(text).not.toMatch(/[\x00-\x08\x0b-\x1f\x7f]/);
    expect(text).toContain('[  OK  ] Finished cloud-final.service');
    // Host keys are public: they stay.
    expect(text).toContain('-----BEGIN SSH HOST KEY FINGERPRINTS-----');
  });

  it('an admin may read any VM; another member is refused and the refusal audited', async () => {
    h = await startHarness();
    const req = await runningVm(h, 'private');
    expect((await h.core.workflow.logs(h.admin(), 'private')).ok).toBe(true);

    const refused = await h.core.workflow.logs(h.member('U2'), 'private');
    expect(refused).toEqual({ ok: false, problems: [{ code: 'forbidden', message: '"private" is not your VM; ask its owner or an admin.' }] });
    const audit = await h.core.store.audit.list({ requestId: req.id });
    expect(audit.find((row) => row.action === 'logs_refused')).toMatchObject({ actor: { platform: 'slack', userId: 'U2' }, detail: expect.stringContaining('forbidden') });
  });

  it('a request waiting for approval, or a VM whose task has not started, has nothing to show: a clear message', async () => {
    h = await startHarness({ sim: { bootDelayMs: 50, startDelayMs: 60_000 } });
    const submitted = await h.core.workflow.submitRequest(h.member(), h.input({ name: 'early' }));
    if (!submitted.ok) throw new Error(JSON.stringify(submitted.problems));
    const pending = await h.core.workflow.logs(h.member(), 'early');
    expect(pending).toEqual({
      ok: false,
      problems: [{ code: 'wrong_state', field: 'name', message: '"early" is waiting for approval: it has no console until it is approved and started on the cluster.' }],
    });

    expect((await h.core.workflow.approve(h.admin(), submitted.value.requestId)).ok).toBe(true);
    await h.waitFor(() => h!.sim.control.allocations('uservm-early').length > 0, { what: 'an allocation placed' });
    const notStarted = await h.core.workflow.logs(h.member(), 'early');
    expect(notStarted.ok).toBe(false);
    if (!notStarted.ok) expect(notStarted.problems[0]).toMatchObject({ code: 'wrong_state', message: expect.stringMatching(/^"early" has no allocation on the cluster yet \(.*\): its console starts when Nomad places it\. Try again in a minute\.$/) });
  });

  it('an unknown name is not found', async () => {
    h = await startHarness();
    const result = await h.core.workflow.logs(h.member(), 'nothere');
    expect(result).toEqual({ ok: false, problems: [{ code: 'not_found', field: 'name', message: 'There is no VM or request "nothere". /vm list shows yours.' }] });
  });
});
