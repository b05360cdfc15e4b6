// vmbot's own NoCloud HTTP server. It answers exactly three URLs per published VM —
// /nocloud/<token>/{meta-data,user-data,vendor-data} — and 404 to everything else: no
// listings, no other files, nothing outside <dir>. Tokens never appear in logs.
import { readFile, stat } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import { join } from 'node:path';
import { closeHttp, createLimitedServer, listenHttp, type HttpLimits } from '../listen.js';
import type { Logger } from '../log.js';

export interface NoCloudServerOptions {
  dir: string;
  host: string;
  port: number;
  logger?: Logger;
  /** Timeouts and the connection cap (defaults: DEFAULT_HTTP_LIMITS, slow clients cut within 15 s). */
  limits?: HttpLimits;
}

export interface NoCloudServer {
  url: string;
  close(): Promise<void>;
}

// Matched against the raw path: %-encoded slashes or dots can never match.
const PATH_RE = /^\/nocloud\/([a-z0-9]{26,64})\/(meta-data|user-data|vendor-data)$/;

function reply(res: ServerResponse, status: number, body: string | Buffer, head: boolean, extra: Record<string, string> = {}): void {
  const data = typeof body === 'string' ? Buffer.from(body) : body;
  res.writeHead(status, {
    'Content-Type': 'text/plain; charset=utf-8',
    'Content-Length': String(data.length),
    'Cache-Control': 'no-store',
    'X-Content-Type-Options': 'nosniff',
    ...extra,
  });
  res.end(head ? undefined : data);
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

export async function startNoCloudServer(opts: NoCloudServerOptions): Promise<NoCloudServer> {
  const server = createLimitedServer((req, res) => {
    const head = req.method === 'HEAD';
    if (req.method !== 'GET' && !head) return reply(res, 405, 'method not allowed\n', false, { Allow: 'GET, HEAD' });
    const rawPath = (req.url ?? '').split('?')[0]!;
    const m = PATH_RE.exec(rawPath);
    if (!m) return reply(res, 404, 'not found\n', head);
    // Both groups are mandatory in PATH_RE, so a match always has them.
    const token = m[1]!;
    const name = m[2]!;
    const folder = join(opts.dir, token);
    readFile(join(folder, name))
      .then((data) => {
        opts.logger?.debug({ file: name, status: 200 }, 'nocloud file served');
        reply(res, 200, data, head);
      })
      .catch(async (err: NodeJS.ErrnoException) => {
        // vendor-data is optional for cloud-init: a published VM without one gets an empty file.
        if (err.code === 'ENOENT' && name === 'vendor-data' && (await isDirectory(folder))) return reply(res, 200, '', head);
        if (err.code !== 'ENOENT') opts.logger?.warn({ file: name, code: err.code }, 'nocloud file unreadable');
        reply(res, 404, 'not found\n', head);
      });
  }, opts.limits, { what: 'NoCloud server', logger: opts.logger });
  const url = await listenHttp(server, opts.port, opts.host, 'NoCloud server');
  opts.logger?.info({ url }, 'NoCloud server listening');
  let closing: Promise<void> | undefined;
  return {
    url,
    close: () => {
      closing ??= closeHttp(server);
      return closing;
    },
  };
}
