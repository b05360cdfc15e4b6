// The web console cuts slow clients, caps its connections (src/listen.ts) and its live-update
// (SSE) streams, over real sockets.
import { afterEach, describe, expect, it } from 'vitest';
import { LOCAL_ADMIN_ID, startWebConsole, type WebConsole } from '../../../../src/chat/web/index.js';
import { DEFAULT_MAX_LIVE_STREAMS } from '../../../../src/chat/web/live.js';
import { parseConfig } from '../../../../src/config/load.js';
import type { HttpLimits } from '../../../../src/listen.js';
import { silentLogger } from '../../../../src/log.js';
import { rawConnect, type RawClient } from '../../../support/raw-http.js';
import { waitFor } from '../../../support/wait.js';
import { FakeWorkflow, fakeStore } from './fake-workflow.js';
import { openSse, type SseReader } from './sse.js';

const config = parseConfig({ nomad: { adapter: 'sim' }, web: { admins: [LOCAL_ADMIN_ID] } });
const closers: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (closers.length) await closers.pop()!();
});

async function start(over: { limits?: HttpLimits; maxLiveStreams?: number; token?: string } = {}): Promise<WebConsole> {
  const workflow = new FakeWorkflow([LOCAL_ADMIN_ID]);
  const mode = over.token ? 'production' : 'local';
  const web = await startWebConsole({ workflow, store: fakeStore(workflow), config, mode, host: '127.0.0.1', port: 0, logger: silentLogger, simulated: mode === 'local', ...over });
  closers.push(() => web.stop());
  return web;
}

async function client(url: string): Promise<RawClient> {
  const c = await rawConnect(url);
  closers.push(() => c.destroy());
  return c;
}

async function sse(web: WebConsole, as = 'member'): Promise<SseReader> {
  const reader = await openSse(new URL(`/api/events?as=${as}`, web.url).href);
  closers.push(() => reader.close());
  return reader;
}

const GET_SESSION = 'GET /api/session HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\n\r\n';

describe('web console limits', () => {
  it('closes a client that sends half a request and waits', async () => {
    const web = await start({ limits: { headersTimeoutMs: 500, requestTimeoutMs: 1_000 } });
    const c = await client(web.url);
    c.socket.write('GET /api/session HTTP/1.1\r\nHost: 127.0');
    await c.closed(5_000);
    expect(c.received).toMatch(/^HTTP\/1\.1 408/);
  });

  it('closes a client that sends the headers of a POST but only part of its body', async () => {
    const web = await start({ limits: { headersTimeoutMs: 500, requestTimeoutMs: 1_000 } });
    const c = await client(web.url);
    c.socket.write('POST /api/requests HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"name":');
    await c.closed(5_000);
  });

  it('keeps a live-update stream open past the request timeout', async () => {
    const web = await start({ limits: { headersTimeoutMs: 300, requestTimeoutMs: 300 } });
    const stream = await client(web.url);
    stream.socket.write('GET /api/events?as=member HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n');
    await stream.receivedText(': open\n\n', 5_000);
    // A slow client opened after the stream is cut; the stream outlives it, well past 300 ms.
    const slow = await client(web.url);
    slow.socket.write('GET /api/session HTTP/1.1\r\n');
    await slow.closed(5_000);
    expect(stream.socket.destroyed).toBe(false);
    expect(stream.received).toMatch(/^HTTP\/1\.1 200/);
  });

  it('closes a connection beyond maxConnections', async () => {
    const web = await start({ limits: { maxConnections: 2, keepAliveTimeoutMs: 60_000 } });
    for (let i = 0; i < 2; i++) {
      const c = await client(web.url);
      c.socket.write(GET_SESSION);
      await c.receivedText('"mode":"local"', 5_000);
    }
    const extra = await client(web.url);
    extra.socket.write(GET_SESSION);
    await extra.closed(3_000);
    expect(extra.received).toBe('');
  });

  it('answers the stream beyond maxLiveStreams with 503 and a clear message, and takes one again when a page closes', async () => {
    expect(DEFAULT_MAX_LIVE_STREAMS).toBe(64);
    const web = await start({ maxLiveStreams: 2 });
    const first = await sse(web, 'member');
    await sse(web, 'admin');
    const refused = await fetch(new URL('/api/events?as=member', web.url), { headers: { Accept: 'text/event-stream' } });
    expect(refused.status).toBe(503);
    expect(await refused.json()).toEqual({ ok: false, problems: [{ code: 'too_many_streams', message: expect.stringMatching(/too many live-update streams are open \(2\)/) }] });
    // Other requests still work.
    expect((await fetch(new URL('/api/session', web.url))).status).toBe(200);

    first.close();
    const again = await waitFor(() => openSse(new URL('/api/events?as=member', web.url).href), { timeoutMs: 5_000, what: 'a stream to open once one closed' });
    closers.push(() => again.close());
  });

  it('caps streams in production mode too', async () => {
    const token = 'a'.repeat(40);
    const web = await start({ maxLiveStreams: 1, token });
    const headers = { Authorization: `Bearer ${token}` };
    const one = await openSse(new URL('/api/events', web.url).href, headers);
    closers.push(() => one.close());
    const refused = await fetch(new URL('/api/events', web.url), { headers });
    expect(refused.status).toBe(503);
  });
});
