// The web console: a third chat adapter (platform 'web'). In local mode it is the whole user
// interface (request form, member and admin views, pool, audit) on the simulated cluster;
// in production it is a read-only view behind an access token. node:http, one page, JSON
// routes, live updates by server-sent events.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Config } from '../../config/schema.js';
import { closeHttp, createLimitedServer, type HttpLimits } from '../../listen.js';
import type { MemberRef } from '../../domain/request.js';
import type { Logger } from '../../log.js';
import { createMetrics, type Metrics, type MetricsStore } from '../../metrics.js';
import type { VmWorkflow } from '../../workflow/api.js';
import type { ChatAdapter } from '../adapter.js';
import type { MemberNotice, RequestCardView } from '../../workflow/views.js';
import { presentedToken, tokenCookie, tokenMatches } from './access.js';
import { handleGet, handlePost, SIMULATED_BANNER, type WebConsoleStore } from './api.js';
import { HttpError, send, sendError } from './http-util.js';
import { LiveHub } from './live.js';
import { loadAssets } from './static.js';

export { SIMULATED_BANNER, type WebConsoleStore } from './api.js';
export { LOCAL_ADMIN_ID, LOCAL_MEMBER_ID } from './access.js';

export interface WebConsole extends ChatAdapter {
  /** Where the console listens, e.g. http://127.0.0.1:8080/ */
  readonly url: string;
}

export interface WebConsoleOptions {
  workflow: VmWorkflow;
  /** Read-only uses: the list of cards, pool usage, audit (a full Store fits). */
  store: WebConsoleStore & MetricsStore;
  config: Config;
  mode: 'local' | 'production';
  host: string;
  /** 0 picks a free port (tests). */
  port: number;
  /** Required in production; optional in local mode (then required too when set). */
  token?: string;
  logger: Logger;
  simulated: boolean;
  /** Share one metrics registry with the caller; by default the console makes its own. */
  metrics?: Metrics;
  /** Timeouts and the connection cap (defaults: DEFAULT_HTTP_LIMITS, slow clients cut within 15 s). */
  limits?: HttpLimits;
  /** Live-update (SSE) streams open at once; more get 503 (default DEFAULT_MAX_LIVE_STREAMS, 64). */
  maxLiveStreams?: number;
}

/** The port is taken: says which and what to do. */
export class WebListenError extends Error {
  constructor(readonly host: string, readonly port: number, cause: unknown) {
    super(`the web console cannot listen on ${host}:${port}: ${(cause as NodeJS.ErrnoException).code === 'EADDRINUSE' ? 'the port is already in use' : (cause as Error).message}. Stop what uses it, or set web.listen in the config: for local mode a vmbot.config.yaml holding only web: { listen: "127.0.0.1:8081" } is enough`, { cause });
    this.name = 'WebListenError';
  }
}

/** Creates the console without listening: its owner (src/process.ts) calls start() and stop(). */
export async function createWebConsole(opts: WebConsoleOptions): Promise<WebConsole> {
  const { workflow, logger, mode } = opts;
  if (mode === 'production' && !opts.token) throw new Error('the production web console needs an access token: set VMBOT_WEB_TOKEN (or VMBOT_WEB_TOKEN_FILE)');
  const assets = await loadAssets();
  const hub = new LiveHub(opts.maxLiveStreams);
  const ownMetrics = opts.metrics === undefined;
  const metrics = opts.metrics ?? createMetrics({ store: opts.store, workflow });
  const ctx = { workflow, store: opts.store, config: opts.config, mode, simulated: opts.simulated, hub };
  const unsubscribe = workflow.onCard((card) => hub.card(card));

  // Slow or idle clients must not hold sockets forever: header and request timeouts and a
  // connection cap (src/listen.ts). An SSE stream is a finished GET, so they do not cut it.
  const server = createLimitedServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (err instanceof HttpError) return sendError(res, err);
      metrics.recordError('web_internal');
      logger.error({ err, method: req.method, path: pathOf(req) }, 'web console request failed');
      if (!res.headersSent) sendError(res, new HttpError(500, 'vmbot hit an internal error; the log has the details. Try again.', 'internal'));
      else res.end();
    });
  }, opts.limits, { what: 'web console', logger });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://console.invalid');
    const path = url.pathname;
    logger.debug({ method: req.method, path }, 'web request'); // never the query: it may hold the token
    if (opts.token === undefined && !hostAllowed(req.headers.host, opts.host)) {
      // Without a token, a page on another site could reach a loopback console through DNS
      // rebinding; the Host header it sends then names that site, not this console.
      throw new HttpError(403, `this console answers only to its own address (Host ${req.headers.host ?? '(none)'} refused): open ${consoleUrl} directly`, 'bad_host');
    }
    if (opts.token !== undefined) {
      const { token, fromQuery } = presentedToken(req, url);
      if (!tokenMatches(opts.token, token)) {
        throw new HttpError(401, 'this console needs its access token: open it with ?token=… once (it sets a cookie) or send Authorization: Bearer …', 'unauthorized');
      }
      if (fromQuery && req.method === 'GET') {
        // Trade the token in the URL for a cookie, so it does not stay in history or logs.
        url.searchParams.delete('token');
        send(res, 303, '', 'text/plain', { 'Set-Cookie': tokenCookie(opts.token, isTls(req)), Location: url.pathname + url.search });
        return;
      }
    }
    if (req.method === 'GET' || req.method === 'HEAD') {
      const asset = assets.get(path);
      if (asset) return send(res, 200, asset.body, asset.type);
      if (path === '/metrics') return send(res, 200, await metrics.render(), metrics.contentType);
      if (await handleGet(ctx, path, url, req, res)) return;
      throw new HttpError(404, `no such page: ${path}`, 'not_found');
    }
    if (req.method === 'POST') {
      if (mode === 'production') throw new HttpError(405, 'the production web console is read-only: approve, deny and delete from Slack or Discord', 'read_only');
      if (await handlePost(ctx, path, req, res)) return;
      throw new HttpError(404, `no such action: ${path}`, 'not_found');
    }
    throw new HttpError(405, `method ${req.method ?? ''} is not allowed`, 'method_not_allowed');
  }

  let consoleUrl = '';
  const adapter: WebConsole = {
    platform: 'web',
    get url() {
      return consoleUrl;
    },
    async drawCard(card: RequestCardView, ref: string | undefined): Promise<string> {
      // Pages get every card through workflow.onCard; the ref only marks it as drawn here.
      return ref ?? `web:${card.requestId}`;
    },
    async notifyMember(member: MemberRef, notice: MemberNotice): Promise<void> {
      hub.notice(member.userId, notice);
    },
    async start() {
      await new Promise<void>((resolve, reject) => {
        server.once('error', (err) => reject(new WebListenError(opts.host, opts.port, err)));
        server.listen(opts.port, opts.host, () => resolve());
      });
      const address = server.address() as AddressInfo;
      // A wildcard bind is reachable on loopback too; that is the address a person can open.
      const shown = address.address === '0.0.0.0' ? '127.0.0.1' : address.address === '::' ? '::1' : address.address;
      const host = address.family === 'IPv6' ? `[${shown}]` : shown;
      consoleUrl = `http://${host}:${address.port}/`;
      logger.info({ url: consoleUrl, mode, simulated: opts.simulated }, opts.simulated ? `web console listening: ${SIMULATED_BANNER}` : 'web console listening');
    },
    async stop() {
      unsubscribe();
      if (ownMetrics) metrics.close();
      hub.close();
      await closeHttp(server);
    },
  };
  return adapter;
}

/** Creates and starts a console (tests that drive one on its own). */
export async function startWebConsole(opts: WebConsoleOptions): Promise<WebConsole> {
  const web = await createWebConsole(opts);
  await web.start();
  return web;
}

const LOOPBACK_NAMES = new Set(['localhost', '127.0.0.1', '::1']);
const WILDCARDS = new Set(['0.0.0.0', '::', '']);

/** The Host header names this console: a loopback name, or the configured address (any, when bound to all). */
function hostAllowed(header: string | undefined, boundHost: string): boolean {
  if (WILDCARDS.has(boundHost)) return true;
  if (!header) return false;
  let hostname: string;
  try {
    hostname = new URL(`http://${header}`).hostname.replace(/^\[|\]$/g, '');
  } catch {
    return false;
  }
  return LOOPBACK_NAMES.has(hostname) || hostname === boundHost.replace(/^\[|\]$/g, '');
}

function pathOf(req: IncomingMessage): string {
  return (req.url ?? '/').split('?')[0] ?? '/';
}

function isTls(req: IncomingMessage): boolean {
  return req.headers['x-forwarded-proto'] === 'https';
}
