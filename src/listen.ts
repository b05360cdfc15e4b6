// Starting and stopping the small HTTP servers vmbot runs for others to call: the NoCloud
// server and the simulated Nomad cluster. Both must free their port at once on close, even
// with keep-alive or long-poll connections still open.
import type { Server } from 'node:http';

/** Listens on host:port (port 0: any free one) and returns the base URL, `http://host:port`. */
export async function listenHttp(server: Server, port: number, host: string, what: string): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error(`${what}: no TCP address`);
  const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return `http://${shownHost}:${address.port}`;
}

/** Stops accepting and ends every open connection, idle or busy; resolves once the server is closed. */
export function closeHttp(server: Server): Promise<void> {
  return new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
