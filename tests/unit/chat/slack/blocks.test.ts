import { describe, expect, it } from 'vitest';
import { capBlocks, cardMessage, noticeMessage, replyMessage, slackDate, who } from '../../../../src/chat/slack/blocks.js';
import { denyModal, problemsToErrors, readRequestSubmission, requestModal } from '../../../../src/chat/slack/modals.js';
import type { RequestCardView, VmSummaryView } from '../../../../src/workflow/views.js';
import { actionIds, validateBlocks } from '../../../support/slack-double.js';
import { pendingCard } from '../../../support/views.js';

const HOSTILE = '<!channel> <https://evil.example|click here> & <@U0ADMIN01>';

function card(over: Partial<RequestCardView> = {}): RequestCardView {
  return pendingCard({ name: 'my-vm', requester: { platform: 'slack', userId: 'U0MEMBER1', displayName: 'member' }, reason: 'Coursework', ...over });
}

const texts = (blocks: unknown[]): string => JSON.stringify(blocks);

/** Every mrkdwn string in the blocks: the only texts Slack parses for mentions and links. */
function mrkdwnTexts(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(mrkdwnTexts);
  if (value && typeof value === 'object') {
    const o = value as Record<string, unknown>;
    const own = o['type'] === 'mrkdwn' && typeof o['text'] === 'string' ? [o['text']] : [];
    return [...own, ...Object.values(o).flatMap(mrkdwnTexts)];
  }
  return [];
}

describe('cardMessage', () => {
  it('draws a pending card with Approve/Deny buttons that carry the request id', () => {
    const m = cardMessage(card());
    expect(validateBlocks(m.blocks, 'message')).toEqual([]);
    expect(actionIds(m.blocks as never)).toEqual(['vm:approve', 'vm:deny']);
    expect(texts(m.blocks)).toContain('"value":"k3x9q2m7bz"');
    expect(texts(m.blocks)).toContain('<@U0MEMBER1>');
  });

  it('shows hostile member text inert, in the blocks and in the fallback text', () => {
    const m = cardMessage(card({ reason: HOSTILE, name: 'x<!here>', login: '<!everyone>' }));
    const all = mrkdwnTexts(m.blocks).join('\n') + m.text;
    expect(all).not.toContain('<!channel>');
    expect(all).not.toContain('<!here>');
    expect(all).not.toContain('<!everyone>');
    expect(all).not.toContain('<https://evil');
    expect(all).toContain('&lt;!channel&gt;');
  });

  it('replaces the buttons with who decided and when', () => {
    const m = cardMessage(card({ state: 'approved', stateLabel: 'Approved', actions: [], decision: { verb: 'approved', by: { platform: 'slack', userId: 'U0ADMIN01' }, at: '2026-01-02T03:04:05.000Z' } }));
    expect(actionIds(m.blocks as never)).toEqual([]);
    expect(texts(m.blocks)).toContain('Approved by <@U0ADMIN01> <!date^1767323045^');
  });

  it('puts a confirmation on Delete and shows the address and the failure', () => {
    const m = cardMessage(
      card({
        state: 'failed',
        stateLabel: 'Failed',
        failure: { code: 'ip_timeout', message: 'no address', consoleTail: ['line ```', 'x'.repeat(5000)] },
        address: { ipv4: '10.10.0.42', ssh: 'ssh alice@10.10.0.42' },
        progress: [{ step: 'mac', label: 'MAC', status: 'done', detail: '52:54:84:ba:49:02' }],
        actions: [
          { kind: 'retry', requestId: 'r1', label: 'Retry', style: 'primary' },
          { kind: 'delete', requestId: 'r1', label: 'Delete', style: 'danger', needs: 'confirmation' },
        ],
      }),
    );
    expect(validateBlocks(m.blocks, 'message')).toEqual([]);
    const del = JSON.parse(texts(m.blocks)).flatMap((b: { elements?: unknown[] }) => b.elements ?? []).find((e: { action_id?: string }) => e.action_id === 'vm:delete');
    expect(del.confirm.confirm.text).toBe('Delete');
    expect(texts(m.blocks)).toContain('ssh alice@10.10.0.42');
    expect(texts(m.blocks)).toContain('ip_timeout');
  });

  it('stays within Slack limits for huge inputs', () => {
    const m = cardMessage(card({ reason: '<'.repeat(20_000), name: 'n'.repeat(400), stateLabel: 's'.repeat(5000), actions: [{ kind: 'approve', requestId: 'r', label: 'L'.repeat(200), style: 'primary' }] }));
    expect(validateBlocks(m.blocks, 'message')).toEqual([]);
    expect(m.text.length).toBeLessThanOrEqual(500);
  });
});

describe('capBlocks', () => {
  it('keeps at most 50 blocks and says what was left out', () => {
    const many = Array.from({ length: 70 }, () => ({ type: 'divider' as const }));
    const capped = capBlocks(many);
    expect(capped).toHaveLength(50);
    expect(texts(capped)).toContain('21 more');
  });
});

describe('noticeMessage', () => {
  it('DMs the address and the ssh command when the VM is up', () => {
    const m = noticeMessage({ kind: 'up', requestId: 'r', name: 'my-vm', ipv4: '10.10.0.42', ssh: 'ssh alice@10.10.0.42' });
    expect(m.text).toContain('10.10.0.42');
    expect(m.text).toContain('ssh alice@10.10.0.42');
    expect(validateBlocks(m.blocks, 'message')).toEqual([]);
  });

  it('quotes a denial reason inertly', () => {
    const m = noticeMessage({ kind: 'denied', requestId: 'r', name: 'my-vm', by: { platform: 'slack', userId: 'U0ADMIN01' }, reason: HOSTILE });
    expect(m.text + texts(m.blocks)).not.toContain('<!channel>');
    expect(m.text).toContain('&lt;https://evil.example|click here&gt;');
  });
});

describe('replyMessage', () => {
  const vm = (i: number): VmSummaryView => ({ requestId: `r${i}`, name: `vm-${i}`, owner: { platform: 'slack', userId: 'U0MEMBER1' }, state: 'running', stateLabel: 'Running', distroLabel: 'Debian 12', sizeLabel: 'small', ipv4: '10.10.0.1', ssh: 'ssh a@10.10.0.1', failure: 'x'.repeat(1500) });

  it('packs a long list under 50 blocks of at most 3000 characters', () => {
    const m = replyMessage({ kind: 'list', vms: Array.from({ length: 400 }, (_, i) => vm(i)), scope: 'all' });
    expect(validateBlocks(m.blocks, 'message')).toEqual([]);
    expect(m.blocks.length).toBeLessThanOrEqual(50);
  });

  it('shows problems with their code', () => {
    const m = replyMessage({ kind: 'problems', problems: [{ code: 'forbidden', message: 'Only <admins>.' }] });
    expect(m.text).toContain('`forbidden`');
    expect(m.text).toContain('&lt;admins&gt;');
  });
});

describe('who and slackDate', () => {
  it('mentions Slack users and escapes other platforms', () => {
    expect(who({ platform: 'slack', userId: 'U0ADMIN01' })).toBe('<@U0ADMIN01>');
    expect(who({ platform: 'web', userId: 'x', displayName: '<!channel>' })).toBe('&lt;!channel&gt;');
    expect(slackDate('not a date')).toBe('not a date');
  });
});

describe('modals', () => {
  const form = { distros: [{ value: 'debian-12', label: 'Debian 12' }], sizes: [{ value: 'small', label: 'Small' }, { value: 'large', label: 'Large' }], prefill: { login: 'alice', sshKeys: 'ssh-ed25519 AAAA a@b' } };

  it('builds a valid request modal, prefilled, with block ids named after the fields', () => {
    const view = requestModal(form);
    expect(validateBlocks(view.blocks as never, 'modal')).toEqual([]);
    expect(view.blocks.map((b) => b.block_id)).toEqual(['name', 'distro', 'size', 'login', 'sshKeys', 'reason']);
    expect(texts(view.blocks)).toContain('"initial_value":"alice"');
  });

  it('reads a submission and maps problems to blocks', () => {
    const input = readRequestSubmission({ name: { value: { type: 'plain_text_input', value: ' vm1 ' } }, distro: { value: { type: 'static_select', selected_option: { value: 'debian-12' } } } });
    expect(input).toEqual({ name: 'vm1', distro: 'debian-12', size: '', login: '', sshKeys: '', reason: '' });
    expect(problemsToErrors([{ code: 'invalid_ssh_key', message: 'bad key', field: 'sshKeys' }, { code: 'quota_exceeded', message: 'too many' }], ['name', 'sshKeys'], 'name')).toEqual({ sshKeys: 'bad key', name: 'too many' });
  });

  it('builds a deny modal carrying the request id', () => {
    const view = denyModal({ requestId: 'r1', channel: 'C1' }, '<!here>');
    expect(JSON.parse(view.private_metadata!)).toEqual({ requestId: 'r1', channel: 'C1' });
    expect(texts(view.blocks)).not.toContain('<!here>');
  });
});
