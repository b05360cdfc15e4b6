// Starting and stopping the small HTTP servers vmbot runs for others to call: the NoCloud
// server, the web console and the simulated Nomad cluster. All must free their port at once
// on close, even with keep-alive or long-poll connections still open. The ones reachable by
// others (NoCloud, web console) are made with createLimitedServer: slow clients are cut and
// the number of connections is capped.
import { createServer, type RequestListener, type Server } from 'node:http';
import type { Logger } from './log.js';

/** Limits against slow or too many clients. Every time is in milliseconds. */
export interface HttpLimits {
  /** The request line and headers must arrive within this (default 10 s). */
  headersTimeoutMs?: number;
  /** The whole request, body included, must arrive within this (default 14 s; at least headersTimeoutMs). */
  requestTimeoutMs?: number;
  /** An idle keep-alive connection is closed after this (default 5 s). */
  keepAliveTimeoutMs?: number;
  /** Open connections at most; more are closed at once (default 256). */
  maxConnections?: number;
}

export const DEFAULT_HTTP_LIMITS: Required<HttpLimits> = {
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 14_000,
  keepAliveTimeoutMs: 5_000,
  maxConnections: 256,
};

/** How often dropped connections are logged at most. */
const DROP_LOG_INTERVAL_MS = 60_000;

/**
 * An HTTP server whose header and request timeouts really fire: Node checks them only every
 * connectionsCheckingInterval (30 s by default), so that is set to a quarter of the shorter
 * timeout (at most 1 s). A client that sends half a request and waits is closed (408) within
 * requestTimeoutMs plus that interval (15 s with the defaults). Connections beyond maxConnections are closed at once.
 */
export function createLimitedServer(handler: RequestListener, limits: HttpLimits = {}, opts: { what: string; logger?: Logger | undefined }): Server {
  const l = { ...DEFAULT_HTTP_LIMITS, ...definedOnly(limits) };
  for (const [key, value] of Object.entries(l)) {
    if (!Number.isInteger(value) || value <= 0) throw new Error(`${opts.what}: ${key} must be a positive integer (got ${String(value)})`);
  }
  const requestTimeout = Math.max(l.requestTimeoutMs, l.headersTimeoutMs);
  const server = createServer(
    {
      headersTimeout: l.headersTimeoutMs,
      requestTimeout,
      keepAliveTimeout: l.keepAliveTimeoutMs,
      connectionsCheckingInterval: Math.max(50, Math.min(1_000, Math.floor(l.headersTimeoutMs / 4))),
    },
    handler,
  );
  server.maxConnections = l.maxConnections;
  let lastDropLog = 0;
  server.on('drop', () => {
    const now = Date.now();
    if (now - lastDropLog < DROP_LOG_INTERVAL_MS) return;
    lastDropLog = now;
    opts.logger?.warn({ maxConnections: l.maxConnections }, `${opts.what}: too many open connections, new ones are closed`);
  });
  return server;
}

function definedOnly(limits: HttpLimits): HttpLimits {
  return Object.fromEntries(Object.entries(limits).filter(([, v]) => v !== undefined)) as HttpLimits;
}

/** Listens on host:port (port 0: any free one) and returns the base URL, `http://host:port`. */
export async function listenHttp(server: Server, port: number, host: string, what: string): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error(`${what}: no TCP address`);
  const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return `http://${shownHost}:${address.port}`;
}

/** Stops accepting and ends every open connection, idle or busy; resolves once the server is closed. */
export function closeHttp(server: Server): Promise<void> {
  return new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
