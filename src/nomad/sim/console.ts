// The serial console a simulated VM prints: SeaBIOS, the kernel, cloud-init's
// "init-local" table (link down) and "init" table (the VM's own MAC with its DHCP
// address, an IPv6 global and link row, lo), the route tables, then a login prompt.
// The tables are laid out exactly like cloud-init 22.4.2's SimpleTable (centred cells,
// Python's str.center rounding), which tests/unit check against fixtures printed by
// Debian's real formatter. The final stage prints the SSH host keys the way cloud-init
// 22.4's write-ssh-key-fingerprints does (fingerprints through `logger -s`, so with a
// syslog prefix; the keys block plain), written to /dev/console without journald's prefix.
import type { SimHostKey } from './hostkeys.js';

export interface ConsoleSpec {
  mac: string;
  /** The IPv4 the guest got by DHCP; undefined: no lease (the table shows only IPv6). */
  ipv4?: string;
  /** Prefix length of the subnet, for the mask column and route table. */
  prefixLength: number;
  gateway?: string;
  hostname: string;
  /** false: boot without the `init` table (a guest that never reports its address). */
  printAddress: boolean;
  ifname?: string;
  /**
   * The first boot of this disk (default true): cloud-init's per-instance modules run, so
   * the final stage prints the SSH host keys. A reboot of the same disk prints no keys.
   */
  firstBoot?: boolean;
  /** The keys sshd got on this disk (printed on the first boot only). */
  hostKeys?: SimHostKey[];
  /** The NoCloud seed URL of the `-smbios` serial, which the datasource line repeats. */
  seedUrl?: string;
}

/** Python's str.center(width): the odd space goes left when both margin and width are odd. */
function pyCenter(text: string, width: number, fill = ' '): string {
  const margin = width - text.length;
  if (margin <= 0) return text;
  const left = Math.floor(margin / 2) + (margin & width & 1);
  return fill.repeat(left) + text + fill.repeat(margin - left);
}

/** Python's '{0:+^N}'.format(text): the odd fill goes right. */
function formatCenter(text: string, width: number, fill: string): string {
  const margin = width - text.length;
  if (margin <= 0) return text;
  const left = Math.floor(margin / 2);
  return fill.repeat(left) + text + fill.repeat(margin - left);
}

/** cloud-init's SimpleTable.get_string(). */
function simpleTable(fields: string[], rows: string[][]): string[] {
  const widths = fields.map((f, i) => Math.max(f.length, ...rows.map((r) => (r[i] ?? '').length)));
  const hdiv = '+' + widths.map((w) => '-'.repeat(w + 2)).join('+') + '+';
  const row = (cells: string[]) => '|' + cells.map((c, i) => pyCenter(c, widths[i]! + 2)).join('|') + '|';
  return [hdiv, row(fields), hdiv, ...rows.map(row), hdiv];
}

function titled(title: string, table: string[]): string[] {
  const width = Math.max(...table.map((l) => l.length));
  return [formatCenter(title, width, '+'), ...table];
}

interface Device {
  name: string;
  up: boolean;
  hwaddr: string;
  ipv4: { ip: string; mask: string; scope: string }[];
  ipv6: { ip: string; scope: string }[];
}

/** netinfo.netdev_pformat(): rows per device sorted by name, IPv4 rows before IPv6. */
function netdevLines(devices: Device[]): string[] {
  const rows: string[][] = [];
  for (const d of [...devices].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const up = d.up ? 'True' : 'False';
    for (const a of d.ipv4) rows.push([d.name, up, a.ip, a.mask, a.scope, d.hwaddr]);
    for (const a of d.ipv6) rows.push([d.name, up, a.ip, '.', a.scope, d.hwaddr]);
    if (d.ipv4.length + d.ipv6.length === 0) rows.push([d.name, up, '.', '.', '.', d.hwaddr]);
  }
  return titled('Net device info', simpleTable(['Device', 'Up', 'Address', 'Mask', 'Scope', 'Hw-Address'], rows));
}

/** netinfo.route_pformat(); an empty route list prints one empty line, as cloud-init does. */
function routeLines(ipv4: string[][], ipv6: string[][]): string[] {
  const lines: string[] = [];
  if (ipv4.length) lines.push(...titled('Route IPv4 info', simpleTable(['Route', 'Destination', 'Gateway', 'Genmask', 'Interface', 'Flags'], ipv4.map((r, i) => [String(i), ...r]))));
  if (ipv6.length) lines.push(...titled('Route IPv6 info', simpleTable(['Route', 'Destination', 'Gateway', 'Interface', 'Flags'], ipv6.map((r, i) => [String(i), ...r]))));
  return lines.length ? lines : [''];
}

export function prefixToMask(prefixLength: number): string {
  const bits = prefixLength === 0 ? 0 : (0xffffffff << (32 - prefixLength)) >>> 0;
  return [24, 16, 8, 0].map((shift) => (bits >>> shift) & 0xff).join('.');
}

function compressIpv6(groups: number[]): string {
  const hex = groups.map((g) => g.toString(16));
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < groups.length; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < groups.length && groups[j] === 0) j++;
    if (j - i > bestLen) [bestStart, bestLen] = [i, j - i];
    i = j;
  }
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

/** The EUI-64 link-local address the kernel derives from a MAC. */
export function linkLocalFor(mac: string): string {
  const b = mac.split(':').map((x) => parseInt(x, 16));
  const groups = [0xfe80, 0, 0, 0, ((b[0]! ^ 0x02) << 8) | b[1]!, (b[2]! << 8) | 0xff, 0xfe00 | b[3]!, (b[4]! << 8) | b[5]!];
  return compressIpv6(groups);
}

/** The guest's IPv6 global: 2001:db8:10::<last IPv4 octet>, like the reference console. */
export function ipv6GlobalFor(ipv4: string | undefined, mac: string): string {
  const tail = ipv4 ? ipv4.split('.').at(-1)! : String(parseInt(mac.split(':').at(-1)!, 16));
  return `2001:db8:10::${tail}`;
}

function ciInfo(lines: string[]): string[] {
  return lines.map((l) => `ci-info: ${l}`);
}

/** cloud-init's `ci-info:` lines for the init-local stage (link still down). */
export function initLocalTable(spec: ConsoleSpec): string[] {
  const ifname = spec.ifname ?? 'ens3';
  return ciInfo([...netdevLines([{ name: ifname, up: false, hwaddr: spec.mac, ipv4: [], ipv6: [] }]), ...routeLines([], [])]);
}

/** cloud-init's `ci-info:` lines for the init stage (link up, addresses, routes). */
export function initTable(spec: ConsoleSpec): string[] {
  const ifname = spec.ifname ?? 'ens3';
  const v6 = ipv6GlobalFor(spec.ipv4, spec.mac);
  const nic: Device = {
    name: ifname,
    up: true,
    hwaddr: spec.mac,
    ipv4: spec.ipv4 ? [{ ip: spec.ipv4, mask: prefixToMask(spec.prefixLength), scope: 'global' }] : [],
    ipv6: [
      { ip: `${v6}/64`, scope: 'global' },
      { ip: `${linkLocalFor(spec.mac)}/64`, scope: 'link' },
    ],
  };
  const lo: Device = { name: 'lo', up: true, hwaddr: '.', ipv4: [{ ip: '127.0.0.1', mask: '255.0.0.0', scope: 'host' }], ipv6: [{ ip: '::1/128', scope: 'host' }] };
  const v4Routes: string[][] = [];
  if (spec.ipv4) {
    const mask = prefixToMask(spec.prefixLength);
    const network = spec.ipv4
      .split('.')
      .map((o, i) => Number(o) & Number(mask.split('.')[i]))
      .join('.');
    if (spec.gateway) v4Routes.push(['0.0.0.0', spec.gateway, '0.0.0.0', ifname, 'UG']);
    v4Routes.push([network, '0.0.0.0', mask, ifname, 'U']);
  }
  const v6Prefix = v6.replace(/::[0-9a-f]+$/, '::/64');
  const v6Routes = [
    [v6Prefix, '::', ifname, 'U'],
    ['fe80::/64', '::', ifname, 'U'],
    ['::/0', 'fe80::1', ifname, 'UG'],
  ];
  return ciInfo([...netdevLines([nic, lo]), ...routeLines(v4Routes, v6Routes)]);
}

const ESC = '\x1b';
const OK = `[${ESC}[0;32m  OK  ${ESC}[0m]`;

function stamp(seconds: number): string {
  return `[${seconds.toFixed(6).padStart(12)}] `;
}

function cloudInitStage(stage: string, table: string[], at: number): string[] {
  const lines = [`Cloud-init v. 22.4.2 running '${stage}' at Wed, 25 Nov 2026 14:30:01 +0000. Up ${at.toFixed(2)} seconds.`, ...table];
  return lines.map((line, i) => `${stamp(at + (i + 1) * 0.0017)}cloud-init[512]: ${line}`);
}

/** What the guest prints before cloud-init runs (written as soon as the task starts). */
export function firmwareText(): string {
  return ['SeaBIOS (version 1.16.2-debian-1.16.2-1)', 'Booting from Hard Disk...', ''].join('\r\n');
}

/** The rest of the boot, CRLF line ends like a serial console; the login prompt has no newline. */
export function bootText(spec: ConsoleSpec): string {
  const { untilFinal, fromKeys } = bootParts(spec);
  return untilFinal + fromKeys;
}

/**
 * The boot in two parts, cut where cloud-init's `modules:final` stage has started and its
 * modules (package installs, runcmd, then keys_to_console) are running: `untilFinal` ends
 * with that stage's start line (and its CRLF), `fromKeys` is the rest (the host keys on a
 * first boot, the "finished" line, the login prompt). Together they are bootText(spec).
 */
export function bootParts(spec: ConsoleSpec): { untilFinal: string; fromKeys: string } {
  const lines = [
    `${stamp(0)}Linux version 6.1.0-27-cloud-amd64 (debian-kernel@lists.debian.org)`,
    `${OK} Started systemd-networkd.service – Network Configuration.`,
    ...cloudInitStage('init-local', initLocalTable(spec), 3.1),
  ];
  if (spec.printAddress) lines.push(...cloudInitStage('init', initTable(spec), 11.9));
  else lines.push(`${stamp(11.9)}cloud-init[512]: Cloud-init v. 22.4.2 running 'init' at Wed, 25 Nov 2026 14:30:09 +0000. Up 11.90 seconds.`);
  lines.push(`${OK} Finished cloud-init.service - Initial cloud-init job (metadata service crawler).`);
  const { start, rest } = finalStage(spec);
  lines.push(...start);
  rest.push(`Debian GNU/Linux 12 ${spec.hostname} ttyS0`, '', `${spec.hostname} login: `);
  return { untilFinal: lines.join('\r\n') + '\r\n', fromKeys: rest.join('\r\n') };
}

const SYSLOG_PREFIX = '<14>Nov 25 14:30:13 cloud-init: ';
const HASHES = '#'.repeat(61);

/**
 * What write-ssh-key-fingerprints prints: `ssh-keygen -l` of every host key between
 * BEGIN/END lines and rows of hashes, through `logger -s` (each line syslog-prefixed),
 * then the public keys themselves between BEGIN/END SSH HOST KEY KEYS lines.
 */
export function hostKeyLines(keys: readonly SimHostKey[], hostname: string): string[] {
  const comment = `root@${hostname}`;
  const fingerprints = [HASHES, '-----BEGIN SSH HOST KEY FINGERPRINTS-----', ...keys.map((k) => `${k.bits} ${k.fingerprint} ${comment} (${k.label})`), '-----END SSH HOST KEY FINGERPRINTS-----', HASHES];
  return [...fingerprints.map((l) => SYSLOG_PREFIX + l), '-----BEGIN SSH HOST KEY KEYS-----', ...keys.map((k) => `${k.type} ${k.blob} ${comment}`), '-----END SSH HOST KEY KEYS-----'];
}

/** cloud-config and cloud-final: the stage's start line, then the host keys on a first boot and the "finished" line. */
function finalStage(spec: ConsoleSpec): { start: string[]; rest: string[] } {
  const firstBoot = spec.firstBoot ?? true;
  const seed = spec.seedUrl ? `dmi,${spec.seedUrl}` : 'dmi';
  const start = [
    `${OK} Finished cloud-config.service - Apply the settings specified in cloud-config.`,
    `${stamp(14.2)}cloud-init[655]: Cloud-init v. 22.4.2 running 'modules:final' at Wed, 25 Nov 2026 14:30:12 +0000. Up 14.20 seconds.`,
  ];
  const rest: string[] = [];
  if (firstBoot && spec.hostKeys?.length) rest.push(...hostKeyLines(spec.hostKeys, spec.hostname));
  rest.push(
    `${stamp(14.93)}cloud-init[655]: Cloud-init v. 22.4.2 finished at Wed, 25 Nov 2026 14:30:13 +0000. Datasource DataSourceNoCloudNet [seed=${seed}][dsmode=net].  Up 14.93 seconds`,
    `${OK} Finished cloud-final.service - Execute cloud user/final scripts.`,
  );
  return { start, rest };
}

/**
 * Splits bytes into `count` chunks at positions that do not follow line ends, so
 * readers meet lines (and UTF-8 sequences) split across reads, as on a real console.
 */
export function splitChunks(bytes: Buffer, count: number): Buffer[] {
  const chunks: Buffer[] = [];
  const size = Math.max(1, Math.ceil(bytes.length / Math.max(1, count)));
  for (let at = 0; at < bytes.length; at += size) chunks.push(bytes.subarray(at, Math.min(bytes.length, at + size)));
  return chunks;
}
