// Drawing neutral views as Discord messages: within Discord's limits (checked by the same
// validator the double uses), member text inert, buttons only where the card allows them.
import { describe, expect, it } from 'vitest';
import { drawCard, drawActions, fitEmbed, listEmbed, noticeText, problemsText } from '../../../../src/chat/discord/draw.js';
import type { CardAction, VmSummaryView } from '../../../../src/workflow/views.js';
import { validateMessageBody, effectivePings } from '../../../support/discord-double.js';
import { pendingCard, vmSummary } from '../../../support/views.js';

const card = pendingCard;

const embedSize = (e: { title?: string; description?: string; footer?: { text: string }; fields?: Array<{ name: string; value: string }> }) =>
  (e.title?.length ?? 0) + (e.description?.length ?? 0) + (e.footer?.text.length ?? 0) + (e.fields ?? []).reduce((n, f) => n + f.name.length + f.value.length, 0);

describe('drawCard', () => {
  it('draws a pending card with Approve (success) and Deny (danger) buttons keyed by request id', () => {
    const drawn = drawCard(card());
    expect(drawn.components).toEqual([
      {
        type: 1,
        components: [
          { type: 2, custom_id: 'vm:approve:k3x9q2m7bz', label: 'Approve', style: 3 },
          { type: 2, custom_id: 'vm:deny:k3x9q2m7bz', label: 'Deny', style: 4 },
        ],
      },
    ]);
    expect(drawn.embeds[0]!.title).toBe('VM web1');
    expect(drawn.embeds[0]!.footer!.text).toBe('request k3x9q2m7bz');
    expect(validateMessageBody({ ...drawn, allowed_mentions: { parse: [] } }, { requireContent: true })).toEqual([]);
  });

  it('removes the buttons after a decision and says who decided, with the reason inert', () => {
    const drawn = drawCard(
      card({
        state: 'denied',
        stateLabel: 'Denied',
        actions: [],
        decision: { verb: 'denied', by: { platform: 'discord', userId: '300000000000000021' }, at: '2026-12-01T08:00:00.000Z', reason: 'no @everyone <@&200000000000000010> **bold**' },
      }),
    );
    expect(drawn.components).toEqual([]);
    const decision = drawn.embeds[0]!.fields!.find((f) => f.name === 'Decision')!.value;
    expect(decision).toContain('Denied by <@300000000000000021> <t:1796112000:f>');
    expect(decision).not.toMatch(/@everyone|<@&/);
    expect(decision).toContain('\\*\\*bold\\*\\*');
  });

  it('keeps a card with huge member text and console tail within the 6000-character embed limit', () => {
    const drawn = drawCard(
      card({
        reason: 'r'.repeat(5000),
        login: 'l'.repeat(500),
        progress: [
          { step: 'mac', label: 'MAC allocated', status: 'done', detail: '52:54:84:ba:49:00' },
          { step: 'submitted', label: 'Job submitted', status: 'failed', detail: 'x'.repeat(2000) },
        ],
        failure: { code: 'task_failed', message: 'm'.repeat(3000), consoleTail: Array.from({ length: 200 }, (_, i) => `line ${i} \`\`\` ${'y'.repeat(50)}`) },
        address: { ipv4: '10.10.0.42', ssh: 'ssh alice@10.10.0.42' },
        decision: { verb: 'approved', by: { platform: 'discord', userId: '300000000000000021' }, at: '2026-12-01T08:00:00.000Z' },
      }),
    );
    const embed = drawn.embeds[0]!;
    expect(embedSize(embed)).toBeLessThanOrEqual(6000);
    expect(validateMessageBody({ ...drawn, allowed_mentions: { parse: [] } }, { requireContent: true })).toEqual([]);
  });

  it('puts at most 5 buttons in a row and at most 5 rows', () => {
    const many: CardAction[] = Array.from({ length: 30 }, (_, i) => ({ kind: 'retry', requestId: `r${i}`, label: `Retry ${i}`, style: 'default' }));
    const rows = drawActions(many);
    expect(rows).toHaveLength(5);
    for (const row of rows) expect(row.components.length).toBeLessThanOrEqual(5);
    expect(validateMessageBody({ content: 'x', components: rows, allowed_mentions: { parse: [] } }, { requireContent: true })).toEqual([]);
  });

  it('refuses to build a custom_id over 100 characters rather than let Discord reject the card', () => {
    expect(() => drawActions([{ kind: 'approve', requestId: 'x'.repeat(100), label: 'Approve', style: 'primary' }])).toThrow(/longer than 100/);
  });
});

describe('fitEmbed', () => {
  it('shortens the longest fields first and leaves short ones alone', () => {
    const fitted = fitEmbed({ title: 't', fields: [{ name: 'a', value: 'short' }, { name: 'b', value: 'z'.repeat(1024) }, { name: 'c', value: 'z'.repeat(1024) }, { name: 'd', value: 'z'.repeat(1024) }, { name: 'e', value: 'z'.repeat(1024) }, { name: 'f', value: 'z'.repeat(1024) }, { name: 'g', value: 'z'.repeat(1024) }] });
    expect(embedSize(fitted)).toBeLessThanOrEqual(6000);
    expect(fitted.fields![0]!.value).toBe('short');
  });
});

describe('member-facing text', () => {
  const vm = (over: Partial<VmSummaryView> = {}): VmSummaryView => vmSummary({ requestId: 'r1', ...over });

  it('notices never ping, whatever the reason says', () => {
    const text = noticeText({ kind: 'denied', requestId: 'r', name: 'web1', by: { platform: 'discord', userId: '300000000000000021' }, reason: '@here <@300000000000000013> <@&200000000000000010>' });
    expect(effectivePings(text, { parse: [] })).toEqual({ users: [], roles: [], everyone: false });
    // Even a client that parsed everything would find no mention in the member's text.
    const pings = effectivePings(text, undefined);
    expect(pings.everyone).toBe(false);
    expect(pings.roles).toEqual([]);
    expect(pings.users).toEqual(['300000000000000021']);
  });

  it('the "up" notice carries the ssh command and addresses', () => {
    expect(noticeText({ kind: 'up', requestId: 'r', name: 'web1', ipv4: '10.10.0.42', ipv6: ['2001:db8::42'], ssh: 'ssh alice@10.10.0.42' })).toMatch(
      /^Your VM \*\*web1\*\* is up: `ssh alice@10\.10\.0\.42`\nIPv4: `10\.10\.0\.42`\nIPv6: `2001:db8::42`\nLog in with the ssh command above/,
    );
  });

  it('lists problems with their field', () => {
    expect(problemsText([{ code: 'invalid_login', message: 'Use lower-case letters.', field: 'login' }])).toBe('• Use lower-case letters. (login)');
  });

  it('lists many VMs within the description limit, saying how many were left out', () => {
    const vms = Array.from({ length: 300 }, (_, i) => vm({ name: `vm-number-${i}`, requestId: `r${i}` }));
    const embed = listEmbed(vms, 'all');
    expect(embed.description!.length).toBeLessThanOrEqual(4096);
    expect(embed.description).toMatch(/… and \d+ more$/);
    expect(embed.title).toBe('All VMs (300)');
    expect(listEmbed([], 'mine').description).toContain('/vm request');
  });
});
