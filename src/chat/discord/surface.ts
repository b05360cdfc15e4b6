// The ChatSurface half of the adapter: the admin card (posted once, then edited in place via
// the stored `channelId:messageId` ref — never through an interaction, whose token dies after
// 15 minutes) and notices to members (a new DM; a mention in fallbackChannel when DMs are closed).
import { DiscordAPIError, RESTJSONErrorCodes, Routes, type REST } from 'discord.js';
import type { Config } from '../../config/schema.js';
import type { Logger } from '../../log.js';
import type { MemberRef } from '../../domain/request.js';
import type { ChatSurface, MemberNotice, RequestCardView } from '../../workflow/views.js';
import { drawActions, drawCard, noticeText } from './draw.js';
import { mentionUser, noPings, pingOnly } from './mentions.js';

type DiscordConfig = NonNullable<Config['discord']>;

export function parseCardRef(ref: string): { channelId: string; messageId: string } | undefined {
  const m = /^(\d+):(\d+)$/.exec(ref);
  return m ? { channelId: m[1]!, messageId: m[2]! } : undefined;
}

export function createDiscordSurface(deps: { rest: REST; config: DiscordConfig; logger: Logger }): Omit<ChatSurface, 'platform'> {
  const { rest, config, logger } = deps;
  /** Highest card version drawn per request: an older view arriving late is dropped. */
  const drawn = new Map<string, number>();
  /** Draws of one request run one after another, so edits land in order. */
  const queues = new Map<string, Promise<unknown>>();

  async function postCard(card: RequestCardView): Promise<string> {
    const message = (await rest.post(Routes.channelMessages(config.adminChannel), { body: { ...drawCard(card), allowed_mentions: noPings() } })) as { id: string; channel_id: string };
    return `${message.channel_id}:${message.id}`;
  }

  async function draw(card: RequestCardView, ref: string | undefined): Promise<string> {
    const target = ref ? parseCardRef(ref) : undefined;
    if (!target) return postCard(card);
    if ((drawn.get(card.requestId) ?? -1) >= card.version) return ref!;
    try {
      await rest.patch(Routes.channelMessage(target.channelId, target.messageId), { body: { ...drawCard(card), allowed_mentions: noPings() } });
      return ref!;
    } catch (err) {
      // Someone deleted the card (or its channel): post a fresh one rather than lose the request.
      if (err instanceof DiscordAPIError && (err.code === RESTJSONErrorCodes.UnknownMessage || err.code === RESTJSONErrorCodes.UnknownChannel)) {
        logger.warn({ requestId: card.requestId }, 'the request card was deleted; posting a new one');
        return postCard(card);
      }
      throw err;
    }
  }

  return {
    drawCard(card, ref) {
      const previous = queues.get(card.requestId) ?? Promise.resolve();
      const next = previous.catch(() => undefined).then(async () => {
        const newRef = await draw(card, ref);
        drawn.set(card.requestId, Math.max(drawn.get(card.requestId) ?? -1, card.version));
        return newRef;
      });
      queues.set(card.requestId, next);
      void next.finally(() => {
        if (queues.get(card.requestId) === next) queues.delete(card.requestId);
      }).catch(() => undefined);
      return next;
    },

    async notifyMember(member: MemberRef, notice: MemberNotice): Promise<void> {
      const text = noticeText(notice);
      // Buttons offered with the notice (e.g. Renew) are pressed like a card's: the custom_id says it all.
      const components = notice.actions?.length ? drawActions(notice.actions) : [];
      try {
        const dm = (await rest.post(Routes.userChannels(), { body: { recipient_id: member.userId } })) as { id: string };
        await rest.post(Routes.channelMessages(dm.id), { body: { content: text, components, allowed_mentions: noPings() } });
      } catch (err) {
        const closed = err instanceof DiscordAPIError && err.code === RESTJSONErrorCodes.CannotSendMessagesToThisUser;
        if (!closed) throw err;
        if (!config.fallbackChannel) {
          logger.warn({ userId: member.userId, notice: notice.kind }, 'the member does not accept DMs and discord.fallbackChannel is not set: notice not delivered');
          return;
        }
        // Mention exactly this member, nobody else, whatever the notice's text holds.
        await rest.post(Routes.channelMessages(config.fallbackChannel), {
          body: { content: `${mentionUser(member.userId)} ${text}\n-# You get this here because vmbot cannot send you direct messages.`, components, allowed_mentions: pingOnly([member.userId]) },
        });
      }
    },
  };
}
