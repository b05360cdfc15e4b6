// Field schemas shared by the configuration schema (schema.ts) and the config sections chat
// platforms declare (src/chat/<platform>/config.ts). Apart from schema.ts so a platform's
// section can use them without importing schema.ts, which imports the platform list.
import { z } from 'zod';

/** "host:port" → { host, port }. */
export const listenSchema = z.string().transform((value, ctx) => {
  const i = value.lastIndexOf(':');
  const port = Number(value.slice(i + 1));
  const host = value.slice(0, i).replace(/^\[|\]$/g, '');
  if (i <= 0 || !Number.isInteger(port) || port < 0 || port > 65535) {
    ctx.addIssue({ code: 'custom', message: `${JSON.stringify(value)} is not host:port (e.g. 127.0.0.1:8080)` });
    return z.NEVER;
  }
  return { host, port };
});

export const urlSchema = z.url({ protocol: /^https?$/, error: (iss) => `${JSON.stringify(iss.input)} is not an http(s) URL` });
