// Draws the neutral views (src/workflow/views.ts) as Block Kit. It decides nothing: what the
// card says and which buttons it offers come from the workflow. Every piece of member text
// is escaped (escape.ts) and fitted to Slack's limits (limits.ts).
import type { types } from '@slack/bolt';
import type { MemberRef } from '../../domain/request.js';
import type { Problem } from '../../domain/problem.js';
import { actionFor } from '../../workflow/cards.js';
import { ACTION_WORDING, noticeWording, type Wording } from '../../workflow/notices.js';
import { isActionKind, type ActionKind, type CardAction, type ConsoleLogView, type MemberNotice, type ProgressItem, type Reply, type RequestCardView, type VmSummaryView } from '../../workflow/views.js';
import { escapeCodeBlock, escapeMrkdwn, fitEscaped, mentionUser, mrkdwn, plain } from './escape.js';
import { LIMITS } from './limits.js';

export type Block = types.KnownBlock;
export type ButtonElement = types.Button;

/** What chat.postMessage / chat.update / respond() take: a fallback text and the blocks. */
export interface SlackMessage {
  text: string;
  blocks: Block[];
}

/** A button's action_id is `vm:<kind>` and its value the request id. */
export const ACTION_PREFIX = 'vm:';
export const actionId = (kind: ActionKind): string => `${ACTION_PREFIX}${kind}`;

/** The block of a notice's buttons: a press there is answered in the DM (no card is redrawn for it). */
export const NOTICE_ACTIONS_BLOCK = 'vm:notice-actions';

/** A pressed button back to what the workflow acts on; undefined for an id vmbot never drew. */
export function decodeAction(actionIdPressed: string, value: string | undefined): { kind: ActionKind; requestId: string } | undefined {
  if (!actionIdPressed.startsWith(ACTION_PREFIX) || !value) return undefined;
  const kind = actionIdPressed.slice(ACTION_PREFIX.length);
  return isActionKind(kind) ? { kind, requestId: value } : undefined;
}

const STEP_MARK: Record<ProgressItem['status'], string> = { done: ':white_check_mark:', current: ':hourglass_flowing_sand:', todo: ':white_small_square:', failed: ':x:' };

/** A member as shown in Slack: a real mention for Slack users, escaped text otherwise. */
export function who(member: MemberRef): string {
  if (member.platform === 'slack') {
    const mention = mentionUser(member.userId);
    if (mention) return mention;
  }
  return escapeMrkdwn(member.displayName ?? `${member.platform}:${member.userId}`);
}

/** Slack renders `<!date^...>` in the reader's time zone; the fallback is the ISO time. */
export function slackDate(iso: string): string {
  const seconds = Math.floor(Date.parse(iso) / 1000);
  if (!Number.isFinite(seconds)) return escapeMrkdwn(iso);
  return `<!date^${seconds}^{date_short_pretty} {time}|${escapeMrkdwn(iso)}>`;
}

const section = (text: string, blockId?: string): types.SectionBlock => ({
  type: 'section',
  text: { type: 'mrkdwn', text: fitEscaped(text, LIMITS.sectionText) },
  ...(blockId ? { block_id: blockId } : {}),
});

const context = (texts: string[]): types.ContextBlock => ({
  type: 'context',
  elements: texts.slice(0, LIMITS.contextElements).map((text) => ({ type: 'mrkdwn', text: fitEscaped(text, LIMITS.sectionText) })),
});

/** vmbot's wording (src/workflow/notices.ts) as mrkdwn: every span escaped, formatted by its kind. */
export function mrkdwnOf(wording: Wording, quoteMax = 2500): string {
  return wording
    .map((s) => {
      if ('text' in s) return escapeMrkdwn(s.text);
      if ('strong' in s) return `*${escapeMrkdwn(s.strong)}*`;
      if ('member' in s) return who(s.member);
      if ('code' in s) return `\`${escapeMrkdwn(s.code).replace(/`/g, "'")}\``;
      return quoted(s.quote, quoteMax);
    })
    .join('');
}

/** A quoted block of member text ("> ..." on every line). */
function quoted(raw: string, max: number): string {
  const escaped = escapeMrkdwn(raw.trim() || '(none)');
  return fitEscaped(escaped.split('\n').map((line) => `>${line}`).join('\n'), max);
}

export function button(action: CardAction): ButtonElement {
  const b: ButtonElement = {
    type: 'button',
    action_id: actionId(action.kind),
    text: { type: 'plain_text', text: plain(action.label, LIMITS.buttonText) },
    value: action.requestId,
  };
  if (action.style !== 'default') b.style = action.style;
  const confirm = ACTION_WORDING[action.kind].confirm;
  if (action.needs === 'confirmation' && confirm) {
    // Slack asks itself (a confirm dialog on the button): the press that arrives is confirmed.
    b.confirm = {
      title: { type: 'plain_text', text: plain(confirm.title, 100) },
      text: { type: 'mrkdwn', text: mrkdwn(confirm.detail, 300) },
      confirm: { type: 'plain_text', text: plain(confirm.yes, LIMITS.confirmButton) },
      deny: { type: 'plain_text', text: plain(confirm.no, LIMITS.confirmButton) },
      ...(action.style === 'danger' ? { style: 'danger' as const } : {}),
    };
  }
  return b;
}

function progressLine(item: ProgressItem): string {
  const detail = item.detail ? ` \`${escapeMrkdwn(item.detail).replace(/`/g, "'")}\`` : '';
  return `${STEP_MARK[item.status]} ${escapeMrkdwn(item.label)}${detail}`;
}

/** The admins' card for one request. */
export function cardMessage(card: RequestCardView): SlackMessage {
  const blocks: Block[] = [
    { type: 'header', text: { type: 'plain_text', text: plain(`VM request: ${card.name}`, LIMITS.headerText) } },
    {
      type: 'section',
      fields: [
        `*Requested by*\n${who(card.requester)}`,
        `*State*\n${escapeMrkdwn(card.stateLabel)}`,
        `*Distro*\n${escapeMrkdwn(card.distroLabel)}`,
        `*Size*\n${escapeMrkdwn(card.sizeLabel)}`,
        `*Login*\n\`${escapeMrkdwn(card.login).replace(/`/g, "'")}\``,
      ].map((text) => ({ type: 'mrkdwn' as const, text: fitEscaped(text, LIMITS.sectionFieldText) })),
    },
    section(`*Reason*\n${quoted(card.reason, LIMITS.sectionText - 20)}`),
  ];
  if (card.quota) blocks.push(context([`*Quota* (their use before this request): ${escapeMrkdwn(card.quota)}`]));
  if (card.progress.length > 0) blocks.push(section(card.progress.map(progressLine).join('\n')));
  if (card.address) blocks.push(section(addressText(card.address)));
  if (card.failure) blocks.push(section(failureText(card.failure)));
  if (card.lease) blocks.push(section(leaseText(card)));
  if (card.decision) {
    const d = card.decision;
    const reason = d.reason ? `: ${mrkdwn(d.reason, 1500)}` : '';
    blocks.push(context([`${capitalise(d.verb)} by ${who(d.by)} ${slackDate(d.at)}${reason}`]));
  }
  if (card.actions.length > 0) {
    blocks.push({ type: 'actions', block_id: 'vm:actions', elements: card.actions.slice(0, LIMITS.actionsElements).map(button) });
  }
  return { text: fitEscaped(`VM request ${escapeMrkdwn(card.name)} from ${plainWho(card.requester)}: ${escapeMrkdwn(card.stateLabel)}`, 500), blocks: capBlocks(blocks) };
}

/** The lease line, and the owner's renewal ask waiting for the admins (Approve renewal / Deny renewal below). */
function leaseText(card: RequestCardView): string {
  const line = `*Lease*\n${escapeMrkdwn(card.lease ?? '')}`;
  return card.renewalRequestedAt ? `${line}\n:hourglass: ${who(card.requester)} asked for a renewal ${slackDate(card.renewalRequestedAt)}: approve or deny it below.` : line;
}

function addressText(address: NonNullable<RequestCardView['address']>): string {
  const lines = ['*Address*'];
  if (address.ipv4) lines.push(`IPv4 \`${escapeMrkdwn(address.ipv4)}\``);
  for (const v6 of address.ipv6 ?? []) lines.push(`IPv6 \`${escapeMrkdwn(v6)}\``);
  lines.push(`\`${escapeMrkdwn(address.ssh).replace(/`/g, "'")}\``);
  return lines.join('\n');
}

function failureText(failure: NonNullable<RequestCardView['failure']>): string {
  const head = `:x: *Failed* (\`${escapeMrkdwn(failure.code)}\`): ${escapeMrkdwn(failure.message)}`;
  if (!failure.consoleTail || failure.consoleTail.length === 0) return head;
  // Keep the end of the console: that is where the error is.
  let tail = escapeCodeBlock(failure.consoleTail.join('\n'));
  const room = LIMITS.sectionText - head.length - 40;
  if (tail.length > room) tail = '…' + tail.slice(tail.length - room).replace(/^[^;&]*;/, '');
  return `${head}\nLast console lines:\n\`\`\`${tail}\`\`\``;
}

/** A direct message to the member for each notice (worded in src/workflow/notices.ts), with its buttons if any. */
export function noticeMessage(notice: MemberNotice): SlackMessage {
  const text = mrkdwnOf(noticeWording(notice));
  const blocks: Block[] = [section(text)];
  if (notice.actions?.length) blocks.push({ type: 'actions', block_id: NOTICE_ACTIONS_BLOCK, elements: notice.actions.slice(0, LIMITS.actionsElements).map(button) });
  return { text: fitEscaped(text, 3000), blocks };
}

function summaryLine(vm: VmSummaryView): string {
  const parts = [`*${escapeMrkdwn(vm.name)}* — ${escapeMrkdwn(vm.stateLabel)} · ${escapeMrkdwn(vm.distroLabel)} · ${escapeMrkdwn(vm.sizeLabel)} · owner ${who(vm.owner)}`];
  if (vm.ipv4) parts.push(`address \`${escapeMrkdwn(vm.ipv4)}\``);
  if (vm.ssh) parts.push(`\`${escapeMrkdwn(vm.ssh).replace(/`/g, "'")}\``);
  if (vm.failure) parts.push(`:x: ${escapeMrkdwn(vm.failure)}`);
  if (vm.lease) parts.push(`lease: ${escapeMrkdwn(vm.lease)}`);
  return parts.join('\n');
}

export function problemsText(problems: readonly Problem[]): string {
  return problems.map((p) => `:warning: ${escapeMrkdwn(p.message)}${p.field ? ` (${escapeMrkdwn(p.field)})` : ''} \`${p.code}\``).join('\n');
}

/** A reply only the actor sees. Long lists are packed several VMs per section to stay under 50 blocks. */
export function replyMessage(reply: Reply): SlackMessage {
  switch (reply.kind) {
    case 'text':
      return { text: mrkdwn(reply.text, 3000), blocks: [section(mrkdwn(reply.text, LIMITS.sectionText))] };
    case 'problems': {
      const text = problemsText(reply.problems);
      return { text: fitEscaped(text, 3000), blocks: [section(text)] };
    }
    case 'vm': {
      const text = summaryLine(reply.vm);
      return { text: fitEscaped(text, 3000), blocks: [section(text)] };
    }
    case 'list': {
      const title = reply.scope === 'all' ? 'All VMs' : 'Your VMs';
      if (reply.vms.length === 0) {
        const text = reply.scope === 'all' ? 'There are no VMs.' : 'You have no VMs. `/vm request` asks for one.';
        return { text, blocks: [section(text)] };
      }
      const blocks: Block[] = [{ type: 'header', text: { type: 'plain_text', text: `${title} (${reply.vms.length})` } }];
      let chunk = '';
      for (const vm of reply.vms) {
        const line = summaryLine(vm);
        if (chunk && chunk.length + line.length + 2 > LIMITS.sectionText) {
          blocks.push(section(chunk));
          chunk = '';
        }
        chunk = chunk ? `${chunk}\n\n${line}` : fitEscaped(line, LIMITS.sectionText);
      }
      if (chunk) blocks.push(section(chunk));
      return { text: `${title}: ${reply.vms.length}`, blocks: capBlocks(blocks) };
    }
    case 'logs':
      return consoleLogMessage(reply.log);
  }
}

/**
 * `/vm logs`: a title, then the lines as code blocks, as many sections as the 3000-character
 * limit needs (whole lines each; an overlong line is cut). 40 lines never reach 50 blocks.
 */
export function consoleLogMessage(log: ConsoleLogView): SlackMessage {
  const name = `*${escapeMrkdwn(log.name)}*`;
  if (log.lines.length === 0) {
    const text = `The console of ${name} (allocation \`${escapeMrkdwn(log.allocation)}\`) is empty so far.`;
    return { text, blocks: [section(text)] };
  }
  const title = `Last ${log.lines.length} console line${log.lines.length === 1 ? '' : 's'} of ${name} (allocation \`${escapeMrkdwn(log.allocation)}\`):`;
  const room = LIMITS.sectionText - 6; // the two ``` fences
  const blocks: Block[] = [section(title)];
  let chunk: string[] = [];
  let size = 0;
  const flush = () => {
    if (chunk.length) blocks.push(section(`\`\`\`${chunk.join('\n')}\`\`\``));
    chunk = [];
    size = 0;
  };
  for (const raw of log.lines) {
    // An empty line inside a code block would be dropped: keep it as one space.
    const line = fitEscaped(escapeCodeBlock(raw) || ' ', room);
    if (size + line.length + 1 > room) flush();
    chunk.push(line);
    size += line.length + 1;
  }
  flush();
  return { text: fitEscaped(title, 3000), blocks: capBlocks(blocks) };
}

/** The ephemeral "are you sure" offered by a command such as `/vm delete NAME`: one button, confirmed again by Slack. */
export function confirmOfferMessage(kind: ActionKind, vm: VmSummaryView): SlackMessage {
  const wording = ACTION_WORDING[kind];
  const text = mrkdwnOf(wording.confirm ? wording.confirm.question(vm.name) : [{ text: `${wording.label}: ` }, { strong: vm.name }]);
  return {
    text: fitEscaped(text, 3000),
    blocks: [section(text), { type: 'actions', block_id: 'vm:actions', elements: [button(actionFor(kind, vm.requestId, `${wording.label} ${vm.name}`))] }],
  };
}

/** Never more than Slack's 50 blocks: the last one says how many were left out. */
export function capBlocks(blocks: Block[], max: number = LIMITS.blocksPerMessage): Block[] {
  if (blocks.length <= max) return blocks;
  return [...blocks.slice(0, max - 1), context([`…and ${blocks.length - max + 1} more (not shown: Slack allows ${max} blocks per message)`])];
}

function plainWho(member: MemberRef): string {
  return member.platform === 'slack' ? (mentionUser(member.userId) ?? escapeMrkdwn(member.userId)) : escapeMrkdwn(member.displayName ?? member.userId);
}

const capitalise = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1);
