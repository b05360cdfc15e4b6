// The one list of action kinds (src/workflow/views.ts) and what hangs off it: every kind has
// its spec and its words, and each adapter encodes a button of every kind so that decoding the
// press gives back the same kind and request (with the confirmation/reason steps its spec asks).
import { describe, expect, it } from 'vitest';
import { ACTION_KINDS, ACTIONS, isActionKind } from '../../../src/workflow/views.js';
import { ACTION_WORDING, noticeWording, plainText } from '../../../src/workflow/notices.js';
import { actionFor } from '../../../src/workflow/cards.js';
import { button, decodeAction, noticeMessage } from '../../../src/chat/slack/blocks.js';
import { reasonKindOf, reasonModal } from '../../../src/chat/slack/modals.js';
import { buttonId, parseCustomId } from '../../../src/chat/discord/custom-ids.js';
import { reasonModal as discordReasonModal } from '../../../src/chat/discord/commands.js';
import { drawActions, noticeText } from '../../../src/chat/discord/draw.js';

const ID = 'k3x9q2m7bz';

describe('the action list', () => {
  it('has no duplicates, and a spec and words for every kind', () => {
    expect(new Set(ACTION_KINDS).size).toBe(ACTION_KINDS.length);
    for (const kind of ACTION_KINDS) {
      expect(isActionKind(kind)).toBe(true);
      expect(ACTION_WORDING[kind].label.trim()).not.toBe('');
      // A kind that asks something first has the words to ask it.
      if (ACTIONS[kind].needs === 'reason') expect(ACTION_WORDING[kind].reason).toBeDefined();
      if (ACTIONS[kind].needs === 'confirmation') expect(ACTION_WORDING[kind].confirm).toBeDefined();
      expect(plainText(ACTION_WORDING[kind].done('web1'))).toContain('web1');
    }
    expect(isActionKind('launch')).toBe(false);
    expect(isActionKind('toString')).toBe(false);
  });

  it('builds each button from the spec and the words', () => {
    for (const kind of ACTION_KINDS) {
      const action = actionFor(kind, ID);
      expect(action).toEqual({ kind, requestId: ID, label: ACTION_WORDING[kind].label, style: ACTIONS[kind].style, ...(ACTIONS[kind].needs ? { needs: ACTIONS[kind].needs } : {}) });
    }
  });
});

describe.each(ACTION_KINDS.map((kind) => [kind]))('a %s button', (kind) => {
  const action = actionFor(kind, ID);

  it('on Slack decodes back to its kind and request; a reason kind has its own modal', () => {
    const drawn = button(action);
    expect(decodeAction(drawn.action_id!, drawn.value)).toEqual({ kind, requestId: ID });
    // Slack asks the confirmation itself, from the words of the kind.
    expect(drawn.confirm !== undefined).toBe(ACTIONS[kind].needs === 'confirmation');
    if (ACTIONS[kind].needs === 'reason') expect(reasonKindOf(reasonModal(kind, { requestId: ID }, 'web1').callback_id!)).toBe(kind);
  });

  it('on Discord decodes back to its kind and request, and so do its confirmation and reason', () => {
    const customId = (drawActions([action])[0]!.components[0] as { custom_id: string }).custom_id;
    expect(parseCustomId(customId)).toEqual({ kind: 'button', action: kind, requestId: ID, confirmed: false });
    if (ACTIONS[kind].needs === 'confirmation') expect(parseCustomId(buttonId(kind, ID, { confirmed: true }))).toEqual({ kind: 'button', action: kind, requestId: ID, confirmed: true });
    if (ACTIONS[kind].needs === 'reason') expect(parseCustomId(discordReasonModal(kind, ID, 'web1').custom_id)).toEqual({ kind: 'reason', action: kind, requestId: ID });
  });
});

describe('notices with buttons', () => {
  const notice = { kind: 'deleted' as const, requestId: ID, name: 'web1', actions: [actionFor('delete', ID)] };

  it('are worded once and drawn with their buttons on Slack', () => {
    const m = noticeMessage(notice);
    expect(m.text).toContain(plainText(noticeWording(notice)).replace('web1', '*web1*'));
    const actions = m.blocks.find((b) => b.type === 'actions') as { elements: Array<{ action_id: string; value: string }> } | undefined;
    expect(actions?.elements.map((e) => decodeAction(e.action_id, e.value))).toEqual([{ kind: 'delete', requestId: ID }]);
  });

  it('say the same words on Discord', () => {
    expect(noticeText(notice)).toBe('Your VM **web1** was deleted.');
    expect(plainText(noticeWording(notice))).toBe('Your VM web1 was deleted.');
  });
});
