// Reads a server-sent event stream in tests: waits for the first event that matches, with
// a deadline, instead of sleeping.
import { request } from 'node:http';

export interface SseEvent {
  event: string;
  data: unknown;
}

export interface SseReader {
  /** Every event received so far, in order. */
  readonly events: SseEvent[];
  next(match: (e: SseEvent) => boolean, timeoutMs?: number): Promise<SseEvent>;
  close(): void;
}

export function openSse(url: string, headers: Record<string, string> = {}): Promise<SseReader> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers: { Accept: 'text/event-stream', ...headers } }, (res) => {
      if (res.statusCode !== 200) return reject(new Error(`SSE answered ${res.statusCode}`));
      res.setEncoding('utf8');
      const events: SseEvent[] = [];
      const waiters = new Set<() => void>();
      let buffer = '';
      res.on('data', (chunk: string) => {
        buffer += chunk;
        let i: number;
        while ((i = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, i);
          buffer = buffer.slice(i + 2);
          let event = 'message';
          let data = '';
          for (const line of block.split('\n')) {
            if (line.startsWith('event: ')) event = line.slice(7);
            else if (line.startsWith('data: ')) data += line.slice(6);
          }
          if (data) events.push({ event, data: JSON.parse(data) as unknown });
        }
        for (const w of waiters) w();
      });
      resolve({
        events,
        next(match, timeoutMs = 5000) {
          return new Promise((res2, rej2) => {
            const check = () => {
              const found = events.find(match);
              if (found) {
                waiters.delete(check);
                clearTimeout(timer);
                res2(found);
              }
            };
            const timer = setTimeout(() => {
              waiters.delete(check);
              rej2(new Error(`no matching event within ${timeoutMs} ms; got ${JSON.stringify(events.map((e) => e.event))}`));
            }, timeoutMs);
            waiters.add(check);
            check();
          });
        },
        close: () => req.destroy(),
      });
    });
    req.on('error', reject);
    req.end();
  });
}
