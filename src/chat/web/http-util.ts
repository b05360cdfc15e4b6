// Small helpers for node:http responses and JSON bodies: the console has a handful of
// routes, which does not warrant a framework.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Problem } from '../../domain/problem.js';

/** Forms carry a few SSH keys and a reason: 64 KiB is plenty and bounds memory per request. */
export const MAX_BODY_BYTES = 64 * 1024;

const SECURITY_HEADERS = {
  // The page loads only its own script and style, never inline code, and cannot be framed.
  'Content-Security-Policy': "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
} as const;

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly code = 'http_error',
  ) {
    super(message);
  }
}

export function send(res: ServerResponse, status: number, body: string | Buffer, type: string, extra: Record<string, string> = {}): void {
  res.writeHead(status, { ...SECURITY_HEADERS, 'Content-Type': type, 'Content-Length': Buffer.byteLength(body), 'Cache-Control': 'no-store', ...extra });
  res.end(body);
}

export function sendJson(res: ServerResponse, status: number, value: unknown): void {
  send(res, status, JSON.stringify(value), 'application/json; charset=utf-8');
}

/** Errors the page shows: a code, a sentence saying what to do, and the field when there is one. */
export type WireProblem = { code: string; message: string; field?: string };

export function sendProblems(res: ServerResponse, status: number, problems: readonly WireProblem[]): void {
  sendJson(res, status, { ok: false, problems });
}

export function sendError(res: ServerResponse, err: HttpError): void {
  sendProblems(res, err.status, [{ code: err.code, message: err.message }]);
}

export async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new HttpError(413, `the request body is larger than ${MAX_BODY_BYTES / 1024} KiB: send fewer or shorter keys`, 'body_too_large');
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') return {};
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new HttpError(400, 'the request body is not valid JSON', 'invalid_json');
  }
}

/** The HTTP status that fits a workflow problem list (the first problem decides). */
export function statusForProblems(problems: readonly Problem[]): number {
  switch (problems[0]?.code) {
    case 'forbidden':
    case 'self_approval':
      return 403;
    case 'not_found':
      return 404;
    case 'name_taken':
    case 'wrong_state':
      return 409;
    case 'internal':
    case 'nomad_unreachable':
    case 'nomad_error':
      return 502;
    default:
      return 422;
  }
}
