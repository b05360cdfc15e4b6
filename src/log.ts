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

export function createLogger(opts: { level?: string; pretty?: boolean; destination?: NodeJS.WritableStream } = {}): Logger {
  const level = opts.level ?? process.env.VMBOT_LOG_LEVEL ?? 'info';
  const pretty = opts.pretty ?? (process.stdout.isTTY && !opts.destination);
  if (pretty) {
    return pino({ level, redact: REDACT, transport: { target: 'pino-pretty', options: { colorize: true, translateTime: 'SYS:HH:MM:ss', ignore: 'pid,hostname' } } });
  }
  return opts.destination ? pino({ level, redact: REDACT }, opts.destination as pino.DestinationStream) : pino({ level, redact: REDACT });
}

/** A logger that drops everything (tests). */
export const silentLogger: Logger = pino({ level: 'silent' });
