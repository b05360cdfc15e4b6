// A fourth chat platform that lives only in the test folder: registered through the platform
// list alone ([...PLATFORMS, toy]) it shows that nothing outside src/chat/<platform>/ names a
// platform. In memory: its adapter records the cards and notices the workflow sends, and lets
// a test act as a member (submit a request, press a card's button) the way a real adapter
// would forward it to the workflow.
import { z } from 'zod';
import type { ChatAdapter } from '../../src/chat/adapter.js';
import type { ChatPlatform } from '../../src/chat/platform.js';
import { checkOk, checkSkipped } from '../../src/components.js';
import type { Result } from '../../src/domain/problem.js';
import type { Actor, MemberRef, RequestInput } from '../../src/domain/request.js';
import type { VmWorkflow } from '../../src/workflow/api.js';
import type { ActionKind, MemberNotice, RequestCardView, VmSummaryView } from '../../src/workflow/views.js';

export const toySection = z.strictObject({
  /** User IDs of the toy platform's admins. */
  admins: z.array(z.string()).default([]),
  adminChannel: z.string().default('toy-admins'),
});
export type ToySection = z.output<typeof toySection>;

export interface ToyAdapter extends ChatAdapter {
  /** The latest card drawn per request. */
  readonly cards: Map<string, RequestCardView>;
  readonly notices: Array<{ member: MemberRef; notice: MemberNotice }>;
  readonly started: boolean;
  /** A member of the toy platform submits the request form. */
  request(userId: string, input: RequestInput): Promise<Result<VmSummaryView>>;
  /** A user presses a button of a card (the card must offer it, as on a real platform). */
  press(userId: string, kind: ActionKind, requestId: string): Promise<Result<VmSummaryView>>;
}

export interface ToyPlatform {
  platform: ChatPlatform<ToySection>;
  /** The adapter the process created (throws before serve made it). */
  adapter(): ToyAdapter;
}

export function createToyPlatform(): ToyPlatform {
  let made: ToyAdapter | undefined;
  const platform: ChatPlatform<ToySection> = {
    name: 'toy',
    title: 'Toy',
    section: toySection,
    sectionHint: 'admins',
    secretNames: ['TOY_TOKEN'],
    secretNeeds: () => [{ name: 'TOY_TOKEN', required: true }],
    isAdmin: (section, actor) => section.admins.includes(actor.userId),
    async check(section, secrets) {
      if (!secrets.TOY_TOKEN) return [checkSkipped('toy: API', 'not checked: TOY_TOKEN is not set')];
      return [checkOk('toy: admin channel', `${section.adminChannel} (${section.admins.length} admin(s))`)];
    },
    async create({ section, workflow }) {
      made = toyAdapter(section, workflow);
      return made;
    },
    describe: (section) => `toy (admin channel ${section.adminChannel}, ${section.admins.length} admin(s))`,
  };
  return {
    platform,
    adapter() {
      if (!made) throw new Error('the toy adapter was not created: is the toy platform configured and its TOY_TOKEN set?');
      return made;
    },
  };
}

function toyAdapter(section: ToySection, workflow: VmWorkflow): ToyAdapter {
  const cards = new Map<string, RequestCardView>();
  const notices: Array<{ member: MemberRef; notice: MemberNotice }> = [];
  const actor = (userId: string): Actor => ({ platform: 'toy', userId, groups: [] });
  let started = false;
  let posted = 0;
  return {
    platform: 'toy',
    cards,
    notices,
    get started() {
      return started;
    },
    async drawCard(card, ref) {
      const previous = cards.get(card.requestId);
      if (!previous || previous.version <= card.version) cards.set(card.requestId, card);
      return ref ?? `${section.adminChannel}/${++posted}`;
    },
    async notifyMember(member, notice) {
      notices.push({ member, notice });
    },
    request: (userId, input) => workflow.submitRequest(actor(userId), input),
    async press(userId, kind, requestId) {
      const card = cards.get(requestId);
      if (!card?.actions.some((a) => a.kind === kind)) throw new Error(`the card of ${requestId} offers no ${kind} button`);
      return workflow.act(actor(userId), { kind, requestId });
    },
    async start() {
      started = true;
    },
    async stop() {
      started = false;
    },
  };
}
