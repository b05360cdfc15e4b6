// Finds a VM's address in its serial console (DESIGN §2, "Where the address shows up").
// cloud-init prints a "Net device info" table (`ci-info: | Device | Up | Address | Mask |
// Scope | Hw-Address |`); we take the row whose Hw-Address is the MAC vmbot allocated,
// never the interface name. Pure: bytes in, an address out; no I/O.
import { StringDecoder } from 'node:string_decoder';

export interface NicAddress {
  ipv4?: string;
  /** Global-scope IPv6 addresses without /prefix, in the order seen. */
  ipv6: string[];
}

export interface CiInfoRow {
  device: string;
  up: boolean;
  address: string;
  mask: string;
  scope: string;
  hwAddress: string;
}

// CSI sequences (colours, cursor moves) and the two-byte escapes terminals also emit.
const ANSI_RE = /\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[()][0-9A-Za-z]|\x1b[=>78cM]/g;
const CI_INFO = 'ci-info:';
const IPV4_RE = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;
const IPV6_RE = /^[0-9a-f:.]*:[0-9a-f:.]*$/i;
const MAC_RE = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i;
/** A console line without a newline this long is garbage; keep memory bounded. */
const MAX_PENDING = 64 * 1024;

export function stripAnsi(text: string): string {
  return text.includes('\x1b') ? text.replace(ANSI_RE, '') : text;
}

/** A console line without colour codes or carriage returns. */
function cleanLine(raw: string): string {
  const plain = stripAnsi(raw);
  return plain.includes('\r') ? plain.replace(/\r/g, '') : plain;
}

/** The text after `ci-info: `, whatever prefix (kernel time, `cloud-init[pid]: `) came before. */
function ciInfoText(line: string): string | null {
  const at = line.indexOf(CI_INFO);
  return at < 0 ? null : line.slice(at + CI_INFO.length).trim();
}

function tableCells(text: string): string[] | null {
  if (!text.startsWith('|') || !text.endsWith('|') || text.length < 2) return null;
  return text
    .slice(1, -1)
    .split('|')
    .map((cell) => cell.trim());
}

/**
 * One data row of the "Net device info" table, or null for anything else (borders,
 * headers, route tables, other console lines). Accepts the raw console line.
 */
export function parseCiInfoRow(line: string): CiInfoRow | null {
  const text = ciInfoText(cleanLine(line));
  return text === null ? null : rowOf(tableCells(text));
}

/** The six cells of a device row, checked; null for headers and route rows. */
function rowOf(cells: string[] | null): CiInfoRow | null {
  if (!cells || cells.length !== 6) return null;
  const [device, up, address, mask, scope, hwAddress] = cells as [string, string, string, string, string, string];
  // The Up column is Python's bool: this is what tells a device row from a route row
  // (whose second column is a destination address) and from the header.
  if (up !== 'True' && up !== 'False') return null;
  if (hwAddress !== '.' && !MAC_RE.test(hwAddress)) return null;
  return { device, up: up === 'True', address, mask, scope, hwAddress: hwAddress.toLowerCase() };
}

function isIpv4(address: string): boolean {
  const m = IPV4_RE.exec(address);
  return m !== null && m.slice(1).every((octet) => Number(octet) <= 255);
}

type TableKind = 'netdev' | 'other' | null;

export class ConsoleScanner {
  private readonly mac: string;
  private readonly tailLines: number;
  private readonly decoder = new StringDecoder('utf8');
  private pending = '';
  private readonly recent: string[] = [];
  private table: TableKind = null;
  /** Counts tables so that v6 rows are only added from the table that gave the IPv4. */
  private tableNumber = 0;
  private lockedTable = -1;
  private found: NicAddress | null = null;
  /** Global v6 rows for our MAC seen in the current table before its IPv4 row. */
  private v6InTable: string[] = [];

  constructor(mac: string, opts: { tailLines?: number } = {}) {
    this.mac = mac.toLowerCase();
    this.tailLines = opts.tailLines ?? 20;
  }

  /** The address once a table showed our NIC up with a global IPv4; null until then. */
  get address(): NicAddress | null {
    return this.found ? { ...(this.found.ipv4 ? { ipv4: this.found.ipv4 } : {}), ipv6: [...this.found.ipv6] } : null;
  }

  push(chunk: Buffer | string): void {
    this.pending += typeof chunk === 'string' ? chunk : this.decoder.write(chunk);
    let start = 0;
    let newline = this.pending.indexOf('\n');
    while (newline >= 0) {
      this.line(this.pending.slice(start, newline));
      start = newline + 1;
      newline = this.pending.indexOf('\n', start);
    }
    // Keep only the unfinished line (sliced once per push, not once per line).
    if (start > 0) this.pending = this.pending.slice(start);
    if (this.pending.length > MAX_PENDING) this.pending = this.pending.slice(-MAX_PENDING);
  }

  /** The last complete console lines (ANSI and CR stripped), for failure reports. */
  tail(): string[] {
    return [...this.recent];
  }

  private line(raw: string): void {
    const clean = cleanLine(raw);
    this.recent.push(clean);
    if (this.recent.length > this.tailLines) this.recent.shift();
    const text = ciInfoText(clean);
    // Kernel messages may interleave with a table, so a non-ci-info line does not end it.
    if (text === null) return;
    if (/^\++.*info\+*$/i.test(text)) {
      // A table title ("+++Net device info+++", "+++Route IPv4 info+++").
      this.startTable(/Net device info/i.test(text) ? 'netdev' : 'other');
      return;
    }
    const cells = tableCells(text);
    const header = cells?.[0];
    if (header === 'Device' || header === 'Route') {
      // Header rows name the table too, in case its title line was lost.
      const kind = header === 'Device' ? 'netdev' : 'other';
      if (this.table !== kind) this.startTable(kind);
      return;
    }
    if (this.table !== 'netdev') return;
    const row = rowOf(cells);
    if (row) this.row(row);
  }

  private startTable(kind: TableKind): void {
    this.table = kind;
    this.tableNumber += 1;
    this.v6InTable = [];
  }

  private row(row: CiInfoRow): void {
    if (!row.up || row.hwAddress !== this.mac || row.scope !== 'global') return;
    const address = row.address.replace(/\/\d+$/, '');
    if (isIpv4(address)) {
      // Within one log the first table that shows an IPv4 wins; later boots do not move it.
      if (this.found) return;
      this.found = { ipv4: address, ipv6: [...this.v6InTable] };
      this.lockedTable = this.tableNumber;
    } else if (IPV6_RE.test(address)) {
      if (this.found) {
        if (this.lockedTable === this.tableNumber && !this.found.ipv6.includes(address)) this.found.ipv6.push(address);
      } else if (!this.v6InTable.includes(address)) {
        this.v6InTable.push(address);
      }
    }
  }
}
