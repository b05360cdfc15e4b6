// Leases through Discord (issue 12), with an injected clock: the reminder DM carries Renew and
// Delete now; pressing Renew in the DM renews (twice at once, the third asks the admins, whose
// card shows Approve renewal / Deny renewal); /vm expire is for admins; /vm status shows the lease.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DAY_MS } from '../../../../src/domain/lease.js';
import type { ConfigInput } from '../../../../src/config/schema.js';
import { Workflow } from '../../../../src/workflow/workflow.js';
import { buttonIds, messageText, type StoredMessage } from '../../../support/discord-double.js';
import { ALICE, CAROL_ADMIN, EVE, startWorld, type World } from './world.js';

const T0 = Date.parse('2027-01-10T09:00:00.000Z');
const EXPIRY = T0 + 30 * DAY_MS;
let t = T0;
const LEASE = { policy: { lease: { default: '30d', reminders: ['7d', '3d', '1d', 0], autoRenewals: 2, graceDays: 14 } } } as Partial<ConfigInput>;

describe('discord: lease reminders and Renew', () => {
  let w: World;
  beforeAll(async () => {
    w = await startWorld({ harness: { config: LEASE, workflow: { now: () => new Date(t) }, sim: { startDelayMs: 20, chunkDelayMs: 5 } } });
  });
  afterAll(async () => {
    await w?.close();
  });

  const leases = () => {
    const workflow = w.h.core.workflow;
    if (!(workflow instanceof Workflow)) throw new Error('the Discord world should run the real Workflow');
    return workflow.leases;
  };
  const renewals = async (id: string) => (await w.h.core.store.requests.get(id))?.lease?.renewals;
  const dmAfter = (count: number, text: string, what: string): Promise<StoredMessage> =>
    w.double.waitFor(() => w.double.dmsTo(ALICE).slice(count).find((m) => m.content.includes(text)), { what });
  const inDm = (m: StoredMessage) => ({ channelId: m.channel_id, messageId: m.id });

  it('the reminder DM carries Renew and Delete now; pressing Renew renews, twice at once, then an admin approves on the card', async () => {
    const { double, h } = w;
    const { requestId: id, where } = await w.request(ALICE, 'lease-1');
    await double.pressButton(CAROL_ADMIN, where, `vm:approve:${id}`).response();
    await h.inState(id, 'running');
    await double.waitFor(() => messageText(double.message(where.channelId, where.messageId)!).includes('expires 2027-02-09'), { what: 'the card with the lease' });

    t = EXPIRY - 7 * DAY_MS;
    const before = double.dmsTo(ALICE).length;
    await leases().tick();
    const reminder = await dmAfter(before, 'lease of your VM', 'the reminder DM');
    expect(reminder.content).toContain('**lease-1**');
    expect(buttonIds(reminder)).toEqual([`vm:renew:${id}`, `vm:delete:${id}`]);
    const labels = reminder.components.flatMap((row) => (row as { components: Array<{ label: string }> }).components.map((b) => b.label));
    expect(labels).toEqual(['Renew', 'Delete now']);

    // Renew in the DM: immediate; the member is told the new expiry.
    let count = double.dmsTo(ALICE).length;
    await double.pressButton(ALICE, inDm(reminder), `vm:renew:${id}`).response();
    await h.waitFor(async () => (await renewals(id)) === 1, { what: 'the first renewal' });
    expect((await dmAfter(count, 'is renewed', 'the renewed DM')).content).toContain('2027-03-11');
    count = double.dmsTo(ALICE).length;
    await double.pressButton(ALICE, inDm(reminder), `vm:renew:${id}`).response();
    await h.waitFor(async () => (await renewals(id)) === 2, { what: 'the second renewal' });
    await dmAfter(count, 'is renewed', 'the second renewed DM');

    // The third asks the admins: the card shows the ask and its buttons.
    count = double.dmsTo(ALICE).length;
    await double.pressButton(ALICE, inDm(reminder), `vm:renew:${id}`).response();
    await dmAfter(count, 'sent to the admins', 'the renewal-requested DM');
    const asking = await double.waitFor(() => {
      const m = double.message(where.channelId, where.messageId)!;
      return buttonIds(m).includes(`vm:approve_renewal:${id}`) && m;
    }, { what: 'the card with the renewal ask' });
    expect(buttonIds(asking).slice(0, 2)).toEqual([`vm:approve_renewal:${id}`, `vm:deny_renewal:${id}`]);
    expect(messageText(asking)).toContain('asked for a renewal');

    // Someone who is not an admin is refused privately; nothing changes.
    const byEve = double.pressButton(EVE, where, `vm:approve_renewal:${id}`);
    await byEve.response();
    expect(await byEve.ephemeralText()).toContain('Only vmbot admins can decide on a renewal');
    expect(await renewals(id)).toBe(2);

    count = double.dmsTo(ALICE).length;
    await double.pressButton(CAROL_ADMIN, where, `vm:approve_renewal:${id}`).response();
    await h.waitFor(async () => (await renewals(id)) === 3, { what: 'the approved renewal' });
    expect((await dmAfter(count, 'was approved by', 'the approved-renewal DM')).content).toContain(`<@${CAROL_ADMIN}>`);
    await double.waitFor(() => {
      const m = double.message(where.channelId, where.messageId)!;
      return !buttonIds(m).includes(`vm:approve_renewal:${id}`) && messageText(m).includes('expires 2027-05-10');
    }, { what: 'the card after the renewal' });
  });

  it('/vm expire is for admins; the member is told; /vm status shows the lease', async () => {
    const { double, h } = w;
    const id = (await h.core.store.requests.list()).find((r) => r.name === 'lease-1')!.id;
    const byAlice = double.slashCommand(ALICE, 'expire', { name: 'lease-1', date: '2030-01-01' });
    await byAlice.response();
    expect(await byAlice.ephemeralText()).toContain('Only vmbot admins can set');

    const count = double.dmsTo(ALICE).length;
    const byAdmin = double.slashCommand(CAROL_ADMIN, 'expire', { name: 'lease-1', date: '2027-06-30' });
    await byAdmin.response();
    await double.waitFor(() => byAdmin.ephemeralTexts().some((x) => x.includes('expires 2027-07-01')), { what: 'the admin\'s answer' });
    expect((await h.core.store.requests.get(id))?.lease?.expiresAt).toBe('2027-07-01T00:00:00.000Z');
    await dmAfter(count, 'set the lease of your VM', 'the member told');

    const status = double.slashCommand(ALICE, 'status', { name: 'lease-1' });
    await status.response();
    await double.waitFor(() => status.ephemeralTexts().some((x) => x.includes('expires 2027-07-01')), { what: 'the status with the lease' });
  });
});
