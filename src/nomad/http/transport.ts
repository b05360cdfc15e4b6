// One HTTP exchange with Nomad, and the retry policy around it: per-request timeout,
// exponential backoff with jitter on 5xx, timeouts and connection errors, never on 4xx.
// The ACL token goes in X-Nomad-Token and is never logged.
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { Logger } from '../../log.js';
import { NomadError } from '../port.js';

export interface TransportOptions {
  address: string;
  token?: string;
  /** PEM text or a path to a PEM file. */
  caCert?: string;
  clientCert?: string;
  clientKey?: string;
  timeoutMs?: number;
  /** Nomad namespace and region every request names (`namespace=` / `region=`); Nomad's defaults when left out. */
  namespace?: string | undefined;
  region?: string | undefined;
  /** Extra attempts after the first (default 3). */
  retries?: number;
  /** First backoff delay; doubles each attempt, with jitter (default 250). */
  backoffMs?: number;
  logger?: Logger;
}

export interface Reply {
  status: number;
  body: Buffer;
}

export interface RequestSpec {
  method: 'GET' | 'POST' | 'DELETE';
  path: string;
  query?: Record<string, string>;
  json?: unknown;
  /**
   * Sent at most once: a call Nomad may have carried out although no answer came back
   * (an allocation restart) is not repeated, or a timeout would reboot the VM twice.
   */
  once?: boolean;
}

/** Error codes of a transport failure: nothing reached Nomad (or nothing came back). */
const UNREACHABLE = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE', 'ETIMEDOUT', 'ECONNABORTED']);
const MAX_BACKOFF_MS = 5_000;

function pem(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  return value.includes('-----BEGIN') ? value : readFileSync(value, 'utf8');
}

class TimeoutError extends Error {}

export class NomadTransport {
  private readonly base: URL;
  private readonly agent: http.Agent;
  private readonly timeoutMs: number;
  private readonly retries: number;
  private readonly backoffMs: number;

  constructor(private readonly opts: TransportOptions) {
    this.base = new URL(opts.address);
    if (this.base.protocol !== 'http:' && this.base.protocol !== 'https:') throw new Error(`nomad.http.address ${JSON.stringify(opts.address)} must be an http(s) URL`);
    this.agent =
      this.base.protocol === 'https:'
        ? new https.Agent({ keepAlive: true, ca: pem(opts.caCert), cert: pem(opts.clientCert), key: pem(opts.clientKey) })
        : new http.Agent({ keepAlive: true });
    this.timeoutMs = opts.timeoutMs ?? 30_000;
    this.retries = opts.retries ?? 3;
    this.backoffMs = opts.backoffMs ?? 250;
  }

  /**
   * Sends with retries; resolves with any 2xx-4xx reply, throws NomadError otherwise.
   * Every call vmbot makes may be repeated safely (reads, purges, registering the same
   * job spec again: Nomad then makes no new version and no new allocation), except the
   * ones marked `once`, which are sent a single time.
   */
  async request(spec: RequestSpec): Promise<Reply> {
    let lastError: NomadError | undefined;
    const retries = spec.once ? 0 : this.retries;
    for (let attempt = 0; attempt <= retries; attempt++) {
      if (attempt > 0) await this.backoff(attempt);
      const started = Date.now();
      try {
        const reply = await this.once(spec);
        this.opts.logger?.debug({ method: spec.method, path: spec.path, status: reply.status, ms: Date.now() - started, attempt }, 'nomad http');
        if (reply.status < 500) return reply;
        lastError = new NomadError('server_error', `Nomad answered ${reply.status}: ${reply.body.toString('utf8').trim().slice(0, 500)}`, reply.status);
      } catch (err) {
        lastError = this.transportError(err);
        this.opts.logger?.debug({ method: spec.method, path: spec.path, code: lastError.code, attempt }, 'nomad http failed');
      }
    }
    throw lastError!;
  }

  close(): void {
    this.agent.destroy();
  }

  private async backoff(attempt: number): Promise<void> {
    const ceiling = Math.min(MAX_BACKOFF_MS, this.backoffMs * 2 ** (attempt - 1));
    // "Equal jitter": half fixed, half random, so concurrent clients spread out.
    const delay = ceiling / 2 + Math.random() * (ceiling / 2);
    await new Promise((resolve) => setTimeout(resolve, delay));
  }

  private transportError(err: unknown): NomadError {
    if (err instanceof TimeoutError) return new NomadError('timeout', `Nomad at ${this.base.origin} did not answer within ${this.timeoutMs} ms`, undefined, { cause: err });
    const code = (err as NodeJS.ErrnoException).code ?? '';
    const what = UNREACHABLE.has(code) || code.startsWith('ERR_TLS') || code.includes('CERT') ? code : code || (err as Error).message;
    return new NomadError('unreachable', `cannot reach Nomad at ${this.base.origin} (${what}): check nomad.http.address and that Nomad is running`, undefined, { cause: err });
  }

  private once(spec: RequestSpec): Promise<Reply> {
    // Keep a path prefix of the address (Nomad behind a reverse proxy at /nomad).
    const url = new URL(this.base.pathname.replace(/\/+$/, '') + spec.path, this.base);
    if (this.opts.namespace) url.searchParams.set('namespace', this.opts.namespace);
    if (this.opts.region) url.searchParams.set('region', this.opts.region);
    for (const [k, v] of Object.entries(spec.query ?? {})) url.searchParams.set(k, v);
    const body = spec.json === undefined ? undefined : Buffer.from(JSON.stringify(spec.json));
    const headers: Record<string, string> = { Accept: 'application/json' };
    if (this.opts.token) headers['X-Nomad-Token'] = this.opts.token;
    if (body) Object.assign(headers, { 'Content-Type': 'application/json', 'Content-Length': String(body.length) });
    const lib = url.protocol === 'https:' ? https : http;
    return new Promise<Reply>((resolve, reject) => {
      const req = lib.request(url, { method: spec.method, headers, agent: this.agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          clearTimeout(timer);
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) });
        });
        res.on('error', (err) => {
          clearTimeout(timer);
          reject(err);
        });
      });
      // One deadline for the whole exchange (connect, headers and body). Rejecting before
      // destroying makes the timeout win over the socket error the destroy causes.
      const timer = setTimeout(() => {
        reject(new TimeoutError('timeout'));
        req.destroy();
      }, this.timeoutMs);
      req.on('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      req.end(body);
    });
  }
}
