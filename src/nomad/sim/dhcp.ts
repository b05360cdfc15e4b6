// The simulated router's DHCP: by default a static lease per MAC (host index from the
// MAC's low bits), so a MAC used again later gets its old address back.

export interface Subnet {
  network: number;
  prefixLength: number;
}

export function parseSubnet(cidr: string): Subnet {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(cidr.trim());
  const octets = m ? m.slice(1, 5).map(Number) : [];
  const prefixLength = m ? Number(m[5]) : NaN;
  if (!m || octets.some((o) => o > 255) || prefixLength < 8 || prefixLength > 30) {
    throw new Error(`subnet ${JSON.stringify(cidr)} is not an IPv4 CIDR between /8 and /30 (e.g. 10.10.0.0/24)`);
  }
  const address = octets.reduce((acc, o) => acc * 256 + o, 0);
  const size = 2 ** (32 - prefixLength);
  return { network: address - (address % size), prefixLength };
}

function toDotted(n: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(n / 2 ** shift) % 256).join('.');
}

/** The gateway: the subnet's first host. */
export function gatewayOf(subnet: Subnet): string {
  return toDotted(subnet.network + 1);
}

/**
 * The static lease for a MAC: host index 2 + the MAC's low bits, modulo the usable hosts
 * (all but network, gateway .1 and broadcast). In a /24, :00 → .2, :22 → .36, :fc → .254:
 * 253 consecutive MACs get 253 different addresses, as a router's static leases would.
 */
export function staticLease(mac: string, subnet: Subnet): string {
  const size = 2 ** (32 - subnet.prefixLength);
  const usable = size - 3;
  // The MAC's low (32 - prefix) bits: its last byte in a /24.
  const low = parseInt(mac.replaceAll(':', '').slice(-8), 16) % size;
  return toDotted(subnet.network + 2 + (low % usable));
}
