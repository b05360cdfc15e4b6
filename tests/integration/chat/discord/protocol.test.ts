// Protocol-level behaviour of the adapter against the Discord double, with a small scripted
// VmWorkflow (the real one is exercised in the other files): deferral when work is slow,
// ephemeral answers, allowed_mentions on everything, Discord's limits and deadlines.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startDiscordDouble, type DiscordDouble, messageText } from '../../../support/discord-double.js';
import { createDiscordAdapter } from '../../../../src/chat/discord/index.js';
import { registerCommands } from '../../../../src/chat/discord/register.js';
import type { ChatAdapter } from '../../../../src/chat/adapter.js';
import type { VmWorkflow } from '../../../../src/workflow/api.js';
import type { Actor } from '../../../../src/domain/request.js';
import { ACTION_KINDS, ACTIONS, type ActionCommand, type RequestCardView, type VmSummaryView } from '../../../../src/workflow/views.js';
import { actionFor } from '../../../../src/workflow/cards.js';
import { buttonId } from '../../../../src/chat/discord/custom-ids.js';
import { FORM_FIELDS } from '../../../../src/chat/discord/commands.js';
import { ok, fail, problem } from '../../../../src/domain/problem.js';
import { silentLogger } from '../../../../src/log.js';
import { actThrough, pendingCard, vmSummary } from '../../../support/views.js';
import { ADMIN_CHANNEL, ALICE, BOB_DMS_CLOSED, CAROL_ADMIN, EVE, FALLBACK_CHANNEL, GUILD, TOKEN } from './guild.js';

const EPHEMERAL = 64;
const CATALOGUE = { distros: [{ name: 'debian-12', label: 'Debian 12' }], sizes: [{ name: 'small', label: '2 GB' }] };

const vm = (over: Partial<VmSummaryView> = {}): VmSummaryView => vmSummary({ requestId: 'req0000001', owner: { platform: 'discord', userId: ALICE }, ...over });

const card = (over: Partial<RequestCardView> = {}): RequestCardView =>
  pendingCard({ requestId: 'req0000001', requester: { platform: 'discord', userId: ALICE }, sizeLabel: '2 GB', ...over });

/** A scripted workflow: each test sets what the calls answer; calls are recorded. */
class ScriptedWorkflow implements VmWorkflow {
  calls: Array<{ method: string; actor: Actor; args: unknown[] }> = [];
  /** When set, ip() waits for it (a slow cluster). */
  gate: Promise<void> | undefined;
  admins = new Set([CAROL_ADMIN]);
  private record(method: string, actor: Actor, ...args: unknown[]) {
    this.calls.push({ method, actor, args });
  }
  async requestForm(actor: Actor) {
    this.record('requestForm', actor);
    return { distros: [], sizes: [], prefill: { login: 'alice', sshKeys: 'ssh-ed25519 AAAA old' } };
  }
  async submitRequest(actor: Actor, input: Parameters<VmWorkflow['submitRequest']>[1]) {
    this.record('submitRequest', actor, input);
    if (input.login === 'Bad Login') return fail(problem('invalid_login', 'The login name must be lower-case letters and digits.', 'login'));
    return ok(vm({ name: input.name, state: 'pending', stateLabel: 'Waiting for approval' }));
  }
  async approve(actor: Actor, id: string) {
    this.record('approve', actor, id);
    return this.admins.has(actor.userId) ? ok(vm()) : fail(problem('forbidden', 'Only vmbot admins can approve requests.'));
  }
  async deny(actor: Actor, id: string, reason: string) {
    this.record('deny', actor, id, reason);
    return this.admins.has(actor.userId) ? ok(vm({ state: 'denied' })) : fail(problem('forbidden', 'Only vmbot admins can deny requests.'));
  }
  async cancel(actor: Actor, ref: string) {
    this.record('cancel', actor, ref);
    return ok(vm({ state: 'cancelled' }));
  }
  async retry(actor: Actor, id: string) {
    this.record('retry', actor, id);
    return ok(vm());
  }
  async delete(actor: Actor, ref: string) {
    this.record('delete', actor, ref);
    return ok(vm({ state: 'deleting' }));
  }
  async renew(actor: Actor, ref: string) {
    this.record('renew', actor, ref);
    return ok(vm());
  }
  async decideRenewal(actor: Actor, id: string, verb: 'approve' | 'deny') {
    this.record('decideRenewal', actor, id, verb);
    return this.admins.has(actor.userId) ? ok(vm()) : fail(problem('forbidden', 'Only vmbot admins can decide on a renewal.'));
  }
  async stop(actor: Actor, ref: string) {
    this.record('stop', actor, ref);
    return ok(vm({ name: ref, state: 'stopped', stateLabel: 'Stopped' }));
  }
  async start(actor: Actor, ref: string) {
    this.record('start', actor, ref);
    return ok(vm({ name: ref, state: 'provisioning', stateLabel: 'Preparing' }));
  }
  async reboot(actor: Actor, ref: string) {
    this.record('reboot', actor, ref);
    return ok(vm({ name: ref }));
  }
  async rebuild(actor: Actor, ref: string) {
    this.record('rebuild', actor, ref);
    return ok(vm({ name: ref, state: 'provisioning', stateLabel: 'Preparing' }));
  }
  async setExpiry(actor: Actor, ref: string, date: string) {
    this.record('setExpiry', actor, ref, date);
    return this.admins.has(actor.userId) ? ok(vm({ name: ref })) : fail(problem('forbidden', 'Only vmbot admins can set a VM\'s expiry.'));
  }
  act(actor: Actor, command: ActionCommand) {
    this.record('act', actor, command);
    return actThrough(this, actor, command);
  }
  async canAct(actor: Actor, command: Omit<ActionCommand, 'reason'>) {
    this.record('canAct', actor, command.kind, command.requestId);
    const adminOnly = command.kind === 'approve' || command.kind === 'deny' || command.kind === 'retry';
    return adminOnly && !this.admins.has(actor.userId) ? fail(problem('forbidden', 'Only vmbot admins can do that.')) : ok(vm({ requestId: command.requestId }));
  }
  async ip(actor: Actor, name: string) {
    this.record('ip', actor, name);
    if (this.gate) await this.gate;
    return ok(vm({ name }));
  }
  async status(actor: Actor, name: string) {
    this.record('status', actor, name);
    return ok(vm({ name }));
  }
  async logs(actor: Actor, name: string) {
    this.record('logs', actor, name);
    return ok({ requestId: 'req-1', name, allocation: 'a1b2c3d4', lines: ['login: '] });
  }
  async list(actor: Actor) {
    this.record('list', actor);
    return ok([vm(), vm({ name: 'db1', requestId: 'req0000002', ipv4: undefined, ssh: undefined, state: 'pending', stateLabel: 'Waiting for approval' })]);
  }
  async card() {
    return card();
  }
  isAdmin(actor: Actor) {
    return this.admins.has(actor.userId);
  }
  attachSurface() {}
  onCard() {
    return () => undefined;
  }
  async resume() {}
  async close() {}
}

describe('discord adapter protocol', () => {
  let double: DiscordDouble;
  let workflow: ScriptedWorkflow;
  let adapter: ChatAdapter;

  beforeAll(async () => {
    double = await startDiscordDouble({ ...GUILD, token: TOKEN });
    await registerCommands({ apiUrl: double.apiUrl, token: TOKEN, applicationId: GUILD.applicationId, guildId: GUILD.guildId, catalogue: CATALOGUE, restOptions: { retries: 0 } });
    workflow = new ScriptedWorkflow();
    adapter = createDiscordAdapter({
      config: { apiUrl: double.apiUrl, applicationId: GUILD.applicationId, guildId: GUILD.guildId, adminChannel: ADMIN_CHANNEL, adminRoles: ['200000000000000010'], admins: [], fallbackChannel: FALLBACK_CHANNEL },
      token: TOKEN,
      workflow,
      logger: silentLogger,
      restOptions: { retries: 0, timeout: 5_000 },
      deferAfterMs: 1_000,
    });
    await adapter.start();
  });
  afterAll(async () => {
    await adapter?.stop();
    await double?.close();
  });
  afterEach(() => {
    const rejections = double.rejections.splice(0);
    expect(rejections).toEqual([]);
    workflow.calls = [];
    workflow.gate = undefined;
  });

  it('maps the member and their roles to the Actor', async () => {
    const i = double.slashCommand(CAROL_ADMIN, 'status', { name: 'web1' });
    await i.response();
    expect(workflow.calls[0]).toMatchObject({ method: 'status', actor: { platform: 'discord', userId: CAROL_ADMIN, displayName: 'carol' }, args: ['web1'] });
    expect([...workflow.calls[0]!.actor.groups].sort()).toEqual(['200000000000000010', '200000000000000011']);
  });

  it('answers fast work directly, ephemeral', async () => {
    const i = double.slashCommand(ALICE, 'ip', { name: 'web1' });
    const cb = await i.response();
    expect(cb.type).toBe(4);
    expect((cb.data as { flags: number }).flags & EPHEMERAL).toBe(EPHEMERAL);
    expect(i.ephemeralTexts()[0]).toContain('ssh alice@10.10.0.42');
  });

  it('defers when the work is slow, then edits the deferred reply', async () => {
    let open!: () => void;
    workflow.gate = new Promise((resolve) => (open = resolve));
    const i = double.slashCommand(ALICE, 'ip', { name: 'web1' });
    const cb = await i.response();
    expect(cb.type).toBe(5);
    expect((cb.data as { flags: number }).flags & EPHEMERAL).toBe(EPHEMERAL);
    open();
    const edited = await double.waitFor(() => i.original?.edits && i.original, { what: 'the deferred reply edited' });
    expect(edited.content).toContain('ssh alice@10.10.0.42');
    expect(edited.allowed_mentions).toEqual({ parse: [] });
  });

  it('opens the request modal prefilled, and shows validation problems to the member only', async () => {
    const cmd = double.slashCommand(ALICE, 'request', { name: 'web1', distro: 'debian-12', size: 'small' });
    expect((await cmd.response()).type).toBe(9);
    const rows = cmd.modal!.components as Array<{ type: number; component: { custom_id: string; value?: string } }>;
    expect(rows.map((r) => r.component.custom_id)).toEqual(['login', 'ssh_keys', 'reason']);
    expect(rows[0]!.component.value).toBe('alice');
    const submit = double.submitModal(ALICE, cmd, { login: 'Bad Login', reason: 'x' });
    const cb = await submit.response();
    expect(cb.type).toBe(4);
    expect((cb.data as { flags: number }).flags & EPHEMERAL).toBe(EPHEMERAL);
    expect(submit.ephemeralTexts()[0]).toContain('login name must be lower-case');
    expect(submit.ephemeralTexts()[0]).toContain('(login)');
    expect(workflow.calls.find((c) => c.method === 'submitRequest')!.args[0]).toMatchObject({ name: 'web1', distro: 'debian-12', size: 'small', login: 'Bad Login', sshKeys: 'ssh-ed25519 AAAA old' });
  });

  it('refuses a non-admin press ephemerally and leaves the card alone', async () => {
    const ref = await adapter.drawCard(card(), undefined);
    const [channelId, messageId] = ref.split(':') as [string, string];
    expect(channelId).toBe(ADMIN_CHANNEL);
    const press = double.pressButton(EVE, { channelId, messageId }, 'vm:approve:req0000001');
    const cb = await press.response();
    expect(cb.type).toBe(4);
    expect((cb.data as { flags: number }).flags & EPHEMERAL).toBe(EPHEMERAL);
    expect(press.ephemeralTexts()[0]).toContain('Only vmbot admins');
    expect(double.message(channelId, messageId)!.edits).toBe(0);
  });

  it('asks an admin for a deny reason in a modal; a non-admin Deny goes to the workflow (refused, audited there)', async () => {
    const ref = await adapter.drawCard(card({ requestId: 'req0000001' }), undefined);
    const [channelId, messageId] = ref.split(':') as [string, string];
    const byEve = double.pressButton(EVE, { channelId, messageId }, 'vm:deny:req0000001');
    expect((await byEve.response()).type).toBe(4);
    expect(workflow.calls.at(-1)).toMatchObject({ method: 'canAct', args: ['deny', 'req0000001'] });
    expect(workflow.calls.some((c) => c.method === 'deny')).toBe(false);

    const byCarol = double.pressButton(CAROL_ADMIN, { channelId, messageId }, 'vm:deny:req0000001');
    expect((await byCarol.response()).type).toBe(9);
    const submit = double.submitModal(CAROL_ADMIN, byCarol, { deny_reason: 'no @everyone <@&200000000000000011> here' });
    expect((await submit.response()).type).toBe(6);
    expect(workflow.calls.at(-1)).toMatchObject({ method: 'deny', args: ['req0000001', 'no @everyone <@&200000000000000011> here'] });
  });

  // Iterates ACTION_KINDS: a kind added to the list is drawn, decoded and routed with no Discord change.
  it.each(ACTION_KINDS.map((kind) => [kind]))('routes a press of %s to workflow.act, asking first what its spec needs', async (kind) => {
    const requestId = `rq-${kind}`;
    const ref = await adapter.drawCard(card({ requestId, actions: [actionFor(kind, requestId)] }), undefined);
    const [channelId, messageId] = ref.split(':') as [string, string];
    workflow.calls = [];
    const acts = () => workflow.calls.filter((c) => c.method === 'act').map((c) => c.args[0]);
    const press = double.pressButton(CAROL_ADMIN, { channelId, messageId }, buttonId(kind, requestId));
    const needs = ACTIONS[kind].needs;
    if (needs === 'reason') {
      expect((await press.response()).type).toBe(9); // the modal
      expect(acts()).toEqual([]);
      await double.submitModal(CAROL_ADMIN, press, { [FORM_FIELDS.actionReason]: 'routed by the test' }).response();
      expect(acts()).toEqual([{ kind, requestId, reason: 'routed by the test' }]);
    } else if (needs === 'confirmation') {
      expect((await press.response()).type).toBe(4); // the private confirmation
      expect(acts()).toEqual([]);
      await double.pressButton(CAROL_ADMIN, { ephemeralOf: press }, buttonId(kind, requestId, { confirmed: true })).response();
      expect(acts()).toEqual([{ kind, requestId }]);
    } else {
      await press.response();
      expect(acts()).toEqual([{ kind, requestId }]);
    }
  });

  it('draws card updates as PATCHes of the stored channel message, dropping stale versions', async () => {
    const ref = await adapter.drawCard(card({ requestId: 'req0000009', version: 1 }), undefined);
    const [channelId, messageId] = ref.split(':') as [string, string];
    await adapter.drawCard(card({ requestId: 'req0000009', version: 3, state: 'running', stateLabel: 'Running', actions: [] }), ref);
    await adapter.drawCard(card({ requestId: 'req0000009', version: 2, state: 'provisioning', stateLabel: 'Booting' }), ref);
    const m = double.message(channelId, messageId)!;
    expect(m.edits).toBe(1);
    expect(messageText(m)).toContain('Running');
    expect(m.components).toEqual([]);
  });

  it('DMs a member, and mentions only them in the fallback channel when their DMs are closed', async () => {
    await adapter.notifyMember({ platform: 'discord', userId: ALICE }, { kind: 'up', requestId: 'r', name: 'web1', ipv4: '10.10.0.42', ssh: 'ssh alice@10.10.0.42' });
    expect(double.dmsTo(ALICE).at(-1)!.content).toContain('ssh alice@10.10.0.42');

    await adapter.notifyMember({ platform: 'discord', userId: BOB_DMS_CLOSED }, { kind: 'denied', requestId: 'r', name: 'db1', by: { platform: 'discord', userId: CAROL_ADMIN }, reason: '@everyone <@&200000000000000010> <@300000000000000013>' });
    expect(double.dmsTo(BOB_DMS_CLOSED)).toEqual([]);
    expect(double.rejections.splice(0).map((r) => r.code)).toEqual([50007]);
    const fallback = double.messages(FALLBACK_CHANNEL).at(-1)!;
    expect(fallback.content.startsWith(`<@${BOB_DMS_CLOSED}>`)).toBe(true);
    expect(fallback.allowed_mentions).toEqual({ parse: [], users: [BOB_DMS_CLOSED] });
    expect(fallback.pinged).toEqual({ users: [BOB_DMS_CLOSED], roles: [], everyone: false });
    expect(fallback.content).not.toContain('<@&');
    expect(fallback.content).not.toContain('@everyone');
  });

  it('asks for confirmation before deleting from a card, then replaces the confirmation with the outcome', async () => {
    const ref = await adapter.drawCard(card({ requestId: 'req0000005', state: 'running', stateLabel: 'Running', actions: [{ kind: 'delete', requestId: 'req0000005', label: 'Delete', style: 'danger', needs: 'confirmation' }] }), undefined);
    const [channelId, messageId] = ref.split(':') as [string, string];
    const press = double.pressButton(CAROL_ADMIN, { channelId, messageId }, 'vm:delete:req0000005');
    expect((await press.response()).type).toBe(4);
    expect(workflow.calls.some((c) => c.method === 'delete')).toBe(false);
    const confirm = double.pressButton(CAROL_ADMIN, { ephemeralOf: press }, 'vm:delete-confirm:req0000005');
    expect((await confirm.response()).type).toBe(7);
    expect(workflow.calls.at(-1)).toMatchObject({ method: 'delete', args: ['req0000005'] });
    expect(press.original!.content).toContain('is being deleted');
    expect(press.original!.components).toEqual([]);
  });

  it('resumes its gateway session after the connection drops, and keeps answering', async () => {
    double.disconnectAll();
    await double.waitFor(() => double.resumes === 1, { what: 'the client to RESUME', timeoutMs: 10_000 });
    const i = double.slashCommand(ALICE, 'help');
    expect((await i.response()).type).toBe(4);
    expect(double.identifies).toHaveLength(1);
  });

  it('lists VMs and shows help, ephemeral', async () => {
    const list = double.slashCommand(ALICE, 'list');
    await list.response();
    expect(list.ephemeralTexts()[0]).toContain('web1');
    expect(list.ephemeralTexts()[0]).toContain('db1');
    const help = double.slashCommand(ALICE, 'help');
    await help.response();
    expect(help.ephemeralTexts()[0]).toContain('/vm request');
  });
});
