import { describe, expect, it } from 'vitest';
import { linkLocalFor, prefixToMask } from '../../../../src/nomad/sim/console.js';
import { gatewayOf, parseSubnet, staticLease } from '../../../../src/nomad/sim/dhcp.js';

const mac = (last: number, prefix = '52:54:84:ba:49') => `${prefix}:${last.toString(16).padStart(2, '0')}`;

describe('the simulated router', () => {
  it('gives 253 consecutive MACs 253 different host addresses in a /24, never .0, .1 or .255', () => {
    const subnet = parseSubnet('10.10.0.0/24');
    const leases = Array.from({ length: 253 }, (_, i) => staticLease(mac(i), subnet));
    expect(new Set(leases).size).toBe(253);
    expect(leases[0]).toBe('10.10.0.2');
    expect(leases[0x22]).toBe('10.10.0.36');
    expect(leases[252]).toBe('10.10.0.254');
    for (const lease of Array.from({ length: 256 }, (_, i) => staticLease(mac(i), subnet))) expect(lease).toMatch(/^10\.10\.0\.([2-9]|[1-9]\d|1\d\d|2[0-4]\d|25[0-4])$/);
  });

  it('gives a MAC the same address every time (a static lease)', () => {
    const subnet = parseSubnet('10.10.0.0/24');
    expect(staticLease('52:54:84:BA:49:22', subnet)).toBe(staticLease('52:54:84:ba:49:22', subnet));
  });

  it('uses more of the MAC in a larger subnet', () => {
    const subnet = parseSubnet('10.20.0.0/16');
    expect(staticLease(mac(0x22, '52:54:84:ba:4c'), subnet)).not.toBe(staticLease(mac(0x22, '52:54:84:ba:4d'), subnet));
    expect(gatewayOf(subnet)).toBe('10.20.0.1');
  });

  it('normalises the network address and refuses what is not an IPv4 CIDR from /8 to /30', () => {
    expect(parseSubnet('192.168.7.9/24')).toEqual({ network: parseSubnet('192.168.7.0/24').network, prefixLength: 24 });
    for (const bad of ['10.10.0.0', '10.10.0.0/31', '10.10.0.0/4', '300.1.1.1/24', 'fd00::/64']) expect(() => parseSubnet(bad)).toThrow(/not an IPv4 CIDR/);
  });
});

describe('console helpers', () => {
  it('derives the kernel\'s EUI-64 link-local address, compressed like iproute2 prints it', () => {
    expect(linkLocalFor('52:54:84:ba:49:22')).toBe('fe80::5054:84ff:feba:4922');
    expect(linkLocalFor('52:54:00:00:00:01')).toBe('fe80::5054:ff:fe00:1');
    expect(linkLocalFor('02:00:00:00:00:01')).toBe('fe80::ff:fe00:1');
  });

  it('turns prefix lengths into netmasks', () => {
    expect(prefixToMask(24)).toBe('255.255.255.0');
    expect(prefixToMask(16)).toBe('255.255.0.0');
    expect(prefixToMask(30)).toBe('255.255.255.252');
  });
});
