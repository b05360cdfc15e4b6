import { createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../../../src/config/load.js';
import { silentLogger } from '../../../../src/log.js';
import { LOCAL_ADMIN_ID, LOCAL_MEMBER_ID, SIMULATED_BANNER, WebListenError, startWebConsole, type WebConsole } from '../../../../src/chat/web/index.js';
import { FakeWorkflow, fakeStore } from './fake-workflow.js';
import { inConsoleTerms } from '../../../../src/chat/web/api.js';
import { ACTION_KINDS, ACTIONS, type ActionCommand } from '../../../../src/workflow/views.js';
import { openSse, type SseReader } from './sse.js';

const config = parseConfig({ nomad: { adapter: 'sim' }, web: { admins: [LOCAL_ADMIN_ID] } });
const open: Array<{ stop(): Promise<void> } | SseReader> = [];

afterEach(async () => {
  for (const x of open.splice(0).reverse()) 'stop' in x ? await x.stop() : x.close();
});

async function start(mode: 'local' | 'production', token?: string) {
  const workflow = new FakeWorkflow([LOCAL_ADMIN_ID]);
  const web = await startWebConsole({ workflow, store: fakeStore(workflow), config, mode, host: '127.0.0.1', port: 0, logger: silentLogger, simulated: mode === 'local', ...(token ? { token } : {}) });
  open.push(web);
  return { workflow, web };
}

function post(web: WebConsole, path: string, body: unknown, as: 'member' | 'admin' | null = 'member', extra: Record<string, string> = {}) {
  return fetch(new URL(path, web.url), {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...(as ? { 'X-Vmbot-As': as } : {}), ...extra },
    body: JSON.stringify(body),
  });
}

const form = { name: 'web1', distro: 'debian-12', size: 'small', login: 'alice', sshKeys: 'ssh-ed25519 AAAA x', reason: 'course' };

describe('web console, local mode', () => {
  it('serves the page with a strict CSP and says the cluster is simulated', async () => {
    const { web } = await start('local');
    const page = await fetch(web.url);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(await page.text()).toContain('<script src="/app.js"');
    const js = await fetch(new URL('/app.js', web.url));
    expect(js.headers.get('content-type')).toMatch(/javascript/);
    expect(await js.text()).not.toMatch(/innerHTML|outerHTML|insertAdjacentHTML|document.write/);
    // The page names its icon (served from 'self', as the CSP's img-src allows).
    const icon = await fetch(new URL('/favicon.svg', web.url));
    expect(icon.status).toBe(200);
    expect(icon.headers.get('content-type')).toBe('image/svg+xml');
    const session = (await (await fetch(new URL('/api/session', web.url))).json()) as { mode: string; banner: string };
    expect(session).toMatchObject({ mode: 'local', banner: SIMULATED_BANNER });
  });

  it('submits a request as the local member and returns problems with their field', async () => {
    const { web, workflow } = await start('local');
    const good = await post(web, '/api/requests', form);
    expect(good.status).toBe(200);
    expect(workflow.calls.at(-1)).toMatchObject({ method: 'submitRequest', actor: { platform: 'web', userId: LOCAL_MEMBER_ID }, args: [form] });

    const bad = await post(web, '/api/requests', { ...form, name: 'Bad Name!' });
    expect(bad.status).toBe(422);
    expect(await bad.json()).toEqual({ ok: false, problems: [{ code: 'invalid_name', message: expect.any(String), field: 'name' }] });
  });

  it('refuses POSTs without the custom header, from another origin, or not JSON (CSRF)', async () => {
    const { web, workflow } = await start('local');
    expect((await post(web, '/api/requests', form, null)).status).toBe(403);
    expect((await post(web, '/api/requests', form, 'member', { Origin: 'http://evil.example' })).status).toBe(403);
    const text = await fetch(new URL('/api/requests', web.url), { method: 'POST', headers: { 'X-Vmbot-As': 'member', 'Content-Type': 'text/plain' }, body: JSON.stringify(form) });
    expect(text.status).toBe(403);
    expect(workflow.calls.filter((c) => c.method === 'submitRequest')).toHaveLength(0);
    const sameOrigin = await post(web, '/api/requests', form, 'member', { Origin: web.url.replace(/\/$/, '') });
    expect(sameOrigin.status).toBe(200);
  });

  it('answers only to its own address without a token (DNS rebinding)', async () => {
    const { web } = await start('local');
    const { request } = await import('node:http');
    const status = (host: string) =>
      new Promise<number>((resolve, reject) => {
        const req = request(new URL('/api/session', web.url), { headers: { Host: host } }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on('error', reject);
        req.end();
      });
    expect(await status('evil.example:8080')).toBe(403);
    expect(await status(new URL(web.url).host)).toBe(200);
    expect(await status(`localhost:${new URL(web.url).port}`)).toBe(200);
  });

  it('acts as the admin identity in the admin view; the workflow decides who may approve', async () => {
    const { web, workflow } = await start('local');
    await post(web, '/api/requests', form);
    const asMember = await post(web, '/api/requests/req1/approve', {}, 'member');
    expect(asMember.status).toBe(403);
    const asAdmin = await post(web, '/api/requests/req1/approve', {}, 'admin');
    expect(asAdmin.status).toBe(200);
    expect(workflow.calls.filter((c) => c.method === 'approve').map((c) => c.actor.userId)).toEqual([LOCAL_MEMBER_ID, LOCAL_ADMIN_ID]);
    await post(web, '/api/requests/req1/deny', { reason: 'no room' }, 'admin');
    expect(workflow.calls.at(-1)).toMatchObject({ method: 'deny', args: ['req1', 'no room'] });
    await post(web, `/api/vms/${encodeURIComponent('web1')}/delete`, {}, 'member');
    expect(workflow.calls.at(-1)).toMatchObject({ method: 'delete', actor: { userId: LOCAL_MEMBER_ID }, args: ['web1'] });
  });

  // Iterates ACTION_KINDS: every kind has its route, and only the workflow decides on it.
  it('routes POST /api/requests/<id>/<kind> to workflow.act for every action kind, and 404s a kind it does not know', async () => {
    const { web, workflow } = await start('local');
    const acts: ActionCommand[] = [];
    const act = workflow.act.bind(workflow);
    workflow.act = (actor, command) => {
      acts.push(command);
      return act(actor, command);
    };
    for (const kind of ACTION_KINDS) {
      await post(web, `/api/requests/req9/${kind}`, { reason: 'why' }, 'admin');
      expect(acts.at(-1)).toEqual({ kind, requestId: 'req9', ...(ACTIONS[kind].needs === 'reason' ? { reason: 'why' } : {}) });
    }
    expect(acts).toHaveLength(ACTION_KINDS.length);
    expect((await post(web, '/api/requests/req9/launch', {}, 'admin')).status).toBe(404);
    expect(acts).toHaveLength(ACTION_KINDS.length);
    // The page draws any kind from the session's catalogue: label, style, needs.
    const session = (await (await fetch(new URL('/api/session', web.url))).json()) as { actions: Record<string, { label: string; style: string; needs?: string }> };
    expect(Object.keys(session.actions).sort()).toEqual([...ACTION_KINDS].sort());
    for (const kind of ACTION_KINDS) expect(session.actions[kind]).toMatchObject({ style: ACTIONS[kind].style, label: expect.any(String) });
  });

  it('pushes card changes live; a member page sees only its own cards', async () => {
    const { web, workflow } = await start('local');
    const admin = await openSse(new URL('/api/events?as=admin', web.url).href);
    const member = await openSse(new URL('/api/events?as=member', web.url).href);
    open.push(admin, member);
    workflow.addForeign({ platform: 'slack', userId: 'U999' }, 'other');
    await post(web, '/api/requests', form);
    await post(web, '/api/requests/req2/approve', {}, 'admin');
    const approved = await admin.next((e) => e.event === 'card' && (e.data as { state: string }).state === 'provisioning');
    expect(approved.data).toMatchObject({ name: 'web1', requester: { userId: LOCAL_MEMBER_ID } });
    await member.next((e) => e.event === 'card' && (e.data as { state: string }).state === 'provisioning');
    expect(admin.events.map((e) => (e.data as { name: string }).name)).toContain('other');
    expect(member.events.map((e) => (e.data as { name: string }).name)).not.toContain('other');
  });

  it('shows a member their notices, live and after a reload, and no one else', async () => {
    const { web } = await start('local');
    const member = await openSse(new URL('/api/events?as=member', web.url).href);
    open.push(member);
    await web.notifyMember({ platform: 'web', userId: LOCAL_MEMBER_ID }, { kind: 'up', requestId: 'req1', name: 'web1', ipv4: '10.10.0.7', ssh: 'ssh alice@10.10.0.7' });
    const notice = await member.next((e) => e.event === 'notice');
    expect(notice.data).toMatchObject({ kind: 'up', ssh: 'ssh alice@10.10.0.7' });
    const backlog = await (await fetch(new URL('/api/notices?as=member', web.url))).json();
    expect(backlog).toMatchObject({ ok: true, value: [{ kind: 'up' }] });
    const other = await (await fetch(new URL('/api/notices?as=admin', web.url))).json();
    expect(other).toEqual({ ok: true, value: [] });
  });

  it('lists cards, VMs, pool usage and audit for the page', async () => {
    const { web } = await start('local');
    await post(web, '/api/requests', form);
    const cards = (await (await fetch(new URL('/api/cards?as=member', web.url))).json()) as { value: Array<{ name: string }> };
    expect(cards.value.map((c) => c.name)).toEqual(['web1']);
    const vms = (await (await fetch(new URL('/api/vms?as=member', web.url))).json()) as { value: Array<{ name: string }> };
    expect(vms.value.map((v) => v.name)).toEqual(['web1']);
    const pool = (await (await fetch(new URL('/api/pool', web.url))).json()) as { value: { free: number } };
    expect(pool.value.free).toBe(254);
    const ip = await fetch(new URL('/api/ip?as=member&name=nope', web.url));
    expect(ip.status).toBe(404);
    // An empty look-up never reaches the workflow: the field is named, in console terms.
    const empty = await fetch(new URL('/api/ip?as=member&name=%20', web.url));
    expect(empty.status).toBe(400);
    expect(await empty.json()).toMatchObject({ ok: false, problems: [{ code: 'invalid_name', field: 'name', message: 'Type the name of a VM to look up.' }] });
  });

  it('words the workflow\'s chat-command hints for the console', () => {
    const p = inConsoleTerms({ code: 'not_found', message: 'There is no VM or request "x". /vm list shows yours.', field: 'name' });
    expect(p).toEqual({ code: 'not_found', message: 'There is no VM or request "x". The VMs table on this page lists yours.', field: 'name' });
    const plain = { code: 'not_found' as const, message: 'No VM named x.' };
    expect(inConsoleTerms(plain)).toBe(plain);
  });

  it('serves Prometheus metrics', async () => {
    const { web } = await start('local');
    await post(web, '/api/requests', form);
    const res = await fetch(new URL('/metrics', web.url));
    expect(res.headers.get('content-type')).toMatch(/text\/plain/);
    const text = await res.text();
    expect(text).toContain('vmbot_requests{state="pending"} 1');
    expect(text).toContain('vmbot_mac_pool_free 254');
  });

  it('says clearly when the port is taken and what to set', async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const port = (blocker.address() as { port: number }).port;
    const workflow = new FakeWorkflow([]);
    try {
      await expect(startWebConsole({ workflow, store: fakeStore(workflow), config, mode: 'local', host: '127.0.0.1', port, logger: silentLogger, simulated: true })).rejects.toThrow(WebListenError);
      await expect(startWebConsole({ workflow, store: fakeStore(workflow), config, mode: 'local', host: '127.0.0.1', port, logger: silentLogger, simulated: true })).rejects.toThrow(/already in use.*web\.listen/);
    } finally {
      blocker.close();
    }
  });
});

describe('web console, production', () => {
  const token = 'tok-' + 'x'.repeat(32);

  it('needs the token: 401 without, cookie from ?token= once, Bearer for scrapers', async () => {
    const { web } = await start('production', token);
    expect((await fetch(web.url)).status).toBe(401);
    expect((await fetch(new URL('/metrics', web.url))).status).toBe(401);
    expect((await fetch(new URL('/?token=wrong', web.url), { redirect: 'manual' })).status).toBe(401);

    const first = await fetch(new URL(`/?token=${token}`, web.url), { redirect: 'manual' });
    expect(first.status).toBe(303);
    expect(first.headers.get('location')).toBe('/');
    const cookie = first.headers.get('set-cookie') ?? '';
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Strict/);
    const page = await fetch(web.url, { headers: { Cookie: cookie.split(';')[0]! } });
    expect(page.status).toBe(200);
    const metrics = await fetch(new URL('/metrics', web.url), { headers: { Authorization: `Bearer ${token}` } });
    expect(metrics.status).toBe(200);
  });

  it('is read-only: every POST is refused and nothing reaches the workflow', async () => {
    const { web, workflow } = await start('production', token);
    const res = await post(web, '/api/requests', form, 'admin', { Authorization: `Bearer ${token}` });
    expect(res.status).toBe(405);
    expect(((await res.json()) as { problems: Array<{ message: string }> }).problems[0]!.message).toMatch(/read-only/);
    const session = await (await fetch(new URL('/api/session', web.url), { headers: { Authorization: `Bearer ${token}` } })).json();
    expect(session).toMatchObject({ mode: 'production', readOnly: true });
    const member = await fetch(new URL('/api/form?as=member', web.url), { headers: { Authorization: `Bearer ${token}` } });
    expect(member.status).toBe(404);
    expect(workflow.calls).toHaveLength(0);
  });

  it('refuses to start without a token', async () => {
    const workflow = new FakeWorkflow([]);
    await expect(startWebConsole({ workflow, store: fakeStore(workflow), config, mode: 'production', host: '127.0.0.1', port: 0, logger: silentLogger, simulated: false })).rejects.toThrow(/VMBOT_WEB_TOKEN/);
  });
});
