import { readFileSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ConsoleScanner, parseCiInfoRow, type NicAddress } from '../../../src/domain/ciinfo.js';

const FIXTURES = new URL('../../fixtures/nomad/console/', import.meta.url);
const MAC = '52:54:84:ba:49:22';
const expected = JSON.parse(readFileSync(new URL('expected.json', FIXTURES), 'utf8')) as Record<string, { mac: string; ipv4: string | null; ipv6: string[] }>;
const logs = readdirSync(FIXTURES).filter((f) => f.endsWith('.log'));

function fixture(name: string): Buffer {
  return readFileSync(new URL(name, FIXTURES));
}

function want(name: string): NicAddress | null {
  const e = expected[name]!;
  return e.ipv4 === null ? null : { ipv4: e.ipv4, ipv6: e.ipv6 };
}

function scan(mac: string, ...chunks: (Buffer | string)[]): ConsoleScanner {
  const scanner = new ConsoleScanner(mac);
  for (const chunk of chunks) scanner.push(chunk);
  return scanner;
}

/** Deterministic pseudo-random numbers (mulberry32), so a failing split can be replayed. */
function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const table = (rows: string[], prefix = '[   11.9] cloud-init[512]: ') =>
  [
    '+++++++++++++++++++++++++++++++++++++++Net device info+++++++++++++++++++++++++++++++++++++++',
    '+--------+------+------------------------------+---------------+--------+-------------------+',
    '| Device |  Up  |           Address            |      Mask     | Scope  |     Hw-Address    |',
    '+--------+------+------------------------------+---------------+--------+-------------------+',
    ...rows,
    '+--------+------+------------------------------+---------------+--------+-------------------+',
  ]
    .map((line) => `${prefix}ci-info: ${line}\n`)
    .join('');

describe('parseCiInfoRow', () => {
  it('reads a device row behind a kernel and cloud-init prefix', () => {
    expect(parseCiInfoRow('[   11.920500] cloud-init[512]: ci-info: |  ens3  | True |          10.10.0.42          | 255.255.255.0 | global | 52:54:84:BA:49:22 |\r')).toEqual({
      device: 'ens3',
      up: true,
      address: '10.10.0.42',
      mask: '255.255.255.0',
      scope: 'global',
      hwAddress: '52:54:84:ba:49:22',
    });
  });

  it('reads a row with no prefix and ANSI colour codes', () => {
    expect(parseCiInfoRow('\x1b[0mci-info: |  ens3  | False |    .    |  .   |   .   | 52:54:84:ba:49:22 |\x1b[0m')).toMatchObject({ up: false, address: '.', scope: '.' });
  });

  it('rejects headers, borders, titles, route rows and other lines', () => {
    expect(parseCiInfoRow('ci-info: | Device |  Up  | Address | Mask | Scope | Hw-Address |')).toBeNull();
    expect(parseCiInfoRow('ci-info: +--------+------+---------+------+-------+------------+')).toBeNull();
    expect(parseCiInfoRow('ci-info: ++++++++++Net device info++++++++++')).toBeNull();
    expect(parseCiInfoRow('ci-info: |   0   |   0.0.0.0   | 10.10.0.1 |    0.0.0.0    |    ens3   |   UG  |')).toBeNull();
    expect(parseCiInfoRow('ci-info: |   2   |       ::/0       | fe80::1 |    ens3   |   UG  |')).toBeNull();
    expect(parseCiInfoRow('|  ens3  | True | 10.10.0.42 | 255.255.255.0 | global | 52:54:84:ba:49:22 |')).toBeNull();
    expect(parseCiInfoRow('testvm login: ')).toBeNull();
  });
});

describe('ConsoleScanner on the fixtures (printed by cloud-init 22.4.2 netinfo)', () => {
  it('has fixtures for every quirk', () => {
    expect(logs.length).toBeGreaterThanOrEqual(8);
    for (const log of logs) expect(expected[log], log).toBeDefined();
  });

  for (const log of logs) {
    it(`${log}: whole file`, () => {
      expect(scan(expected[log]!.mac, fixture(log)).address).toEqual(want(log));
    });

    it(`${log}: byte by byte gives the same result`, () => {
      const bytes = fixture(log);
      const scanner = new ConsoleScanner(expected[log]!.mac);
      for (let i = 0; i < bytes.length; i++) scanner.push(bytes.subarray(i, i + 1));
      expect(scanner.address).toEqual(want(log));
    });

    it(`${log}: random splits give the same result`, () => {
      const bytes = fixture(log);
      for (let seed = 1; seed <= 20; seed++) {
        const random = rng(seed);
        const scanner = new ConsoleScanner(expected[log]!.mac);
        let at = 0;
        while (at < bytes.length) {
          const size = 1 + Math.floor(random() * 300);
          scanner.push(bytes.subarray(at, at + size));
          at += size;
        }
        expect(scanner.address, `seed ${seed}`).toEqual(want(log));
      }
    });
  }

  it('takes the other NIC only when asked for its MAC', () => {
    expect(scan(expected['two-nics.log#other']!.mac, fixture('two-nics.log')).address).toEqual({ ipv4: '192.168.5.9', ipv6: ['2001:db8:99::9'] });
  });

  it('ignores a MAC that is not in the log', () => {
    expect(scan('52:54:84:ba:49:99', fixture('prefixed-crlf.log')).address).toBeNull();
  });

  it('matches the MAC case-insensitively', () => {
    expect(scan(MAC.toUpperCase(), fixture('prefixed-crlf.log')).address?.ipv4).toBe('10.10.0.42');
  });

  it('survives UTF-8 sequences split across buffers', () => {
    const bytes = fixture('ansi-utf8.log');
    const tick = bytes.indexOf(Buffer.from('✓'));
    expect(tick).toBeGreaterThan(0);
    const scanner = scan(MAC, bytes.subarray(0, tick + 1), bytes.subarray(tick + 1));
    expect(scanner.tail().some((line) => line.includes('Cloud-init target ✓'))).toBe(true);
  });
});

describe('ConsoleScanner rules', () => {
  const up = (address: string, mask: string, scope: string, mac = MAC, dev = 'ens3') =>
    `|  ${dev}  | True | ${address} | ${mask} | ${scope} | ${mac} |`;

  it('waits for the link: a table with the link down gives nothing', () => {
    const s = scan(MAC, table([`|  ens3  | False |    .    |  .   |   .   | ${MAC} |`]));
    expect(s.address).toBeNull();
  });

  it('does not take an IPv6 global as the IPv4, but keeps it', () => {
    const s = scan(MAC, table([up('2001:db8:10::42/64', '.', 'global')]));
    expect(s.address).toBeNull();
    s.push(table([up('10.10.0.9', '255.255.255.0', 'global'), up('2001:db8:10::42/64', '.', 'global'), up('2001:db8:10::43/64', '.', 'global'), up('fe80::1/64', '.', 'link')]));
    expect(s.address).toEqual({ ipv4: '10.10.0.9', ipv6: ['2001:db8:10::42', '2001:db8:10::43'] });
  });

  it('keeps IPv6 globals printed before the IPv4 in the same table, not those of an earlier table', () => {
    const s = scan(MAC, table([up('2001:db8:aa::1/64', '.', 'global')]));
    s.push(table([up('2001:db8:10::42/64', '.', 'global'), up('10.10.0.9', '255.255.255.0', 'global')]));
    expect(s.address).toEqual({ ipv4: '10.10.0.9', ipv6: ['2001:db8:10::42'] });
  });

  it('ignores non-global IPv4 scopes and other MACs', () => {
    const s = scan(MAC, table([up('169.254.3.4', '255.255.0.0', 'link'), up('10.99.0.1', '255.255.255.0', 'global', '52:54:84:ba:49:07', 'ens3')]));
    expect(s.address).toBeNull();
  });

  it('ignores device-shaped rows in a route table', () => {
    const route = ['++++Route IPv4 info++++', `| Route | Destination | Gateway | Genmask | Interface | Flags |`, `|   0   |   0.0.0.0   | 10.10.0.1 |    0.0.0.0    |    ens3   |   UG  |`]
      .map((l) => `ci-info: ${l}\n`)
      .join('');
    const s = scan(MAC, route, `ci-info: ${up('10.10.0.50', '255.255.255.0', 'global')}\n`);
    expect(s.address).toBeNull();
  });

  it('keeps reading a table when a kernel message interleaves', () => {
    const t = table([up('10.10.0.11', '255.255.255.0', 'global')]).split('\n');
    t.splice(4, 0, '[   12.0] random: crng init done');
    expect(scan(MAC, t.join('\n')).address?.ipv4).toBe('10.10.0.11');
  });

  it('needs a complete line: the row is taken once its newline arrives', () => {
    const text = table([up('10.10.0.12', '255.255.255.0', 'global')]);
    const rowEnd = text.indexOf(`${MAC} |`) + MAC.length + 2;
    const s = scan(MAC, text.slice(0, rowEnd));
    expect(s.address).toBeNull();
    s.push(text.slice(rowEnd));
    expect(s.address?.ipv4).toBe('10.10.0.12');
  });

  it('a fresh scanner per allocation sees the second boot alone', () => {
    const second = scan(MAC, table([up('10.10.0.13', '255.255.255.0', 'global')]));
    expect(second.address?.ipv4).toBe('10.10.0.13');
  });

  it('returns a copy of the address', () => {
    const s = scan(MAC, table([up('10.10.0.14', '255.255.255.0', 'global')]));
    s.address!.ipv6.push('x');
    expect(s.address!.ipv6).toEqual([]);
  });
});

describe('ConsoleScanner.tail', () => {
  it('keeps the last N complete lines without ANSI codes or CR', () => {
    const s = new ConsoleScanner(MAC, { tailLines: 3 });
    s.push('one\r\n\x1b[0;32mtwo\x1b[0m\r\nthree\r\nfour\r\nfive-incomplete');
    expect(s.tail()).toEqual(['two', 'three', 'four']);
  });

  it('defaults to 20 lines', () => {
    const s = scan(MAC, fixture('prefixed-crlf.log'));
    expect(s.tail()).toHaveLength(20);
    expect(s.tail().at(-1)).toBe('');
  });

  it('bounds memory when a line never ends', () => {
    const s = new ConsoleScanner(MAC);
    for (let i = 0; i < 100; i++) s.push('x'.repeat(10_000));
    s.push('\nok\n');
    expect(s.tail().at(-1)).toBe('ok');
    expect(s.tail()[0]!.length).toBeLessThanOrEqual(64 * 1024);
  });
});
