// The whole life of a VM through the workflow's use cases, against the simulated cluster
// over HTTP, a real SQLite file and the built-in NoCloud publisher (tests/support/harness).
import { afterEach, describe, expect, it } from 'vitest';
import { startHarness, RecordingSurface, type Harness } from '../../support/harness.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

async function submit(harness: Harness, name = 'my-vm', userId = 'U1'): Promise<string> {
  const result = await harness.core.workflow.submitRequest(harness.member(userId), harness.input({ name }));
  if (!result.ok) throw new Error(`submit refused: ${JSON.stringify(result.problems)}`);
  return result.value.requestId;
}

describe('the life of a VM', () => {
  it('request → approve → address notice → delete, and the MAC is free again', async () => {
    h = await startHarness();
    const surface = new RecordingSurface('slack');
    h.core.workflow.attachSurface(surface);
    const wf = h.core.workflow;

    const id = await submit(h);
    expect((await h.core.store.requests.get(id))?.state).toBe('pending');
    expect(surface.noticesFor(id).map((n) => n.kind)).toEqual(['requested']);
    const pendingCard = await h.waitFor(() => surface.drawsFor(id)[0], { what: 'the pending card' });
    expect(pendingCard.actions.map((a) => a.kind)).toEqual(['approve', 'deny']);

    const approved = await wf.approve(h.admin(), id);
    expect(approved.ok).toBe(true);
    const running = await h.inState(id, 'running');
    expect(running.mac).toBe('52:54:84:ba:49:00'); // lowest free; :01 is reserved
    expect(running.jobId).toBe('uservm-my-vm');
    expect(running.address?.ipv4).toMatch(/^10\.10\.0\.\d+$/);
    expect(running.progress).toBe('address');
    expect(running.logOffset).toBeGreaterThan(0);

    const job = h.sim.control.jobs().find((j) => j.id === 'uservm-my-vm');
    expect(job?.meta.vmbot_request).toBe(id);
    expect(h.sim.control.registrations('uservm-my-vm')).toBe(1);

    const up = await h.waitFor(() => surface.noticesFor(id).find((n) => n.kind === 'up'), { what: 'the up notice' });
    expect(up).toMatchObject({ kind: 'up', ssh: `ssh alice@${running.address!.ipv4}` });
    expect(surface.noticesFor(id).map((n) => n.kind)).toEqual(['requested', 'approved', 'up']);

    // The cloud-init files are served under the token path while the VM lives.
    const seed = `${h.nocloudUrl}/nocloud/${running.seedToken}/`;
    const userData = await fetch(`${seed}user-data`);
    expect(userData.status).toBe(200);
    expect(await userData.text()).toMatch(/^#cloud-config/);

    // The card was edited in place: every draw after the first carries the first ref.
    const lastCard = await h.waitFor(
      () => {
        const last = surface.draws.filter((d) => d.card.requestId === id).at(-1);
        return last?.card.state === 'running' ? last : undefined;
      },
      { what: 'the running card' },
    );
    expect(lastCard.ref).toBe('card-1');
    expect(lastCard.card.address?.ssh).toBe(`ssh alice@${running.address!.ipv4}`);
    const versions = surface.drawsFor(id).map((c) => c.version);
    expect([...versions].sort((a, b) => a - b)).toEqual(versions);

    expect((await wf.ip(h.member(), 'my-vm')).ok && (await wf.ip(h.member(), 'my-vm'))).toMatchObject({ value: { ipv4: running.address!.ipv4 } });

    const del = await wf.delete(h.member(), 'my-vm');
    expect(del.ok && del.value.state).toBe('deleting');
    const deleted = await h.inState(id, 'deleted');
    expect(deleted.state).toBe('deleted');
    expect(h.sim.control.jobs().find((j) => j.id === 'uservm-my-vm')).toBeUndefined();
    expect(h.sim.control.allocations('uservm-my-vm').filter((a) => a.ClientStatus === 'running')).toEqual([]);
    const usage = await h.core.store.macs.usage();
    expect(usage.holders.find((x) => x.mac === '52:54:84:ba:49:00')).toBeUndefined();
    expect((await fetch(`${seed}user-data`)).status).toBe(404);
    await h.waitFor(() => surface.noticesFor(id).some((n) => n.kind === 'deleted'), { what: 'the deleted notice' });

    const actions = (await h.core.store.audit.list({ requestId: id })).map((a) => a.action);
    for (const action of ['request', 'approve', 'state:approved->provisioning', 'mac_allocated', 'job_submitted', 'state:provisioning->running', 'delete', 'state:deleting->deleted']) {
      expect(actions).toContain(action);
    }

    // The name is free again; the next VM takes the lowest free MAC, the one just released.
    const again = await submit(h, 'my-vm');
    await wf.approve(h.admin(), again);
    expect((await h.inState(again, 'running')).mac).toBe('52:54:84:ba:49:00');
  });

  it('refuses an invalid form field by field and stores nothing', async () => {
    h = await startHarness();
    const result = await h.core.workflow.submitRequest(h.member(), h.input({ name: 'Bad Name', login: 'root', sshKeys: 'not a key', distro: 'nope' }));
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problems.map((p) => p.field).sort()).toEqual(['distro', 'login', 'name', 'sshKeys'].sort());
    expect(await h.core.store.requests.list()).toEqual([]);
    expect(await h.core.store.members.getProfile({ platform: 'slack', userId: 'U1' })).toBeUndefined();
  });

  it('remembers the member’s login and keys for the next form', async () => {
    h = await startHarness();
    await submit(h);
    const form = await h.core.workflow.requestForm(h.member());
    expect(form.prefill.login).toBe('alice');
    expect(form.prefill.sshKeys).toMatch(/^ssh-ed25519 /);
    expect(form.distros[0]).toEqual({ value: 'debian-12', label: 'Debian 12' });
    expect((await h.core.workflow.requestForm(h.member('U2'))).prefill).toEqual({});
  });

  it('refuses a second live VM with the same name', async () => {
    h = await startHarness();
    await submit(h);
    const dup = await h.core.workflow.submitRequest(h.member('U2'), h.input());
    expect(!dup.ok && dup.problems[0]).toMatchObject({ code: 'name_taken', field: 'name' });
  });
});

describe('decisions', () => {
  it('deny needs a reason; with one, the member is told why', async () => {
    h = await startHarness();
    const surface = new RecordingSurface('slack');
    h.core.workflow.attachSurface(surface);
    const id = await submit(h);
    const noReason = await h.core.workflow.deny(h.admin(), id, '   ');
    expect(!noReason.ok && noReason.problems[0]).toMatchObject({ code: 'reason_required', field: 'reason' });
    expect((await h.core.store.requests.get(id))?.state).toBe('pending');

    const denied = await h.core.workflow.deny(h.admin(), id, 'Use the lab machines for this');
    expect(denied.ok && denied.value.state).toBe('denied');
    const req = await h.core.store.requests.get(id);
    expect(req?.decision).toMatchObject({ verb: 'denied', reason: 'Use the lab machines for this', by: { platform: 'slack', userId: 'UADMIN1' } });
    expect(surface.noticesFor(id).at(-1)).toMatchObject({ kind: 'denied', reason: 'Use the lab machines for this' });
    expect(h.sim.control.jobs()).toEqual([]);
    const audit = await h.core.store.audit.list({ requestId: id });
    expect(audit.find((a) => a.action === 'deny')?.detail).toBe('Use the lab machines for this');
    // The name can be asked for again.
    expect((await h.core.workflow.submitRequest(h.member(), h.input())).ok).toBe(true);
  });

  it('the requester can cancel while pending, nobody else, and not afterwards', async () => {
    h = await startHarness();
    const id = await submit(h);
    const other = await h.core.workflow.cancel(h.member('U2'), id);
    expect(!other.ok && other.problems[0]?.code).toBe('forbidden');
    const byName = await h.core.workflow.cancel(h.member(), 'my-vm');
    expect(byName.ok && byName.value.state).toBe('cancelled');
    const again = await h.core.workflow.cancel(h.member(), id);
    expect(!again.ok && again.problems[0]?.code).toBe('wrong_state');
    const actions = (await h.core.store.audit.list({ requestId: id })).map((a) => a.action);
    expect(actions).toEqual(expect.arrayContaining(['cancel', 'cancel_refused']));
  });

  it('a member cannot approve, deny or retry; each refusal is audited', async () => {
    h = await startHarness();
    const id = await submit(h);
    const approve = await h.core.workflow.approve(h.member('U2'), id);
    expect(!approve.ok && approve.problems[0]?.code).toBe('forbidden');
    const deny = await h.core.workflow.deny(h.member('U2'), id, 'no');
    expect(!deny.ok && deny.problems[0]?.code).toBe('forbidden');
    // A Discord admin role does not make a Slack user an admin.
    const crossPlatform = await h.core.workflow.approve({ platform: 'slack', userId: 'U3', groups: ['role-admin'] }, id);
    expect(!crossPlatform.ok && crossPlatform.problems[0]?.code).toBe('forbidden');
    expect((await h.core.store.requests.get(id))?.state).toBe('pending');
    const refused = (await h.core.store.audit.list({ requestId: id })).filter((a) => a.action.endsWith('_refused'));
    expect(refused.map((a) => [a.action, a.actor.userId])).toEqual(
      expect.arrayContaining([
        ['approve_refused', 'U2'],
        ['deny_refused', 'U2'],
        ['approve_refused', 'U3'],
      ]),
    );
    expect(refused.every((a) => a.detail?.startsWith('forbidden'))).toBe(true);
    // An admin by Slack user group, and one by Discord role on a Discord request, may approve.
    expect((await h.core.workflow.approve({ platform: 'slack', userId: 'U9', groups: ['S0ADMINS'] }, id)).ok).toBe(true);
    const d = await h.core.workflow.submitRequest(h.member('500000000000000001', 'discord'), h.input({ name: 'disc-vm' }));
    expect(d.ok && (await h.core.workflow.approve(h.admin(undefined, 'discord'), d.value.requestId)).ok).toBe(true);
  });

  it('self-approval is refused unless the policy allows it', async () => {
    h = await startHarness();
    const admin = h.admin();
    const mine = await h.core.workflow.submitRequest(admin, h.input());
    if (!mine.ok) throw new Error('submit failed');
    const self = await h.core.workflow.approve(admin, mine.value.requestId);
    expect(!self.ok && self.problems[0]?.code).toBe('self_approval');
    const audit = await h.core.store.audit.list({ requestId: mine.value.requestId });
    expect(audit.find((a) => a.action === 'approve_refused')?.detail).toMatch(/^self_approval/);
    // Another admin may.
    expect((await h.core.workflow.approve(h.admin('UADMIN2'), mine.value.requestId)).ok).toBe(true);
    await h.close();

    h = await startHarness({ config: { policy: { allowSelfApproval: true } } });
    const again = await h.core.workflow.submitRequest(h.admin(), h.input());
    if (!again.ok) throw new Error('submit failed');
    expect((await h.core.workflow.approve(h.admin(), again.value.requestId)).ok).toBe(true);
  });

  it('a second approval is refused with who already decided', async () => {
    h = await startHarness();
    const id = await submit(h);
    expect((await h.core.workflow.approve(h.admin('UADMIN1'), id)).ok).toBe(true);
    const second = await h.core.workflow.approve(h.admin('UADMIN2'), id);
    expect(!second.ok && second.problems[0]).toMatchObject({ code: 'wrong_state' });
    expect(!second.ok && second.problems[0]!.message).toMatch(/already approved by slack user UADMIN1/);
    const lateDeny = await h.core.workflow.deny(h.admin('UADMIN2'), id, 'too late');
    expect(!lateDeny.ok && lateDeny.problems[0]?.code).toBe('wrong_state');
  });
});

describe('who sees what', () => {
  it('members see and act on their own VMs; admins on all', async () => {
    h = await startHarness();
    const a = await submit(h, 'vm-a', 'U1');
    await submit(h, 'vm-b', 'U2');
    const mine = await h.core.workflow.list(h.member('U1'));
    expect(mine.ok && mine.value.map((v) => v.name)).toEqual(['vm-a']);
    const all = await h.core.workflow.list(h.admin());
    expect(all.ok && all.value.map((v) => v.name).sort()).toEqual(['vm-a', 'vm-b']);

    const peek = await h.core.workflow.status(h.member('U2'), 'vm-a');
    expect(!peek.ok && peek.problems[0]?.code).toBe('forbidden');
    const ip = await h.core.workflow.ip(h.member('U2'), 'vm-a');
    expect(!ip.ok && ip.problems[0]?.code).toBe('forbidden');
    expect((await h.core.workflow.status(h.admin(), 'vm-a')).ok).toBe(true);
    const missing = await h.core.workflow.status(h.member('U1'), 'nope');
    expect(!missing.ok && missing.problems[0]?.code).toBe('not_found');

    await h.core.workflow.approve(h.admin(), a);
    await h.inState(a, 'running');
    const del = await h.core.workflow.delete(h.member('U2'), 'vm-a');
    expect(!del.ok && del.problems[0]?.code).toBe('forbidden');
    expect((await h.core.store.audit.list({ requestId: a })).some((x) => x.action === 'delete_refused')).toBe(true);
    expect((await h.core.workflow.delete(h.admin(), 'vm-a')).ok).toBe(true);
    await h.inState(a, 'deleted');
  });
});

describe('cards', () => {
  it('coalesces a burst of changes into one drawCard', async () => {
    // A window longer than the test: the only draw is the one close() flushes, so the
    // count does not depend on timing. The allocation never starts during the test.
    h = await startHarness({ coalesceMs: 60_000, sim: { startDelayMs: 60_000 } });
    const surface = new RecordingSurface('slack');
    const seen: number[] = [];
    h.core.workflow.attachSurface(surface);
    h.core.workflow.onCard((card) => seen.push(card.version));
    const id = await submit(h);
    // request, approve, provisioning, MAC, job submitted: five changes in one window.
    await h.core.workflow.approve(h.admin(), id);
    await h.waitFor(async () => (await h!.core.store.requests.get(id))?.progress === 'submitted', { what: 'job submitted' });
    expect(surface.drawsFor(id)).toHaveLength(0);
    await h.close();
    const draws = surface.drawsFor(id);
    expect(draws).toHaveLength(1);
    expect(seen).toHaveLength(1);
    expect(draws[0]!.state).toBe('provisioning');
    expect(draws[0]!.progress.find((p) => p.step === 'submitted')?.status).toBe('done');
  });

  it('a request’s card and notices go to the surface of its own platform; onCard sees all', async () => {
    h = await startHarness();
    const slack = new RecordingSurface('slack');
    const discord = new RecordingSurface('discord');
    const web: string[] = [];
    h.core.workflow.attachSurface(slack);
    h.core.workflow.attachSurface(discord);
    h.core.workflow.onCard((card) => web.push(card.requestId));
    const fromSlack = await submit(h, 'from-slack');
    const d = await h.core.workflow.submitRequest(h.member('500000000000000001', 'discord'), h.input({ name: 'from-discord' }));
    if (!d.ok) throw new Error('submit failed');
    const fromDiscord = d.value.requestId;
    await h.waitFor(() => slack.drawsFor(fromSlack).length > 0 && discord.drawsFor(fromDiscord).length > 0, { what: 'both cards' });
    expect(slack.drawsFor(fromDiscord)).toEqual([]);
    expect(discord.drawsFor(fromSlack)).toEqual([]);
    expect(discord.noticesFor(fromDiscord).map((n) => n.kind)).toEqual(['requested']);
    expect(slack.noticesFor(fromDiscord)).toEqual([]);
    await h.waitFor(() => web.includes(fromSlack) && web.includes(fromDiscord), { what: 'both cards on onCard' });
    expect(await h.core.store.cards.get(fromDiscord, 'discord')).toBe('card-1');
  });

  it('a failing surface never fails a request', async () => {
    h = await startHarness();
    const surface = new RecordingSurface('slack');
    surface.failing = true;
    h.core.workflow.attachSurface(surface);
    const id = await submit(h);
    expect((await h.core.workflow.approve(h.admin(), id)).ok).toBe(true);
    await h.inState(id, 'running');
  });
});
