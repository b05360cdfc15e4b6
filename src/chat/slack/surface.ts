// The ChatSurface half of the adapter: cards in the admin channel (chat.postMessage, then
// chat.update in place) and DMs to members (conversations.open + chat.postMessage).
// Draws for one request are chained, so an older view can never overwrite a newer one.
import type { App } from '@slack/bolt';
import type { MemberRef } from '../../domain/request.js';
import type { Logger } from '../../log.js';
import type { ChatSurface, MemberNotice, RequestCardView } from '../../workflow/views.js';
import { cardMessage, noticeMessage, type SlackMessage } from './blocks.js';
import { slackError } from './slack-error.js';

type WebClient = App['client'];

const CARD_GONE = ['message_not_found', 'channel_not_found', 'cant_update_message', 'is_archived'];

/** A card's stored ref is `channel:ts`, the pair chat.update needs. */
export function parseCardRef(ref: string): { channel: string; ts: string } | undefined {
  const i = ref.indexOf(':');
  if (i <= 0 || i === ref.length - 1) return undefined;
  return { channel: ref.slice(0, i), ts: ref.slice(i + 1) };
}

export interface SlackSurface extends ChatSurface {
  /** A DM to a Slack user (conversations.open, then chat.postMessage). */
  dm(userId: string, message: SlackMessage): Promise<void>;
}

export function createSlackSurface(opts: { client: WebClient; adminChannel: string; logger: Logger }): SlackSurface {
  const { client, adminChannel, logger } = opts;
  const drawn = new Map<string, number>();
  const chains = new Map<string, Promise<unknown>>();
  const dmChannels = new Map<string, string>();

  /** Runs `job` after every earlier draw of the same request. */
  function serialise<T>(key: string, job: () => Promise<T>): Promise<T> {
    const previous = chains.get(key) ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(job);
    chains.set(key, next);
    void next.finally(() => {
      if (chains.get(key) === next) chains.delete(key);
    }).catch(() => undefined);
    return next;
  }

  async function dmChannel(userId: string): Promise<string> {
    const known = dmChannels.get(userId);
    if (known) return known;
    const res = await client.conversations.open({ users: userId });
    const id = res.channel?.id;
    if (!id) throw new Error(`conversations.open gave no channel for ${userId}`);
    dmChannels.set(userId, id);
    return id;
  }

  async function dm(userId: string, message: SlackMessage): Promise<void> {
    const channel = await dmChannel(userId);
    await client.chat.postMessage({ channel, text: message.text, blocks: message.blocks });
  }

  return {
    platform: 'slack',
    dm,
    drawCard(card: RequestCardView, ref: string | undefined): Promise<string> {
      return serialise(card.requestId, async () => {
        const last = drawn.get(card.requestId);
        const target = ref ? parseCardRef(ref) : undefined;
        if (ref && target && last !== undefined && card.version < last) {
          logger.debug({ requestId: card.requestId, version: card.version, drawn: last }, 'dropping an older card view');
          return ref;
        }
        const message = cardMessage(card);
        const post = async (): Promise<string> => {
          const res = await client.chat.postMessage({ channel: adminChannel, text: message.text, blocks: message.blocks });
          if (!res.channel || !res.ts) throw new Error('chat.postMessage returned no channel/ts');
          return `${res.channel}:${res.ts}`;
        };
        let result: string;
        if (target) {
          try {
            await client.chat.update({ channel: target.channel, ts: target.ts, text: message.text, blocks: message.blocks });
            result = ref!;
          } catch (err) {
            // Someone deleted the card (or the channel changed): the admins still need one.
            if (!CARD_GONE.includes(slackError(err) ?? '')) throw err;
            logger.warn({ requestId: card.requestId, ref, error: slackError(err) }, 'the card is gone; posting a new one');
            result = await post();
          }
        } else {
          if (ref) logger.warn({ requestId: card.requestId, ref }, 'card ref is not channel:ts; posting a new card');
          result = await post();
        }
        drawn.set(card.requestId, Math.max(card.version, last ?? card.version));
        return result;
      });
    },
    async notifyMember(member: MemberRef, notice: MemberNotice): Promise<void> {
      if (member.platform !== 'slack') throw new Error(`the Slack adapter cannot message a ${member.platform} member`);
      await dm(member.userId, noticeMessage(notice));
    },
  };
}
