// Draws the neutral views (src/workflow/views.ts) as Discord embeds + components, within Discord's
// limits (5 buttons per row, 5 rows, custom_id <= 100, embed title 256, description 4096,
// 25 fields of 1024, 6000 characters in all). Pure: no I/O, no decisions.
import { ButtonStyle, ComponentType, type APIActionRowComponent, type APIButtonComponent, type APIButtonComponentWithCustomId, type APIEmbed, type APIEmbedField } from 'discord.js';
import type { Problem } from '../../domain/problem.js';
import type { RequestState } from '../../domain/states.js';
import type { MemberRef } from '../../domain/request.js';
import { helpWording, noticeWording, type Wording } from '../../workflow/notices.js';
import type { CardAction, ConsoleLogView, MemberNotice, ProgressItem, RequestCardView, VmSummaryView } from '../../workflow/views.js';
import { buttonId } from './custom-ids.js';
import { clip, inert, mentionUser } from './mentions.js';

export const LIMITS = { rows: 5, buttonsPerRow: 5, title: 256, description: 4096, fields: 25, fieldName: 256, fieldValue: 1024, embedTotal: 6000, content: 2000 } as const;

export type ButtonRow = APIActionRowComponent<APIButtonComponent>;

export interface DrawnMessage {
  content?: string;
  embeds: APIEmbed[];
  components: ButtonRow[];
}

const STATE_COLOURS: Record<RequestState, number> = {
  pending: 0xf1c40f,
  approved: 0x3498db,
  provisioning: 0x3498db,
  running: 0x2ecc71,
  stopped: 0x95a5a6,
  denied: 0x95a5a6,
  cancelled: 0x95a5a6,
  failed: 0xe74c3c,
  deleting: 0xe67e22,
  deleted: 0x7f8c8d,
  lost: 0xe74c3c,
};

const STEP_MARKS: Record<ProgressItem['status'], string> = { done: '✅', current: '⏳', todo: '▫️', failed: '❌' };

/** The admin card: one embed, and the buttons the card allows now (none after a decision). */
export function drawCard(card: RequestCardView): DrawnMessage {
  const fields: APIEmbedField[] = [
    { name: 'Requested by', value: mentionUser(card.requester.userId), inline: true },
    { name: 'Distro', value: clip(inert(card.distroLabel), 200), inline: true },
    { name: 'Size', value: clip(inert(card.sizeLabel), 200), inline: true },
    { name: 'Login', value: clip(inert(card.login), 200), inline: true },
    { name: 'Reason', value: clip(inert(card.reason), LIMITS.fieldValue) || '—' },
  ];
  if (card.quota) fields.push({ name: 'Quota (their use before this request)', value: clip(inert(card.quota), LIMITS.fieldValue) });
  if (card.progress.length > 0) {
    fields.push({ name: 'Progress', value: clip(card.progress.map(progressLine).join('\n'), LIMITS.fieldValue) });
  }
  if (card.address) fields.push({ name: 'Address', value: addressText(card.address) });
  if (card.decision) {
    const d = card.decision;
    const verb = d.verb.charAt(0).toUpperCase() + d.verb.slice(1);
    const reason = d.reason ? `\nReason: ${inert(d.reason)}` : '';
    fields.push({ name: 'Decision', value: clip(`${verb} by ${mentionUser(d.by.userId)} ${timestamp(d.at)}${reason}`, LIMITS.fieldValue) });
  }
  if (card.lease) {
    const ask = card.renewalRequestedAt ? `\n⏳ ${mentionUser(card.requester.userId)} asked for a renewal ${timestamp(card.renewalRequestedAt)}: approve or deny it below.` : '';
    fields.push({ name: 'Lease', value: clip(inert(card.lease) + ask, LIMITS.fieldValue) });
  }
  if (card.failure) {
    const tail = card.failure.consoleTail?.length ? `\n${codeBlock(card.failure.consoleTail.join('\n'), 700)}` : '';
    fields.push({ name: `Failed (${card.failure.code})`, value: clip(inert(card.failure.message), LIMITS.fieldValue - tail.length - 1) + tail });
  }
  const embed: APIEmbed = {
    title: clip(`VM ${card.name}`, LIMITS.title),
    description: `**${inert(card.stateLabel)}**`,
    color: STATE_COLOURS[card.state],
    fields,
    footer: { text: `request ${card.requestId}` },
  };
  return { embeds: [fitEmbed(embed)], components: drawActions(card.actions) };
}

/** Buttons in rows of 5, at most 5 rows; anything beyond is dropped rather than refused by Discord. */
export function drawActions(actions: readonly CardAction[]): ButtonRow[] {
  const buttons: APIButtonComponent[] = actions.slice(0, LIMITS.rows * LIMITS.buttonsPerRow).map(
    (a): APIButtonComponentWithCustomId => ({
      type: ComponentType.Button,
      custom_id: buttonId(a.kind, a.requestId),
      label: clip(a.label, 80),
      style: buttonStyle(a),
    }),
  );
  const rows: ButtonRow[] = [];
  for (let i = 0; i < buttons.length; i += LIMITS.buttonsPerRow) {
    rows.push({ type: ComponentType.ActionRow, components: buttons.slice(i, i + LIMITS.buttonsPerRow) });
  }
  return rows;
}

function buttonStyle(a: CardAction): APIButtonComponentWithCustomId['style'] {
  if (a.style === 'danger') return ButtonStyle.Danger;
  if (a.style === 'primary') return a.kind === 'approve' ? ButtonStyle.Success : ButtonStyle.Primary;
  return ButtonStyle.Secondary;
}

/** Keeps the embed under Discord's 6000-character total by shortening the longest field values. */
export function fitEmbed(embed: APIEmbed): APIEmbed {
  const size = (e: APIEmbed) =>
    (e.title?.length ?? 0) + (e.description?.length ?? 0) + (e.footer?.text.length ?? 0) + (e.author?.name.length ?? 0) + (e.fields ?? []).reduce((n, f) => n + f.name.length + f.value.length, 0);
  const out: APIEmbed = { ...embed, fields: (embed.fields ?? []).slice(0, LIMITS.fields).map((f) => ({ ...f })) };
  if (out.description) out.description = clip(out.description, LIMITS.description);
  let excess = size(out) - LIMITS.embedTotal;
  while (excess > 0 && out.fields!.length > 0) {
    const longest = out.fields!.reduce((a, b) => (b.value.length > a.value.length ? b : a));
    const keep = Math.max(1, longest.value.length - excess);
    excess -= longest.value.length - keep;
    longest.value = clip(longest.value, keep);
    if (keep === 1) break;
  }
  return out;
}

function progressLine(p: ProgressItem): string {
  return `${STEP_MARKS[p.status]} ${inert(p.label)}${p.detail ? ` — \`${p.detail.replaceAll('`', "'")}\`` : ''}`;
}

function addressText(a: { ipv4?: string; ipv6?: string[]; ssh: string }): string {
  const lines = [`\`${a.ssh.replaceAll('`', "'")}\``];
  if (a.ipv4) lines.push(`IPv4 ${a.ipv4}`);
  for (const v6 of a.ipv6 ?? []) lines.push(`IPv6 ${v6}`);
  return clip(lines.join('\n'), LIMITS.fieldValue);
}

/** A fenced block; backticks in console output cannot close it early. */
function codeBlock(text: string, max: number): string {
  return '```\n' + clip(text.replaceAll('```', "'''"), max) + '\n```';
}

/** Discord renders `<t:unix:f>` in each reader's own time zone. */
function timestamp(iso: string): string {
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? '' : `<t:${Math.floor(ms / 1000)}:f>`;
}

// --- replies to the member (ephemeral) -------------------------------------------------------

export function problemsText(problems: readonly Problem[]): string {
  const lines = problems.map((p) => `• ${inert(p.message)}${p.field ? ` (${inert(p.field)})` : ''}`);
  return clip(lines.join('\n'), LIMITS.content);
}

export function vmLine(vm: VmSummaryView): string {
  const where = vm.ssh ? ` — \`${vm.ssh.replaceAll('`', "'")}\`` : vm.ipv4 ? ` — ${vm.ipv4}` : '';
  return `**${inert(vm.name)}** · ${inert(vm.stateLabel)} · ${inert(vm.distroLabel)}, ${inert(vm.sizeLabel)}${where}${vm.lease ? ` · ${inert(vm.lease)}` : ''}`;
}

export function vmEmbed(vm: VmSummaryView): APIEmbed {
  const fields: APIEmbedField[] = [
    { name: 'State', value: inert(vm.stateLabel), inline: true },
    { name: 'Owner', value: mentionUser(vm.owner.userId), inline: true },
    { name: 'Distro', value: inert(vm.distroLabel), inline: true },
    { name: 'Size', value: inert(vm.sizeLabel), inline: true },
  ];
  if (vm.ipv4) fields.push({ name: 'IPv4', value: vm.ipv4, inline: true });
  if (vm.ssh) fields.push({ name: 'SSH', value: `\`${vm.ssh.replaceAll('`', "'")}\`` });
  if (vm.failure) fields.push({ name: 'Failure', value: clip(inert(vm.failure), LIMITS.fieldValue) });
  if (vm.lease) fields.push({ name: 'Lease', value: clip(inert(vm.lease), LIMITS.fieldValue) });
  return fitEmbed({ title: clip(`VM ${vm.name}`, LIMITS.title), color: STATE_COLOURS[vm.state], fields });
}

export function listEmbed(vms: readonly VmSummaryView[], scope: 'mine' | 'all'): APIEmbed {
  const title = scope === 'all' ? 'All VMs' : 'Your VMs';
  if (vms.length === 0) return { title, description: scope === 'all' ? 'There are no VMs.' : 'You have no VMs. Ask for one with `/vm request`.' };
  const lines = vms.map((vm) => (scope === 'all' ? `${vmLine(vm)} · ${mentionUser(vm.owner.userId)}` : vmLine(vm)));
  let description = '';
  for (const [i, line] of lines.entries()) {
    const more = `\n… and ${lines.length - i} more`;
    if (description.length + line.length + 1 + more.length > LIMITS.description) {
      description += more;
      break;
    }
    description += (description ? '\n' : '') + line;
  }
  return { title: `${title} (${vms.length})`, description };
}

/** A member as shown on Discord: a mention for Discord users, inert text for anyone else. */
export function who(member: MemberRef): string {
  return member.platform === 'discord' ? mentionUser(member.userId) : inert(member.displayName ?? `${member.platform}:${member.userId}`);
}

/** vmbot's wording (src/workflow/notices.ts) as Discord markdown: every span made inert, formatted by its kind. */
export function markdownOf(wording: Wording): string {
  return wording
    .map((s) => {
      if ('text' in s) return inert(s.text);
      if ('strong' in s) return `**${inert(s.strong)}**`;
      if ('member' in s) return who(s.member);
      if ('code' in s) return `\`${s.code.replaceAll('`', "'")}\``;
      return s.quote
        .trim()
        .split('\n')
        .map((line) => `> ${inert(line)}`)
        .join('\n');
    })
    .join('');
}

/** What a member is told by DM (or in the fallback channel). */
export function noticeText(notice: MemberNotice): string {
  return clip(markdownOf(noticeWording(notice)), LIMITS.content - 120);
}

/**
 * `/vm logs`: the title as the content, the lines as a code block in an embed's description
 * (4096 characters: a boot's 40 lines fit, a message's 2000 would not). Lines that do not
 * fit are dropped from the oldest, and the footer says how many are shown.
 */
export function consoleLogMessage(log: ConsoleLogView): { content: string; embeds: APIEmbed[] } {
  const name = `**${inert(log.name)}**`;
  const allocation = `\`${log.allocation.replaceAll('`', "'")}\``;
  if (log.lines.length === 0) return { content: `The console of ${name} (allocation ${allocation}) is empty so far.`, embeds: [] };
  const room = LIMITS.description - 8; // the fences and their line ends
  const kept: string[] = [];
  let size = 0;
  for (let i = log.lines.length - 1; i >= 0; i--) {
    const line = clip(log.lines[i]!.replaceAll('```', "'''"), room);
    if (size + line.length + 1 > room) break;
    kept.unshift(line);
    size += line.length + 1;
  }
  const embed: APIEmbed = { description: '```\n' + kept.join('\n') + '\n```' };
  if (kept.length < log.lines.length) embed.footer = { text: `The last ${kept.length} of ${log.lines.length} lines: Discord shows at most ${LIMITS.description} characters here.` };
  const count = `${log.lines.length} console line${log.lines.length === 1 ? '' : 's'}`;
  return { content: `Last ${count} of ${name} (allocation ${allocation}):`, embeds: [embed] };
}

/** `/vm help`: the Discord command takes the VM's name, distro and size as options. */
export function helpText(): string {
  return markdownOf(helpWording({ requestArgs: 'NAME DISTRO SIZE' }));
}
