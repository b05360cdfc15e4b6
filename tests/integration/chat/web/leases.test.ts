// Leases through the web console in local mode (issue 12), on the real workflow and the
// simulated cluster, with an injected clock: the reminder notice carries Renew and Delete now,
// Renew posted like any action renews, the card and the VMs list show the lease, and an admin
// sets the expiry (POST /api/vms/<name>/expiry), which a member may not.
import { describe, expect, it } from 'vitest';
import type { ConfigInput } from '../../../../src/config/schema.js';
import { DAY_MS } from '../../../../src/domain/lease.js';
import { LOCAL_ADMIN_ID } from '../../../../src/chat/web/index.js';
import { Workflow } from '../../../../src/workflow/workflow.js';
import type { CardAction, RequestCardView, VmSummaryView } from '../../../../src/workflow/views.js';
import { TEST_SSH_KEY } from '../../../support/harness.js';
import { get, post, startLocalConsole } from './local-console.js';

const T0 = Date.parse('2027-01-10T09:00:00.000Z');
const EXPIRY = T0 + 30 * DAY_MS;
let t = T0;

describe('web console: leases', () => {
  it('the reminder notice offers Renew and Delete now; Renew renews; the card and the VMs list show the lease; admins set the expiry', async () => {
    t = T0;
    const config = { policy: { lease: { default: '30d', autoRenewals: 2, graceDays: 14 } }, web: { admins: [LOCAL_ADMIN_ID] } } as Partial<ConfigInput>;
    const { h, web } = await startLocalConsole({ config, workflow: { now: () => new Date(t) }, sim: { startDelayMs: 20, chunkDelayMs: 5 } });
    const form = { name: 'wlease', distro: 'debian-12', size: 'small', login: 'alice', sshKeys: TEST_SSH_KEY, reason: 'course' };
    const id = ((await (await post(web, '/api/requests', form, 'member')).json()) as { value: { requestId: string } }).value.requestId;
    expect((await post(web, `/api/requests/${id}/approve`, {}, 'admin')).status).toBe(200);
    await h.inState(id, 'running');

    const card = (await get<RequestCardView[]>(web, '/api/cards?as=member')).body.value?.find((c) => c.requestId === id);
    expect(card?.lease).toBe('expires 2027-02-09 (in 30 days), 0 of 2 automatic renewals used');
    expect(card?.ownerActions?.map((a) => a.kind)).toContain('renew');

    t = EXPIRY - 7 * DAY_MS;
    const workflow = h.core.workflow;
    if (!(workflow instanceof Workflow)) throw new Error('the harness should run the real Workflow');
    await workflow.leases.tick();
    const notices = await h.waitFor(async () => {
      const r = await get<Array<{ kind: string; actions?: CardAction[] }>>(web, '/api/notices?as=member');
      return r.body.value?.find((n) => n.kind === 'lease_reminder');
    }, { what: 'the reminder notice' });
    expect(notices.actions?.map((a) => [a.kind, a.label, a.requestId])).toEqual([['renew', 'Renew', id], ['delete', 'Delete now', id]]);

    // The page posts a notice's button like a card's.
    expect((await post(web, `/api/requests/${id}/renew`, {}, 'member')).status).toBe(200);
    expect((await h.core.store.requests.get(id))?.lease).toMatchObject({ renewals: 1, expiresAt: new Date(EXPIRY + 30 * DAY_MS).toISOString() });
    // The admin may not renew someone else's VM: set the expiry instead.
    expect((await post(web, `/api/requests/${id}/renew`, {}, 'admin')).status).toBe(403);

    const vms = await get<VmSummaryView[]>(web, '/api/vms?as=member');
    expect(vms.body.value?.find((v) => v.requestId === id)?.lease).toBe('expires 2027-03-11 (in 37 days), 1 of 2 automatic renewals used');

    expect((await post(web, '/api/vms/wlease/expiry', { date: '2027-06-30' }, 'member')).status).toBe(403);
    const set = await post(web, '/api/vms/wlease/expiry', { date: '2027-06-30' }, 'admin');
    expect(set.status).toBe(200);
    expect(((await set.json()) as { value: VmSummaryView }).value.lease).toMatch(/^expires 2027-07-01/);
    const bad = await post(web, '/api/vms/wlease/expiry', { date: 'soon' }, 'admin');
    expect(bad.status).toBe(422);
    expect(((await bad.json()) as { problems: Array<{ code: string; field?: string }> }).problems[0]).toMatchObject({ code: 'invalid_date', field: 'date' });
  });
});
