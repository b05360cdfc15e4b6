// Draws the neutral views (src/workflow/views.ts) as Block Kit. It decides nothing: what the
// card says and which buttons it offers come from the workflow. Every piece of member text
// is escaped (escape.ts) and fitted to Slack's limits (limits.ts).
import type { types } from '@slack/bolt';
import type { MemberRef } from '../../domain/request.js';
import type { Problem } from '../../domain/problem.js';
import type { CardAction, MemberNotice, ProgressItem, Reply, RequestCardView, VmSummaryView } from '../../workflow/views.js';
import { escapeCodeBlock, escapeMrkdwn, fitEscaped, mentionUser, mrkdwn, plain } from './escape.js';
import { LIMITS } from './limits.js';

export type Block = types.KnownBlock;
export type ButtonElement = types.Button;

/** What chat.postMessage / chat.update / respond() take: a fallback text and the blocks. */
export interface SlackMessage {
  text: string;
  blocks: Block[];
}

export const ACTION_PREFIX = 'vm:';
export const actionId = (kind: CardAction['kind']): string => `${ACTION_PREFIX}${kind}`;

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
  if (action.needs === 'confirmation') {
    b.confirm = {
      title: { type: 'plain_text', text: 'Are you sure?' },
      text: { type: 'mrkdwn', text: 'This stops the VM, purges its Nomad job and frees its MAC address. Its disk is lost.' },
      confirm: { type: 'plain_text', text: plain(action.label, LIMITS.confirmButton) },
      deny: { type: 'plain_text', text: 'Keep it' },
      style: 'danger',
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
  if (card.progress.length > 0) blocks.push(section(card.progress.map(progressLine).join('\n')));
  if (card.address) blocks.push(section(addressText(card.address)));
  if (card.failure) blocks.push(section(failureText(card.failure)));
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

/** A direct message to the member for each notice. */
export function noticeMessage(notice: MemberNotice): SlackMessage {
  const name = `*${escapeMrkdwn(notice.name)}*`;
  let text: string;
  switch (notice.kind) {
    case 'requested':
      text = `Your request for VM ${name} was sent to the admins. You will hear from me when they decide.`;
      break;
    case 'approved':
      text = `Your VM ${name} was approved by ${who(notice.by)} and is being created. I will send you its address when it is up.`;
      break;
    case 'denied':
      text = `Your request for VM ${name} was denied by ${who(notice.by)}.\n*Reason*\n${quoted(notice.reason, 2500)}`;
      break;
    case 'delayed':
      // The reason already says the admins were told (src/workflow/cards.ts memberFailureReason).
      text = `Your VM ${name} is delayed: ${mrkdwn(notice.reason, 2500)}`;
      break;
    case 'up': {
      const lines = [`Your VM ${name} is up.`];
      if (notice.ipv4) lines.push(`IPv4: \`${escapeMrkdwn(notice.ipv4)}\``);
      for (const v6 of notice.ipv6 ?? []) lines.push(`IPv6: \`${escapeMrkdwn(v6)}\``);
      lines.push(`Log in with:\n\`\`\`${escapeCodeBlock(notice.ssh)}\`\`\``);
      text = lines.join('\n');
      break;
    }
    case 'deleted':
      text = `Your VM ${name} was deleted.`;
      break;
    case 'lost':
      text = `Your VM ${name} is gone from the cluster (its Nomad job vanished). Ask an admin, or \`/vm delete ${escapeMrkdwn(notice.name)}\` and request a new one.`;
      break;
  }
  return { text: fitEscaped(text, 3000), blocks: [section(text)] };
}

function summaryLine(vm: VmSummaryView): string {
  const parts = [`*${escapeMrkdwn(vm.name)}* — ${escapeMrkdwn(vm.stateLabel)} · ${escapeMrkdwn(vm.distroLabel)} · ${escapeMrkdwn(vm.sizeLabel)} · owner ${who(vm.owner)}`];
  if (vm.ipv4) parts.push(`address \`${escapeMrkdwn(vm.ipv4)}\``);
  if (vm.ssh) parts.push(`\`${escapeMrkdwn(vm.ssh).replace(/`/g, "'")}\``);
  if (vm.failure) parts.push(`:x: ${escapeMrkdwn(vm.failure)}`);
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
  }
}

/** The ephemeral "are you sure" offered by `/vm delete NAME`. */
export function deleteOfferMessage(vm: VmSummaryView): SlackMessage {
  const text = `Delete VM *${escapeMrkdwn(vm.name)}* (${escapeMrkdwn(vm.stateLabel)})? Its disk is lost.`;
  return {
    text: fitEscaped(text, 3000),
    blocks: [section(text), { type: 'actions', block_id: 'vm:actions', elements: [button({ kind: 'delete', requestId: vm.requestId, label: `Delete ${vm.name}`, style: 'danger', needs: 'confirmation' })] }],
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
