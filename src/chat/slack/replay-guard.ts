// What Bolt's HTTP receiver does not check about a signed request (read in
// node_modules/@slack/bolt/dist/receivers/verify-request.js: it refuses a timestamp more than
// 5 minutes in the PAST and a bad HMAC, nothing else):
// - a timestamp more than 5 minutes in the future (a signature made for later use);
// - the same X-Slack-Signature seen again inside the 5-minute window (a captured request
//   posted again).
// Both are answered 401 before Bolt sees the request. The signature is remembered only once
// it is valid, so a forger cannot fill the cache or block a genuine request by sending its
// signature first. A re-delivery by Slack (X-Slack-Retry-Num ≥ 1) is not checked against the
// cache: Bolt acks it and the handlers drop it (handlers.ts), so letting it through changes
// nothing, while refusing it would make Slack retry again.
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { HTTPModuleFunctions, isRawBodyError, isValidSlackRequest } from '@slack/bolt';

/** Slack's (and Bolt's) tolerance for the request timestamp, either way. */
export const SIGNATURE_WINDOW_SECONDS = 5 * 60;

/** Signatures seen within the window, each kept until its timestamp leaves the window; at most `max` of them. */
export class ReplayCache {
  private readonly seen = new Map<string, number>();
  private readonly max: number;
  private readonly now: () => number;

  constructor(opts: { max?: number; now?: () => number } = {}) {
    this.max = opts.max ?? 10_000;
    this.now = opts.now ?? Date.now;
  }

  get size(): number {
    return this.seen.size;
  }

  /**
   * Records `signature` (of a request stamped `timestampSec`). 'replay' if it was seen and has
   * not expired; 'full' if `max` unexpired signatures are held (the request is refused rather
   * than forgetting one that could then be replayed); 'fresh' otherwise.
   */
  check(signature: string, timestampSec: number): 'fresh' | 'replay' | 'full' {
    const now = this.now();
    const expiry = this.seen.get(signature);
    if (expiry !== undefined && expiry > now) return 'replay';
    if (expiry !== undefined) this.seen.delete(signature);
    if (this.seen.size >= this.max) this.sweep(now);
    if (this.seen.size >= this.max) return 'full';
    this.seen.set(signature, (timestampSec + SIGNATURE_WINDOW_SECONDS) * 1000 + 1000);
    return 'fresh';
  }

  private sweep(now: number): void {
    for (const [signature, expiry] of this.seen) if (expiry <= now) this.seen.delete(signature);
  }
}

export interface GuardOptions {
  signingSecret: string;
  endpoints: readonly string[];
  cache: ReplayCache;
  now?: () => number;
  /** Bolt's body limit; the body is read once here and Bolt reuses it. */
  bodyLimit?: number;
  onRefused?: (reason: 'future' | 'replay' | 'full', req: IncomingMessage) => void;
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return typeof value === 'string' ? value : undefined;
}

function refuse(res: ServerResponse, status: number): void {
  res.writeHead(status);
  res.end();
}

/** Wraps Bolt's request listener with the future-timestamp and replay checks. */
export function guardRequests(inner: RequestListener, opts: GuardOptions): RequestListener {
  const now = opts.now ?? Date.now;
  return (req, res) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (req.method?.toUpperCase() !== 'POST' || !opts.endpoints.includes(path)) {
      inner(req, res);
      return;
    }
    void (async () => {
      // Bolt's bufferIncomingMessage keeps the body on the request, and Bolt's own call reuses it.
      let raw: Buffer;
      try {
        raw = (await HTTPModuleFunctions.bufferIncomingMessage(req, opts.bodyLimit ?? HTTPModuleFunctions.defaultBodyLimit)).rawBody;
      } catch (err) {
        // As Bolt answers the same failure: 413 past the body limit, 401 for a body it could not read.
        refuse(res, isRawBodyError(err) && (err.type === 'entity.too.large' || err.statusCode === 413) ? 413 : 401);
        return;
      }
      const timestamp = Number(header(req, 'x-slack-request-timestamp'));
      if (Number.isFinite(timestamp) && timestamp > Math.floor(now() / 1000) + SIGNATURE_WINDOW_SECONDS) {
        opts.onRefused?.('future', req);
        refuse(res, 401);
        return;
      }
      const signature = header(req, 'x-slack-signature');
      const retryNum = Number(header(req, 'x-slack-retry-num') ?? 0);
      const valid =
        signature !== undefined &&
        isValidSlackRequest({ signingSecret: opts.signingSecret, body: raw.toString(), headers: { 'x-slack-signature': signature, 'x-slack-request-timestamp': timestamp }, nowMilliseconds: now() });
      // An invalid or stale request goes on to Bolt, which refuses it with 401 as before.
      if (valid && !(retryNum > 0)) {
        const seen = opts.cache.check(signature, timestamp);
        if (seen !== 'fresh') {
          opts.onRefused?.(seen, req);
          refuse(res, seen === 'replay' ? 401 : 503);
          return;
        }
      }
      inner(req, res);
    })().catch(() => {
      // Only Bolt's own listener can throw here; it answers its own errors, so this is a last resort.
      if (!res.headersSent) refuse(res, 500);
    });
  };
}
