// What members see: /vm ip for owner, admin and others; invalid forms (ephemeral, nothing
// stored); closed DMs (fallback mention of that member only); slow work (deferred reply).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_SSH_KEY } from '../../../support/harness.js';
import { ALICE, BOB_DMS_CLOSED, CAROL_ADMIN, EVE, FALLBACK_CHANNEL, startWorld, type World } from './world.js';
import type { VmWorkflow } from '../../../../src/workflow/api.js';

const EPHEMERAL = 64;
const flagsOf = (data: unknown) => Number((data as { flags?: number } | undefined)?.flags ?? 0);

describe('discord: members', () => {
  let w: World;
  /** Held by the test to make `status` slow; resolved when the test has seen the deferral. */
  let statusGate: Promise<void> | undefined;
  beforeAll(async () => {
    w = await startWorld({
      harness: { sim: { startDelayMs: 20, chunkDelayMs: 5 } },
      deferAfterMs: 1_000,
      // A slow cluster for `status` only: the real workflow, answered after the gate opens.
      wrap: (workflow): VmWorkflow =>
        Object.assign(Object.create(workflow) as VmWorkflow, {
          status: async (...args: Parameters<VmWorkflow['status']>) => {
            if (statusGate) await statusGate;
            return workflow.status(...args);
          },
        }),
    });
  });
  afterAll(async () => {
    await w?.close();
  });

  it('/vm ip answers the owner and an admin, and refuses anyone else', async () => {
    const { double, h } = w;
    const { requestId, where } = await w.request(ALICE, 'ip1');
    await double.pressButton(CAROL_ADMIN, where, `vm:approve:${requestId}`).response();
    const vm = await h.waitFor(async () => {
      const r = await h.core.store.requests.get(requestId);
      return r?.state === 'running' && r;
    }, { what: 'ip1 running', timeoutMs: 20_000 });

    for (const who of [ALICE, CAROL_ADMIN]) {
      const i = double.slashCommand(who, 'ip', { name: 'ip1' });
      const cb = await i.response();
      if (cb.type !== 6) expect(flagsOf(cb.data) & EPHEMERAL).toBe(EPHEMERAL);
      expect((await i.ephemeralText())).toContain(`ssh alice@${vm.address!.ipv4}`);
    }
    const byEve = double.slashCommand(EVE, 'ip', { name: 'ip1' });
    const cb = await byEve.response();
    if (cb.type !== 6) expect(flagsOf(cb.data) & EPHEMERAL).toBe(EPHEMERAL);
    expect((await byEve.ephemeralText())).not.toContain(vm.address!.ipv4!);
    expect((await byEve.ephemeralText())).toMatch(/own|admin/i);
  });

  it('/vm list shows a member their own VMs and an admin everyone\'s', async () => {
    const { double } = w;
    await w.request(EVE, 'eves-vm', { login: 'eve' });
    await w.request(ALICE, 'alices-vm');
    const mine = double.slashCommand(EVE, 'list');
    await mine.response();
    expect((await mine.ephemeralText())).toContain('Your VMs (1)');
    expect((await mine.ephemeralText())).toContain('eves-vm');
    expect((await mine.ephemeralText())).not.toContain('alices-vm');
    const all = double.slashCommand(CAROL_ADMIN, 'list');
    await all.response();
    const text = (await all.ephemeralText());
    expect(text).toContain('All VMs');
    expect(text).toContain('eves-vm');
    expect(text).toContain('alices-vm');
    expect(text).toContain(`<@${EVE}>`);
    expect(text).toContain(`<@${ALICE}>`);
    expect(all.original!.pinged).toEqual({ users: [], roles: [], everyone: false });
  });

  it('suggests the member\'s own VM names as they type (autocomplete), only pending ones for cancel', async () => {
    const { double } = w;
    await w.request(EVE, 'eve-auto1', { login: 'eve' });
    const ip = double.autocomplete(EVE, 'ip', 'name', 'auto');
    expect((await ip.response()).type).toBe(8);
    expect(ip.choices).toEqual([{ name: 'eve-auto1 — Waiting for approval', value: 'eve-auto1' }]);
    const someoneElse = double.autocomplete(ALICE, 'status', 'name', 'eve');
    await someoneElse.response();
    expect(someoneElse.choices).toEqual([]);
    const admin = double.autocomplete(CAROL_ADMIN, 'cancel', 'name', 'eve-auto');
    await admin.response();
    expect(admin.choices!.map((c) => c.value)).toEqual(['eve-auto1']);
  });

  it('shows every form problem to the member only, and stores nothing', async () => {
    const { double, h } = w;
    const before = (await h.core.store.requests.list()).length;
    // A bad name is refused before the form opens.
    const badName = double.slashCommand(EVE, 'request', { name: 'Bad_Name!', distro: 'debian-12', size: 'small' });
    const refused = await badName.response();
    expect(refused.type).toBe(4);
    expect(flagsOf(refused.data) & EPHEMERAL).toBe(EPHEMERAL);
    expect(badName.modal).toBeUndefined();
    expect((await badName.ephemeralText())).toContain('(name)');

    // The form's fields are checked on submit, all problems at once.
    const command = double.slashCommand(EVE, 'request', { name: 'ok-name', distro: 'debian-12', size: 'small' });
    await command.response();
    const submit = double.submitModal(EVE, command, {
      login: 'Root Login',
      ssh_keys: '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----',
      reason: 'because',
    });
    const cb = await submit.response();
    expect([4, 5, 6]).toContain(cb.type); // answered at once, or deferred when the machine is slow
    if (cb.type !== 6) expect(flagsOf(cb.data) & EPHEMERAL).toBe(EPHEMERAL);
    const text = (await submit.ephemeralText());
    expect(text).toContain('(login)');
    expect(text).toMatch(/private key/i);
    expect((await h.core.store.requests.list()).length).toBe(before);
    expect(double.dmsTo(EVE).filter((m) => m.content.includes('ok-name'))).toEqual([]);
  });

  it('tells a member with closed DMs in the fallback channel, pinging only them', async () => {
    const { double } = w;
    const { requestId, where } = await w.request(BOB_DMS_CLOSED, 'bobs-vm', { login: 'bob', ssh_keys: TEST_SSH_KEY });
    const requested = await double.waitFor(() => double.messages(FALLBACK_CHANNEL).find((m) => m.content.includes('bobs-vm')), { what: 'the fallback notice' });
    expect(requested.content.startsWith(`<@${BOB_DMS_CLOSED}>`)).toBe(true);
    expect(requested.allowed_mentions).toEqual({ parse: [], users: [BOB_DMS_CLOSED] });
    expect(requested.pinged).toEqual({ users: [BOB_DMS_CLOSED], roles: [], everyone: false });
    // Discord refused the DM (50007) before the fallback was used.
    expect(double.rejections.filter((r) => r.code === 50007).length).toBeGreaterThan(0);
    expect(double.dmsTo(BOB_DMS_CLOSED)).toEqual([]);

    await double.pressButton(CAROL_ADMIN, where, `vm:approve:${requestId}`).response();
    const up = await double.waitFor(() => double.messages(FALLBACK_CHANNEL).find((m) => m.content.includes('bobs-vm') && m.content.includes('is up')), { what: 'the fallback "up" notice', timeoutMs: 20_000 });
    // The approving admin is named in the text but not pinged.
    expect(up.pinged).toEqual({ users: [BOB_DMS_CLOSED], roles: [], everyone: false });
  });

  it('defers the reply when the work is slow, then edits it with the answer', async () => {
    const { double } = w;
    let open!: () => void;
    statusGate = new Promise((resolve) => (open = resolve));
    try {
      const i = double.slashCommand(ALICE, 'status', { name: 'ip1' });
      const cb = await i.response();
      expect(cb.type).toBe(5);
      if (cb.type !== 6) expect(flagsOf(cb.data) & EPHEMERAL).toBe(EPHEMERAL);
      open();
      const answer = await double.waitFor(() => i.original && i.original.edits > 0 && i.original, { what: 'the deferred reply edited' });
      expect(answer.embeds[0]).toMatchObject({ title: 'VM ip1' });
      expect(answer.allowed_mentions).toEqual({ parse: [] });
    } finally {
      statusGate = undefined;
      open();
    }
  });
});
