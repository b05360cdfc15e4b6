// Power actions through the web console in local mode, on the real workflow and the simulated
// cluster: every kind posts to /api/requests/<id>/<kind> (the VMs table and the cards use the
// same route); stop keeps the job registered but stopped and the card offers Start; start,
// reboot and rebuild do what they do on Slack and Discord; another member is refused.
import { describe, expect, it } from 'vitest';
import { LOCAL_ADMIN_ID } from '../../../../src/chat/web/index.js';
import type { RequestCardView } from '../../../../src/workflow/views.js';
import { TEST_SSH_KEY } from '../../../support/harness.js';
import { post, startLocalConsole } from './local-console.js';

describe('web console: stop, start, reboot, rebuild', () => {
  it('acts through /api/requests/<id>/<kind> and shows Start on a stopped VM\'s card', async () => {
    const { h, web } = await startLocalConsole({ config: { web: { admins: [LOCAL_ADMIN_ID] } }, sim: { startDelayMs: 20, chunkDelayMs: 5 } });
    const submitted = (await (await post(web, '/api/requests', { name: 'wpower', distro: 'debian-12', size: 'small', login: 'alice', sshKeys: TEST_SSH_KEY, reason: 'course' }, 'member')).json()) as { value: { requestId: string } };
    const id = submitted.value.requestId;
    expect((await post(web, `/api/requests/${id}/approve`, {}, 'admin')).status).toBe(200);
    const running = await h.inState(id, 'running');

    const stopped = await post(web, `/api/requests/${id}/stop`, {}, 'member');
    expect(stopped.status).toBe(200);
    expect(((await stopped.json()) as { value: { state: string } }).value.state).toBe('stopped');
    expect(h.sim.control.jobs().find((j) => j.id === running.jobId)).toMatchObject({ stop: true });
    const cards = (await (await fetch(new URL('/api/cards?as=member', web.url))).json()) as { value: RequestCardView[] };
    expect(cards.value.find((c) => c.requestId === id)?.ownerActions?.map((a) => a.kind)).toEqual(['start', 'delete']);
    // The page knows how to draw the new kinds (labels, the rebuild's confirmation).
    const session = (await (await fetch(new URL('/api/session', web.url))).json()) as { actions: Record<string, { label: string; needs?: string }> };
    expect(session.actions['rebuild']).toMatchObject({ label: 'Rebuild', needs: 'confirmation' });
    expect(session.actions['start']).toMatchObject({ label: 'Start' });

    expect((await post(web, `/api/requests/${id}/start`, {}, 'member')).status).toBe(200);
    const back = await h.waitFor(async () => {
      const req = await h.core.store.requests.get(id);
      return req?.state === 'running' && req.allocId !== running.allocId ? req : undefined;
    }, { what: 'running again' });
    expect(back).toMatchObject({ mac: running.mac, seedToken: running.seedToken });

    expect((await post(web, `/api/requests/${id}/reboot`, {}, 'member')).status).toBe(200);
    expect((await post(web, `/api/requests/${id}/rebuild`, {}, 'member')).status).toBe(200);
    await h.waitFor(async () => {
      const req = await h.core.store.requests.get(id);
      return req?.state === 'running' && req.rebuilds === 1 ? req : undefined;
    }, { what: 'rebuilt and running' });
  });
});
