// Reachability probes for the tests that check what a server is bound to.
import { connect } from 'node:net';
import { networkInterfaces } from 'node:os';

/** Does anything accept a TCP connection at host:port? */
export function accepts(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
    // A firewall that drops instead of refusing: nothing accepted within the deadline.
    socket.setTimeout(3_000, () => {
      socket.destroy();
      resolve(false);
    });
  });
}

/** This machine's first non-loopback IPv4 address, if it has one. */
export function lanAddress(): string | undefined {
  return Object.values(networkInterfaces()).flat().find((a) => a && a.family === 'IPv4' && !a.internal)?.address;
}
