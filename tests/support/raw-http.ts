// Raw TCP clients for the HTTP limit tests: a socket that sends exactly the bytes given, and
// waits for the server to close it, with a deadline.
import { connect, type Socket } from 'node:net';

export interface RawClient {
  socket: Socket;
  /** Everything the server sent so far. */
  readonly received: string;
  /** Resolves with the time from connecting to the server closing the socket; rejects at the deadline. */
  closed(deadlineMs: number): Promise<number>;
  /** Resolves once `text` has arrived; rejects at the deadline or when the socket closes first. */
  receivedText(text: string, deadlineMs: number): Promise<string>;
  destroy(): void;
}

/** Connects to the server at `url` (http://host:port/) and resolves once the TCP connection is up. */
export function rawConnect(url: string): Promise<RawClient> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname.replace(/^\[|\]$/g, ''), port: Number(port) });
    const started = Date.now();
    let received = '';
    let closedAt: number | undefined;
    const waiters = new Set<() => void>();
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      received += chunk;
      for (const w of waiters) w();
    });
    // A reset (ECONNRESET) is a close too; the tests only care that the server let go.
    socket.on('error', () => undefined);
    socket.on('close', () => {
      closedAt = Date.now();
      for (const w of waiters) w();
    });
    function waitUntil<T>(ready: () => T | undefined, failNow: () => string | undefined, deadlineMs: number, what: string): Promise<T> {
      return new Promise((res, rej) => {
        const check = () => {
          const value = ready();
          if (value !== undefined) {
            finish();
            return res(value);
          }
          const failure = failNow();
          if (failure) {
            finish();
            rej(new Error(failure));
          }
        };
        const timer = setTimeout(() => {
          finish();
          rej(new Error(`${what} within ${deadlineMs} ms; received ${JSON.stringify(received.slice(0, 200))}`));
        }, deadlineMs);
        const finish = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    }
    socket.once('error', reject);
    socket.once('connect', () => {
      socket.off('error', reject);
      resolve({
        socket,
        get received() {
          return received;
        },
        closed: (deadlineMs) => waitUntil(() => (closedAt === undefined ? undefined : closedAt - started), () => undefined, deadlineMs, 'the server did not close the connection'),
        receivedText: (text, deadlineMs) =>
          waitUntil(
            () => (received.includes(text) ? received : undefined),
            () => (closedAt !== undefined ? `the connection closed before ${JSON.stringify(text)} arrived; received ${JSON.stringify(received.slice(0, 200))}` : undefined),
            deadlineMs,
            `${JSON.stringify(text)} did not arrive`,
          ),
        destroy: () => socket.destroy(),
      });
    });
  });
}
