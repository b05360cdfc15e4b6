import { describe, expect, it } from 'vitest';
import {
  bigIntToMac,
  countMacs,
  enumerateMacs,
  macToBigInt,
  mergeRanges,
  normaliseMac,
  parseMacRange,
  rangeContains,
  tryNormaliseMac,
} from '../../../src/domain/mac.js';
import { VmbotError } from '../../../src/domain/problem.js';

describe('normaliseMac', () => {
  it('lower-cases and accepts ":" or "-" separators', () => {
    expect(normaliseMac('52:54:84:BA:49:0F')).toBe('52:54:84:ba:49:0f');
    expect(normaliseMac(' 52-54-84-ba-49-0f ')).toBe('52:54:84:ba:49:0f');
  });

  it.each(['', '52:54:84:ba:49', '52:54:84:ba:49:0g', '52:54-84:ba:49:00', '5254.84ba.4900', '52:54:84:ba:49:00:11'])('refuses %j with invalid_mac naming the field', (text) => {
    expect(tryNormaliseMac(text)).toBeUndefined();
    const err = (() => {
      try {
        normaliseMac(text, 'macPool.reserved[0].mac');
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(VmbotError);
    expect(err).toMatchObject({ code: 'invalid_mac', field: 'macPool.reserved[0].mac' });
  });
});

describe('MAC <-> BigInt', () => {
  it('round-trips, including the ends of the space', () => {
    expect(macToBigInt('00:00:00:00:00:00')).toBe(0n);
    expect(macToBigInt('ff:ff:ff:ff:ff:ff')).toBe(0xffffffffffffn);
    expect(macToBigInt('52:54:84:BA:49:22')).toBe(0x525484ba4922n);
    expect(bigIntToMac(0x525484ba4922n)).toBe('52:54:84:ba:49:22');
    expect(bigIntToMac(1n)).toBe('00:00:00:00:00:01');
    expect(() => bigIntToMac(1n << 48n)).toThrow(RangeError);
    expect(() => bigIntToMac(-1n)).toThrow(RangeError);
  });
});

describe('ranges', () => {
  it('parses FIRST-LAST, case-insensitively', () => {
    expect(parseMacRange('52:54:84:BA:49:00 - 52:54:84:ba:49:ff')).toEqual({ first: 0x525484ba4900n, last: 0x525484ba49ffn });
  });

  it.each(['52:54:84:ba:49:00', '52:54:84:ba:49:ff-52:54:84:ba:49:00', 'a-b', '52:54:84:ba:49:00-52:54:84:ba:49:01-52:54:84:ba:49:02'])('refuses %j naming the config key', (text) => {
    expect(() => parseMacRange(text, 'macPool.ranges[1]')).toThrow(expect.objectContaining({ code: 'invalid_mac', field: 'macPool.ranges[1]' }));
  });

  it('counts and enumerates distinct MACs, lowest first, across a byte boundary and overlaps', () => {
    const ranges = [parseMacRange('52:54:00:00:01:fe-52:54:00:00:02:01'), parseMacRange('52:54:00:00:02:00-52:54:00:00:02:02'), parseMacRange('52:54:00:00:00:10-52:54:00:00:00:10')];
    expect(countMacs(ranges)).toBe(6n);
    expect([...enumerateMacs(ranges)]).toEqual(['52:54:00:00:00:10', '52:54:00:00:01:fe', '52:54:00:00:01:ff', '52:54:00:00:02:00', '52:54:00:00:02:01', '52:54:00:00:02:02']);
    expect(mergeRanges(ranges)).toHaveLength(2);
    expect(countMacs([parseMacRange('00:00:00:00:00:00-ff:ff:ff:ff:ff:ff')])).toBe(1n << 48n);
  });

  it('merges touching ranges and tells membership', () => {
    const ranges = [parseMacRange('52:54:84:ba:49:00-52:54:84:ba:49:0f'), parseMacRange('52:54:84:ba:49:10-52:54:84:ba:49:1f')];
    expect(mergeRanges(ranges)).toEqual([{ first: 0x525484ba4900n, last: 0x525484ba491fn }]);
    expect(rangeContains(ranges, '52:54:84:BA:49:1F')).toBe(true);
    expect(rangeContains(ranges, '52:54:84:ba:49:20')).toBe(false);
  });
});
