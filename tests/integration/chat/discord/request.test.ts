// Request → approve → address DM and card edits, through a real discord.js client connected to
// the Discord double, the real workflow, SQLite and the simulated cluster.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buttonIds, messageText } from '../../../support/discord-double.js';
import { TEST_SSH_KEY } from '../../../support/harness.js';
import { ADMIN_CHANNEL, ALICE, CAROL_ADMIN, startWorld, type World } from './world.js';

const EPHEMERAL = 64;

describe('discord: request, approve, VM up', () => {
  let w: World;
  beforeAll(async () => {
    w = await startWorld({ harness: { sim: { startDelayMs: 20, chunkDelayMs: 5 } } });
  });
  afterAll(async () => {
    await w?.close();
  });

  it('connects with JSON encoding, no compression and only the Guilds intent', () => {
    expect(w.double.identifies).toHaveLength(1);
    const id = w.double.identifies[0]!;
    expect(id.intents).toBe(1); // GatewayIntentBits.Guilds
    expect(id.compress).toBe(false);
    expect(id.query).toContain('encoding=json');
    expect(id.query).not.toContain('compress');
  });

  it('registered /vm with its subcommands and the catalogue as choices', () => {
    const vm = w.double.registered.at(-1)!.commands.find((c) => c.name === 'vm')!;
    const subs = (vm.options as Array<{ name: string; options?: Array<{ name: string; choices?: Array<{ value: string }> }> }>);
    expect(subs.map((s) => s.name)).toEqual(['request', 'ip', 'list', 'status', 'logs', 'delete', 'cancel', 'renew', 'stop', 'start', 'reboot', 'rebuild', 'expire', 'help']);
    const request = subs.find((s) => s.name === 'request')!;
    expect(request.options!.find((o) => o.name === 'size')!.choices!.map((c) => c.value)).toEqual(['small', 'medium', 'large']);
  });

  it('takes a request through the modal, posts the card, and after approval DMs the address and edits the card', async () => {
    const { double } = w;
    const command = double.slashCommand(ALICE, 'request', { name: 'web1', distro: 'debian-12', size: 'small' });
    expect((await command.response()).type).toBe(9);
    expect(command.modal!.title).toBe('Request VM web1');

    const submit = double.submitModal(ALICE, command, { login: 'alice', ssh_keys: TEST_SSH_KEY, reason: 'course work' });
    const ack = await submit.response();
    expect([4, 5]).toContain(ack.type);
    expect(Number((ack.data as { flags?: number }).flags) & EPHEMERAL).toBe(EPHEMERAL); // reply or deferral: ephemeral either way
    expect((await submit.ephemeralText())).toContain('is with the admins');

    const card = await w.card('web1');
    expect(card.channel_id).toBe(ADMIN_CHANNEL);
    expect(card.allowed_mentions).toEqual({ parse: [] });
    const requestId = buttonIds(card)[0]!.split(':')[2]!;
    expect(buttonIds(card)).toEqual([`vm:approve:${requestId}`, `vm:deny:${requestId}`]);
    expect(messageText(card)).toContain('Waiting for approval');

    const press = double.pressButton(CAROL_ADMIN, { channelId: card.channel_id, messageId: card.id }, `vm:approve:${requestId}`);
    expect((await press.response()).type).toBe(6); // deferred update: the card is edited via drawCard
    // From here on every interaction token is expired: the "up" notice and the card edits must
    // not depend on one (the double would refuse with 50027 and the test sees the rejection).
    double.tokenLifetimeMs = 0;

    const dm = await double.waitFor(() => double.dmsTo(ALICE).find((m) => m.content.includes('is up')), { what: 'the "VM is up" DM', timeoutMs: 20_000 });
    const vm = await w.h.core.store.requests.get(requestId);
    expect(vm?.state).toBe('running');
    expect(dm.content).toContain(`ssh alice@${vm!.address!.ipv4}`);
    expect(dm.allowed_mentions).toEqual({ parse: [] });

    // A new DM, never an edit of the (by then long dead) interaction.
    expect(submit.original!.edits).toBe(0);
    const edited = await double.waitFor(() => {
      const m = double.message(card.channel_id, card.id)!;
      return messageText(m).includes(vm!.address!.ipv4!) && m;
    }, { what: 'the card showing the address' });
    expect(messageText(edited)).toContain(`Approved by <@${CAROL_ADMIN}>`);
    expect(buttonIds(edited)).toEqual([`vm:delete:${requestId}`]);
    expect(double.channelEdits.some((e) => e.messageId === card.id)).toBe(true);
    expect(double.rejections).toEqual([]);
  });
});
