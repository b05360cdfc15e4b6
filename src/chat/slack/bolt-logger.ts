// Bolt and its Socket Mode client log through this adapter into our pino logger, so their
// lines carry the same fields and redaction as ours. Bolt's debug output can contain
// payloads; it stays at debug level.
import { LogLevel, type Logger as BoltLogger } from '@slack/bolt';
import type { Logger } from '../../log.js';

export function boltLogger(logger: Logger): BoltLogger {
  let level: LogLevel = levelOf(logger.level);
  let name = 'bolt';
  const write = (method: 'debug' | 'info' | 'warn' | 'error') => (...msg: unknown[]) => logger[method]({ component: name }, scrubPayload(msg.map(String).join(' ')));
  return {
    debug: write('debug'),
    info: write('info'),
    warn: write('warn'),
    error: write('error'),
    setLevel: (l: LogLevel) => {
      level = l;
    },
    getLevel: () => level,
    setName: (n: string) => {
      name = n;
    },
  };
}

function levelOf(pinoLevel: string): LogLevel {
  if (pinoLevel === 'trace' || pinoLevel === 'debug') return LogLevel.DEBUG;
  if (pinoLevel === 'info') return LogLevel.INFO;
  if (pinoLevel === 'warn') return LogLevel.WARN;
  return LogLevel.ERROR;
}

/**
 * Envelopes Bolt logs at debug level carry `response_url` (anyone holding it may post into the
 * conversation for 30 minutes) and Slack's verification `token`: their values are cut out.
 */
const PAYLOAD_SECRET = /("(?:response_url|token)"\s*:\s*")[^"]*"/g;

export function scrubPayload(text: string): string {
  return text.replace(PAYLOAD_SECRET, '$1[Redacted]"');
}
