// Issue 12 through the web console in local mode, on the real workflow and the simulated
// cluster: the form's quota refusal on the size field, the pending card's quota line, the up
// notice's host key fingerprints, and GET /api/logs (the last console lines, the seed token
// removed; an empty name refused by the API, another member's VM refused by the workflow).
import { describe, expect, it } from 'vitest';
import type { ConfigInput } from '../../../../src/config/schema.js';
import { LOCAL_ADMIN_ID } from '../../../../src/chat/web/index.js';
import type { ConsoleLogView, RequestCardView } from '../../../../src/workflow/views.js';
import { TEST_SSH_KEY } from '../../../support/harness.js';
import { get, post, startLocalConsole } from './local-console.js';

// Default sizes: small 2000 MHz / 2048 MiB, medium 6000 / 4096.
function start(): ReturnType<typeof startLocalConsole> {
  return startLocalConsole({ config: { policy: { quota: { vms: 2, cpu: 8000 } }, web: { admins: [LOCAL_ADMIN_ID] } } as Partial<ConfigInput>, sim: { startDelayMs: 20, chunkDelayMs: 5 } });
}

const form = (name: string, size: string) => ({ name, distro: 'debian-12', size, login: 'alice', sshKeys: TEST_SSH_KEY, reason: 'course' });

describe('web console: quotas, host keys, console log', () => {
  it('runs a VM, shows its host keys in the up notice and its console through /api/logs; refuses over quota on the size field', async () => {
    const { h, web } = await start();
    const submitted = (await (await post(web, '/api/requests', form('wkeys', 'medium'), 'member')).json()) as { value: { requestId: string } };
    const id = submitted.value.requestId;
    expect((await post(web, `/api/requests/${id}/approve`, {}, 'admin')).status).toBe(200);
    const vm = await h.inState(id, 'running');

    // The up notice (its words from notices.ts) carries the fingerprints the guest printed.
    const printed = h.sim.control.hostKeysOf(vm.allocId!)!;
    const notices = await h.waitFor(async () => {
      const r = await get<Array<{ kind: string; words?: unknown }>>(web, '/api/notices?as=member');
      return r.body.value?.some((n) => n.kind === 'up') ? r.body.value : undefined;
    }, { what: 'the up notice' });
    const up = JSON.stringify(notices.find((n) => n.kind === 'up'));
    for (const key of printed) expect(up).toContain(key.fingerprint);

    // Over the CPU quota: refused on the size field, with the limit and the use.
    const refused = await post(web, '/api/requests', form('wbig', 'medium'), 'member');
    expect(refused.status).toBe(422);
    expect(((await refused.json()) as { problems: unknown[] }).problems).toEqual([
      { code: 'quota_exceeded', field: 'size', message: 'This would use 12000 of your 8000 MHz of CPU (you have 1 VM using 6000 MHz): choose a smaller size or delete a VM.' },
    ]);

    // A pending request's card shows the use before it against the quota.
    const fits = (await (await post(web, '/api/requests', form('wfits', 'small'), 'member')).json()) as { value: { requestId: string } };
    const cards = await get<RequestCardView[]>(web, '/api/cards?as=admin');
    expect(cards.body.value?.find((c) => c.requestId === fits.value.requestId)?.quota).toBe('1 of 2 VMs, 6000/8000 MHz, 4096 MiB');

    await h.waitFor(() => h.sim.control.consoleOf(vm.allocId!).toString().includes(' login: '), { what: 'the login prompt' });
    const logs = await get<ConsoleLogView>(web, '/api/logs?as=member&name=wkeys');
    expect(logs.status).toBe(200);
    expect(logs.body.value).toMatchObject({ name: 'wkeys', allocation: vm.allocId!.slice(0, 8) });
    expect(logs.body.value!.lines).toHaveLength(40);
    const text = logs.body.value!.lines.join('\n');
    expect(text).toContain('login: ');
    expect(text).not.toContain(vm.seedToken!);
    expect(text).not.toContain('\x1b');

    const empty = await get(web, '/api/logs?as=member&name=%20');
    expect(empty.status).toBe(400);
    expect(empty.body.problems?.[0]).toMatchObject({ field: 'name' });
    // The admin may read it too; an unknown name is not found.
    expect((await get(web, '/api/logs?as=admin&name=wkeys')).status).toBe(200);
    expect((await get(web, '/api/logs?as=member&name=nothere')).status).toBe(404);
  });
});
