// The NoCloud server cuts slow clients and caps its connections (src/listen.ts), over real
// TCP sockets: half a request, a silent connection, one connection too many.
import { afterEach, describe, expect, it } from 'vitest';
import { startNoCloudServer } from '../../../src/cloudinit/nocloud-server.js';
import { createLimitedServer, DEFAULT_HTTP_LIMITS, type HttpLimits } from '../../../src/listen.js';
import { rawConnect, type RawClient } from '../../support/raw-http.js';
import { makeTempDir } from '../../support/tmp.js';
import { waitFor } from '../../support/wait.js';

const closers: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (closers.length) await closers.pop()!();
});

async function start(limits: HttpLimits): Promise<string> {
  const tmp = await makeTempDir('nocloud-limits');
  closers.push(() => tmp.cleanup());
  const server = await startNoCloudServer({ dir: tmp.dir, host: '127.0.0.1', port: 0, limits });
  closers.push(() => server.close());
  return server.url;
}

async function client(url: string): Promise<RawClient> {
  const c = await rawConnect(url);
  closers.push(() => c.destroy());
  return c;
}

const FAST = { headersTimeoutMs: 500, requestTimeoutMs: 1_000 };
const KEEP_ALIVE_GET = 'GET /nocloud/none HTTP/1.1\r\nHost: seed\r\nConnection: keep-alive\r\n\r\n';

describe('NoCloud server limits', () => {
  it('defaults: headers within 10 s, the whole request within 14 s (cut by 15 s), 256 connections', () => {
    expect(DEFAULT_HTTP_LIMITS).toEqual({ headersTimeoutMs: 10_000, requestTimeoutMs: 14_000, keepAliveTimeoutMs: 5_000, maxConnections: 256 });
    const server = createLimitedServer(() => undefined, {}, { what: 'test' });
    expect({ headers: server.headersTimeout, request: server.requestTimeout, max: server.maxConnections }).toEqual({ headers: 10_000, request: 14_000, max: 256 });
  });

  it('refuses limits that are not positive integers', () => {
    expect(() => createLimitedServer(() => undefined, { maxConnections: 0 }, { what: 'test' })).toThrow(/maxConnections must be a positive integer/);
  });

  it('closes a client that sends half a request line and waits', async () => {
    const url = await start(FAST);
    const c = await client(url);
    c.socket.write('GET /nocloud/abcdefghijklmnopqrstuvwxyz');
    const ms = await c.closed(5_000);
    expect(ms).toBeGreaterThanOrEqual(400);
    expect(c.received).toMatch(/^HTTP\/1\.1 408/);
  });

  it('closes a client that sends the request line and some headers and waits', async () => {
    const url = await start(FAST);
    const c = await client(url);
    c.socket.write('GET /nocloud/abcdefghijklmnopqrstuvwxyz/meta-data HTTP/1.1\r\nHost: seed\r\n');
    await c.closed(5_000);
    expect(c.received).toMatch(/^HTTP\/1\.1 408/);
  });

  it('closes a client that connects and sends nothing', async () => {
    const url = await start(FAST);
    const c = await client(url);
    await c.closed(5_000);
  });

  it('still answers a client that sends a whole request at once', async () => {
    const url = await start(FAST);
    const c = await client(url);
    c.socket.write(KEEP_ALIVE_GET);
    expect(await c.receivedText('not found\n', 5_000)).toMatch(/^HTTP\/1\.1 404/);
  });

  it('closes a connection beyond maxConnections at once and takes new ones when one is gone', async () => {
    // Default (10 s) timeouts: any close within the deadlines below is the cap's doing.
    const url = await start({ maxConnections: 2, keepAliveTimeoutMs: 60_000 });
    const held: RawClient[] = [];
    for (let i = 0; i < 2; i++) {
      const c = await client(url);
      c.socket.write(KEEP_ALIVE_GET);
      // Answered: the server has counted this connection, and keeps it open (keep-alive).
      await c.receivedText('not found\n', 5_000);
      held.push(c);
    }
    const extra = await client(url);
    extra.socket.write(KEEP_ALIVE_GET);
    // Dropped for the cap, unanswered, long before any timeout.
    await extra.closed(3_000);
    expect(extra.received).toBe('');

    held[0]!.socket.end();
    await held[0]!.closed(5_000);
    const answered = await waitFor(
      async () => {
        const c = await client(url);
        c.socket.write(KEEP_ALIVE_GET);
        return await c.receivedText('not found\n', 1_000);
      },
      { timeoutMs: 5_000, what: 'a new connection to be answered once one closed' },
    );
    expect(answered).toMatch(/^HTTP\/1\.1 404/);
  });
});
