// MAC address maths for the pool (pure). MACs are stored and compared in one canonical
// form — six lower-case hex pairs joined by ":" — so that "52:54:84:BA:49:01" and
// "52:54:84:ba:49:01" are the same lease, and text order equals numeric order.
import { VmbotError } from './problem.js';

export const MAX_MAC = (1n << 48n) - 1n;

const MAC_RE = /^[0-9a-f]{2}([:-])[0-9a-f]{2}(\1[0-9a-f]{2}){4}$/i;

export interface MacRange {
  first: bigint;
  last: bigint;
}

/** Canonical form of a MAC, or undefined if the text is not one (accepts ":" or "-" separators, any case). */
export function tryNormaliseMac(text: string): string | undefined {
  const trimmed = text.trim();
  if (!MAC_RE.test(trimmed)) return undefined;
  return trimmed.toLowerCase().replaceAll('-', ':');
}

/** Canonical form of a MAC; throws VmbotError('invalid_mac') naming `field` otherwise. */
export function normaliseMac(text: string, field = 'mac'): string {
  const mac = tryNormaliseMac(text);
  if (mac === undefined) {
    throw new VmbotError('invalid_mac', `${JSON.stringify(text)} is not a MAC address: write six hex pairs like 52:54:84:ba:49:00.`, field);
  }
  return mac;
}

export function macToBigInt(mac: string): bigint {
  return BigInt('0x' + normaliseMac(mac).replaceAll(':', ''));
}

export function bigIntToMac(value: bigint): string {
  if (value < 0n || value > MAX_MAC) throw new RangeError(`${value} is outside the 48-bit MAC space`);
  const hex = value.toString(16).padStart(12, '0');
  return hex.match(/../g)!.join(':');
}

/** Parses "FIRST-LAST" (inclusive). Throws VmbotError('invalid_mac') naming `field`. */
export function parseMacRange(text: string, field = 'macPool.ranges'): MacRange {
  // Split on the dash between the two MACs; MACs themselves may use ":" only here,
  // because "-" is the range separator.
  const parts = text.split('-').map((p) => p.trim());
  if (parts.length !== 2 || tryNormaliseMac(parts[0]!) === undefined || tryNormaliseMac(parts[1]!) === undefined) {
    throw new VmbotError('invalid_mac', `${JSON.stringify(text)} is not a MAC range: write FIRST-LAST, e.g. 52:54:84:ba:49:00-52:54:84:ba:49:ff.`, field);
  }
  const first = macToBigInt(parts[0]!);
  const last = macToBigInt(parts[1]!);
  if (first > last) {
    throw new VmbotError('invalid_mac', `${JSON.stringify(text)}: the first MAC is after the last; swap them.`, field);
  }
  return { first, last };
}

/** How many MACs a range holds. */
export function rangeSize(range: MacRange): bigint {
  return range.last - range.first + 1n;
}

/**
 * Merges overlapping or touching ranges and sorts them, so that counting never counts
 * a MAC twice.
 */
export function mergeRanges(ranges: readonly MacRange[]): MacRange[] {
  const sorted = [...ranges].sort((a, b) => (a.first < b.first ? -1 : a.first > b.first ? 1 : 0));
  const merged: MacRange[] = [];
  for (const range of sorted) {
    const last = merged.at(-1);
    if (last && range.first <= last.last + 1n) {
      if (range.last > last.last) last.last = range.last;
    } else {
      merged.push({ ...range });
    }
  }
  return merged;
}

/** Number of distinct MACs in the ranges. */
export function countMacs(ranges: readonly MacRange[]): bigint {
  return mergeRanges(ranges).reduce((sum, r) => sum + rangeSize(r), 0n);
}

/** Every distinct MAC of the ranges, lowest first. */
export function* enumerateMacs(ranges: readonly MacRange[]): Generator<string> {
  for (const range of mergeRanges(ranges)) {
    for (let v = range.first; v <= range.last; v++) yield bigIntToMac(v);
  }
}

export function rangeContains(ranges: readonly MacRange[], mac: string): boolean {
  const v = macToBigInt(mac);
  return ranges.some((r) => r.first <= v && v <= r.last);
}

/** The largest pool vmbot materialises: a /16 of MACs is already far more VMs than a cluster runs. */
export const MAX_POOL_SIZE = 65_536;

/** Why a MAC cannot be a guest's NIC address (multicast, broadcast or all-zero), or undefined when it can. */
export function unusableMacReason(mac: string): string | undefined {
  const v = macToBigInt(mac);
  if (v === 0n) return 'the all-zero MAC is not a valid interface address';
  if (((v >> 40n) & 1n) === 1n) return 'it is a multicast (or broadcast) MAC: the first octet is odd, so no NIC can use it';
  return undefined;
}

/** Why a range holds MACs no NIC can use (all-zero, multicast), or undefined. */
function unusableRangeReason(range: MacRange): string | undefined {
  if (range.first === 0n) return 'it includes 00:00:00:00:00:00, which is not a valid interface address';
  const firstOctet = range.first >> 40n;
  const lastOctet = range.last >> 40n;
  if (lastOctet > firstOctet || (firstOctet & 1n) === 1n) {
    const odd = (firstOctet & 1n) === 1n ? firstOctet : firstOctet + 1n;
    return `it includes multicast MACs (first octet ${odd.toString(16).padStart(2, '0')} is odd), which no NIC can use`;
  }
  return undefined;
}

/**
 * The one check of macPool.ranges that `config check`, `serve`, `pool` and `render` share
 * (called from the config schema and from the store): every problem, each with the index
 * of the range it is about, or none for the whole pool.
 */
export function poolRangeProblems(ranges: readonly string[]): Array<{ index?: number; message: string }> {
  const problems: Array<{ index?: number; message: string }> = [];
  const parsed: MacRange[] = [];
  ranges.forEach((text, index) => {
    let range: MacRange;
    try {
      range = parseMacRange(text.includes('-') ? text : `${text}-${text}`, `macPool.ranges[${index}]`);
    } catch (err) {
      problems.push({ index, message: (err as Error).message });
      return;
    }
    parsed.push(range);
    const why = unusableRangeReason(range);
    if (why) problems.push({ index, message: `${JSON.stringify(text)}: ${why}; use unicast MACs, e.g. 52:54:84:ba:49:00-52:54:84:ba:49:ff` });
  });
  const size = countMacs(parsed);
  if (size > BigInt(MAX_POOL_SIZE)) {
    problems.push({ message: `${ranges.join(', ')} has ${describeCount(size)} MACs; vmbot manages at most ${MAX_POOL_SIZE}. Narrow the ranges to the MACs your router hands out (e.g. 52:54:84:ba:49:00-52:54:84:ba:49:ff).` });
  }
  return problems;
}

function describeCount(n: bigint): string {
  const bits = n.toString(2).length - 1;
  return n === 1n << BigInt(bits) && bits >= 20 ? `2^${bits}` : n.toString();
}
