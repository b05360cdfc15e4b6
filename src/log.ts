// Structured JSON logs (pino); pretty on a terminal. Secret values are redacted by key.
import { pino, type Logger } from 'pino';

export type { Logger };

const REDACT = [
  'token', 'botToken', 'appToken', 'signingSecret', 'password', 'privateKey', 'secret', '*.token', '*.secret',
  'headers.authorization', 'headers.Authorization', 'headers.cookie', 'headers["x-nomad-token"]', 'headers["X-Nomad-Token"]',
  '*.headers.authorization', '*.headers.Authorization', '*.headers.cookie', '*.headers["x-nomad-token"]',
  // HTTP clients (axios in @slack/web-api, undici) attach the request they sent to their errors,
  // Authorization header and body included: logging `{ err }` must not print a token.
  'err.config.headers', 'err.config.data', 'err.request.headers', 'err.response.config', 'err.response.request',
];

/**
 * Discord puts a credential in the path of some REST routes: the interaction token in
 * /interactions/{id}/{token}/callback and /webhooks/{application}/{token}/... (follow-ups,
 * edits of an ephemeral answer). Its errors carry that URL, so a logged error is scrubbed.
 */
const TOKEN_IN_PATH = /(\/(?:interactions|webhooks)\/[^/?#\s"]+\/)[^/?#\s"]+/g;

export function scrubUrlTokens(text: string): string {
  return text.replace(TOKEN_IN_PATH, '$1[Redacted]');
}

function scrubDeep(value: unknown, depth: number): unknown {
  if (typeof value === 'string') return scrubUrlTokens(value);
  if (depth > 4 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => scrubDeep(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = scrubDeep(v, depth + 1);
  return out;
}

/** pino's error serializer, then every string in the result scrubbed of tokens in URL paths. */
const serializers = { err: (err: Error): unknown => scrubDeep(pino.stdSerializers.err(err), 0) };

export function createLogger(opts: { level?: string; pretty?: boolean; destination?: NodeJS.WritableStream } = {}): Logger {
  const level = opts.level ?? process.env.VMBOT_LOG_LEVEL ?? 'info';
  const pretty = opts.pretty ?? (process.stdout.isTTY && !opts.destination);
  if (pretty) {
    return pino({ level, redact: REDACT, serializers, transport: { target: 'pino-pretty', options: { colorize: true, translateTime: 'SYS:HH:MM:ss', ignore: 'pid,hostname' } } });
  }
  return opts.destination ? pino({ level, redact: REDACT, serializers }, opts.destination as pino.DestinationStream) : pino({ level, redact: REDACT, serializers });
}

/** A logger that drops everything (tests). */
export const silentLogger: Logger = pino({ level: 'silent' });
