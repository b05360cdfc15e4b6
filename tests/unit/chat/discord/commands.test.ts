// The /vm command definition and the modals, checked with the double's validators (Discord's
// documented limits), plus the custom_id layout and the inert-text helper.
import { describe, expect, it } from 'vitest';
import { buildCommands, denyModal, requestModal } from '../../../../src/chat/discord/commands.js';
import { buttonId, parseCustomId, requestFormModalId } from '../../../../src/chat/discord/custom-ids.js';
import { inert, pingOnly, noPings } from '../../../../src/chat/discord/mentions.js';
import { validateCommands, validateModal, effectivePings } from '../../../support/discord-double.js';

const catalogue = {
  distros: [{ name: 'debian-12', label: 'Debian 12' }, { name: 'ubuntu-24', label: 'Ubuntu 24.04' }],
  sizes: [{ name: 'small', label: '2 CPU GHz, 2 GB' }],
};

describe('buildCommands', () => {
  it('defines /vm with its subcommands, valid for Discord', () => {
    const commands = buildCommands(catalogue);
    expect(validateCommands(commands as unknown as Array<Record<string, unknown>>)).toEqual([]);
    const vm = commands[0]!;
    expect(vm.name).toBe('vm');
    expect((vm as { options: Array<{ name: string }> }).options.map((o) => o.name)).toEqual(['request', 'ip', 'list', 'status', 'logs', 'delete', 'cancel', 'renew', 'stop', 'start', 'reboot', 'rebuild', 'expire', 'help']);
  });

  it('offers the catalogue as choices, at most the 25 Discord allows', () => {
    const big = { distros: Array.from({ length: 40 }, (_, i) => ({ name: `d${i}`, label: `Distro ${i}` })), sizes: catalogue.sizes };
    const commands = buildCommands(big);
    expect(validateCommands(commands as unknown as Array<Record<string, unknown>>)).toEqual([]);
    const request = (commands[0] as { options: Array<{ name: string; options: Array<{ name: string; choices?: unknown[] }> }> }).options[0]!;
    expect(request.options.find((o) => o.name === 'distro')!.choices).toHaveLength(25);
  });
});

describe('modals', () => {
  it('the request modal is valid and prefilled; it never prefills more than Discord accepts', () => {
    const id = requestFormModalId('web1', 'debian-12', 'small')!;
    const modal = requestModal(id, 'web1', { distros: [], sizes: [], prefill: { login: 'alice', sshKeys: 'k'.repeat(5000) } });
    expect(validateModal(modal as unknown as Record<string, unknown>)).toEqual([]);
    const inputs = (modal.components as Array<{ component: { custom_id: string; value?: string } }>).map((c) => c.component);
    expect(inputs.map((i) => i.custom_id)).toEqual(['login', 'ssh_keys', 'reason']);
    expect(inputs[0]!.value).toBe('alice');
    expect(inputs[1]!.value!.length).toBeLessThanOrEqual(4000);
  });

  it('the deny modal asks for a required reason', () => {
    const modal = denyModal('k3x9q2m7bz', 'a-very-long-vm-name-that-is-thirty-one');
    expect(validateModal(modal as unknown as Record<string, unknown>)).toEqual([]);
    expect(modal.custom_id).toBe('vm:deny-reason:k3x9q2m7bz');
  });
});

describe('custom ids', () => {
  it('round-trips buttons, deny reasons and request forms', () => {
    expect(parseCustomId(buttonId('approve', 'k3x9q2m7bz'))).toEqual({ kind: 'button', action: 'approve', requestId: 'k3x9q2m7bz', confirmed: false });
    expect(buttonId('delete', 'k3x9q2m7bz', { confirmed: true })).toBe('vm:delete-confirm:k3x9q2m7bz');
    expect(parseCustomId('vm:delete-confirm:k3x9q2m7bz')).toEqual({ kind: 'button', action: 'delete', requestId: 'k3x9q2m7bz', confirmed: true });
    expect(parseCustomId('vm:deny-reason:k3x9q2m7bz')).toEqual({ kind: 'reason', action: 'deny', requestId: 'k3x9q2m7bz' });
    expect(parseCustomId(requestFormModalId('we:b1', 'debian-12', 'small')!)).toEqual({ kind: 'request-form', name: 'we:b1', distro: 'debian-12', size: 'small' });
  });

  it('rejects what is not ours or is malformed', () => {
    // A confirmation or a reason only for the kinds whose spec asks for one.
    for (const id of ['other:approve:x', 'vm:approve', 'vm:approve:a:b', 'vm:launch:abc', 'vm:approve:../x', 'vm:request-form:%E0%A4%A:a:b', 'vm:approve-confirm:abc', 'vm:delete-reason:abc', 'vm:-confirm:abc']) {
      expect(parseCustomId(id)).toBeUndefined();
    }
  });

  it('gives up on a request form id that would exceed 100 characters', () => {
    expect(requestFormModalId('x'.repeat(90), 'debian-12', 'small')).toBeUndefined();
  });
});

describe('mentions', () => {
  it('makes member text inert: no ping, no rendered mention, no markdown', () => {
    const text = inert('@everyone <@300000000000000013> <@&200000000000000010> @here **x**');
    expect(effectivePings(text, undefined)).toEqual({ users: [], roles: [], everyone: false });
    expect(text).toContain('\\*\\*x\\*\\*');
  });

  it('allowed_mentions: nobody by default, exactly the listed users otherwise', () => {
    expect(noPings()).toEqual({ parse: [] });
    expect(pingOnly(['300000000000000012'])).toEqual({ parse: [], users: ['300000000000000012'] });
  });
});
