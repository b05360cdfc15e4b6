// Leases through Slack (issue 12), with an injected clock: the reminder DM carries Renew and
// Delete now; pressing Renew in the DM renews (twice at once, the third asks the admins, whose
// card shows Approve renewal / Deny renewal); /vm expire is for admins; /vm list shows the lease.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DAY_MS } from '../../../../src/domain/lease.js';
import type { ConfigInput } from '../../../../src/config/schema.js';
import { Workflow } from '../../../../src/workflow/workflow.js';
import type { StoredMessage } from '../../../support/slack-double.js';
import { ADMIN1, MEMBER, OTHER, buttonsOf, cardText, startSlackWorld, type SlackWorld } from './world.js';

const T0 = Date.parse('2027-01-10T09:00:00.000Z');
const EXPIRY = T0 + 30 * DAY_MS;
let t = T0;
const LEASE = { policy: { lease: { default: '30d', reminders: ['7d', '3d', '1d', 0], autoRenewals: 2, graceDays: 14 } } } as Partial<ConfigInput>;

describe('Slack: lease reminders and Renew', () => {
  let w: SlackWorld;
  beforeAll(async () => {
    w = await startSlackWorld({ mode: 'http', harness: { config: LEASE, workflow: { now: () => new Date(t) } } });
  });
  afterAll(async () => {
    await w.close();
  });

  const leases = () => {
    const workflow = w.h.core.workflow;
    if (!(workflow instanceof Workflow)) throw new Error('the Slack world should run the real Workflow');
    return workflow.leases;
  };
  const renewals = async (id: string) => (await w.h.core.store.requests.get(id))?.lease?.renewals;
  const dmAfter = (count: number, text: string, what: string): Promise<StoredMessage> =>
    w.double.waitFor(() => w.double.dmsTo(MEMBER).slice(count).find((m) => m.text.includes(text)), 5_000, what);

  it('the reminder DM carries Renew and Delete now; pressing Renew renews, twice at once, then the admins decide on the card', async () => {
    await w.request(MEMBER, { name: 'lease-1' });
    const pending = await w.card('lease-1', (m) => buttonsOf(m).includes('vm:approve'));
    await w.double.pressButton({ user: ADMIN1, message: pending, actionId: 'vm:approve' });
    await w.reach('lease-1', 'running');
    const id = await w.requestId('lease-1');
    const card = await w.card('lease-1', (m) => cardText(m).includes('expires 2027-02-09'), 'the card with the lease');
    expect(cardText(card)).toContain('0 of 2 automatic renewals used');

    t = EXPIRY - 7 * DAY_MS;
    const before = w.double.dmsTo(MEMBER).length;
    await leases().tick();
    const reminder = await dmAfter(before, 'lease of your VM', 'the reminder DM');
    expect(reminder.text).toContain('*lease-1*');
    expect(buttonsOf(reminder)).toEqual(['vm:renew', 'vm:delete']);
    const labels = reminder.blocks.flatMap((b) => (b['type'] === 'actions' ? (b['elements'] as Array<{ text: { text: string }; confirm?: unknown }>) : []));
    expect(labels.map((e) => e.text.text)).toEqual(['Renew', 'Delete now']);
    // Delete now asks Slack's confirm dialog first, like every Delete.
    expect(labels[1]?.confirm).toBeDefined();

    // Renew from the DM: immediate, the member is told the new expiry.
    let count = w.double.dmsTo(MEMBER).length;
    expect((await w.double.pressButton({ user: MEMBER, message: reminder, actionId: 'vm:renew' })).status).toBe(200);
    await w.h.waitFor(async () => (await renewals(id)) === 1, { what: 'the first renewal' });
    expect((await dmAfter(count, 'is renewed', 'the renewed DM')).text).toContain('2027-03-11');

    count = w.double.dmsTo(MEMBER).length;
    await w.double.pressButton({ user: MEMBER, message: reminder, actionId: 'vm:renew' });
    await w.h.waitFor(async () => (await renewals(id)) === 2, { what: 'the second renewal' });
    await dmAfter(count, 'is renewed', 'the second renewed DM');

    // The third goes to the admins: their card shows the ask with its two buttons.
    count = w.double.dmsTo(MEMBER).length;
    await w.double.pressButton({ user: MEMBER, message: reminder, actionId: 'vm:renew' });
    await dmAfter(count, 'sent to the admins', 'the renewal-requested DM');
    const asking = await w.card('lease-1', (m) => buttonsOf(m).includes('vm:approve_renewal'), 'the card with the renewal ask');
    expect(buttonsOf(asking).slice(0, 2)).toEqual(['vm:approve_renewal', 'vm:deny_renewal']);
    expect(cardText(asking)).toContain('asked for a renewal');
    expect(await renewals(id)).toBe(2);

    // A member in the admin channel who is not an admin is refused, privately.
    await w.double.pressButton({ user: OTHER, message: asking, actionId: 'vm:approve_renewal' });
    await w.double.waitFor(() => w.double.ephemeralsFor(OTHER).find((m) => m.text.includes('Only vmbot admins can decide on a renewal')), 5_000, 'the refusal');
    expect(await renewals(id)).toBe(2);

    count = w.double.dmsTo(MEMBER).length;
    await w.double.pressButton({ user: ADMIN1, message: asking, actionId: 'vm:approve_renewal' });
    await w.h.waitFor(async () => (await renewals(id)) === 3, { what: 'the approved renewal' });
    expect((await dmAfter(count, 'was approved by', 'the approved-renewal DM')).text).toContain(`<@${ADMIN1}>`);
    const after = await w.card('lease-1', (m) => !buttonsOf(m).includes('vm:approve_renewal') && cardText(m).includes('expires 2027-05-10'), 'the card after the renewal');
    expect(cardText(after)).toContain('2 of 2 automatic renewals used');
  });

  it('/vm expire is for admins; /vm list shows the lease', async () => {
    await w.double.slashCommand({ user: MEMBER, text: 'expire lease-1 2030-01-01' });
    await w.double.waitFor(() => w.double.ephemeralsFor(MEMBER).find((m) => m.text.includes('Only vmbot admins can set')), 5_000, 'the member refused');

    await w.double.slashCommand({ user: ADMIN1, text: 'expire lease-1 2027-06-30' });
    await w.double.waitFor(() => w.double.ephemeralsFor(ADMIN1).find((m) => m.text.includes('expires 2027-07-01')), 5_000, 'the admin\'s answer');
    const id = await w.requestId('lease-1');
    expect((await w.h.core.store.requests.get(id))?.lease?.expiresAt).toBe('2027-07-01T00:00:00.000Z');
    await w.double.waitFor(() => w.double.dmsTo(MEMBER).find((m) => m.text.includes('set the lease of your VM')), 5_000, 'the member told');

    await w.double.slashCommand({ user: MEMBER, text: 'expire lease-1' });
    await w.double.waitFor(() => w.double.ephemeralsFor(MEMBER).find((m) => m.text.includes('needs a VM name and a date')), 5_000, 'the usage hint');

    await w.double.slashCommand({ user: MEMBER, text: 'list' });
    await w.double.waitFor(() => w.double.ephemeralsFor(MEMBER).find((m) => JSON.stringify(m.blocks).includes('lease: expires 2027-07-01')), 5_000, 'the list with the lease');
  });
});
