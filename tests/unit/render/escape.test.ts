import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { hcl, json, jsonString, yaml, yamlString } from '../../../src/render/escape.js';

const HOSTILE = ['a"b\\c', 'line\nbreak\r\n', '\u0000\u001b\u007f\u0085\u2028', 'héllo 😀', '${x} %{y}', ': # - & ! * | >'];

describe('escaping helpers', () => {
  it.each(HOSTILE)('json writes ASCII that JSON.parse reads back as %j', (s) => {
    const out = jsonString(s);
    expect(out).toMatch(/^[\x20-\x7e]*$/);
    expect(JSON.parse(out)).toBe(s);
  });

  it.each(HOSTILE)('yaml writes an ASCII double-quoted scalar that reads back as %j', (s) => {
    const out = yamlString(s);
    expect(out).toMatch(/^"[\x20-\x7e]*"$/);
    expect(parseYaml(`k: ${out}`)).toEqual({ k: s });
  });

  it('replaces a lone surrogate, which no UTF-8 consumer can take, with U+FFFD', () => {
    expect(JSON.parse(jsonString('a\ud800b'))).toBe('a\ufffdb');
  });

  it('print numbers and booleans bare and lists in brackets', () => {
    expect(hcl(2048)).toBe('2048');
    expect(yaml(true)).toBe('true');
    expect(hcl(['a', 1])).toBe('["a", 1]');
    expect(json(['a"'])).toBe('["a\\""]');
  });

  it.each([[null], [undefined], [{ a: 1 }], [[['nested']]], [Number.NaN]])('refuse %j with a template_error', (value) => {
    expect(() => hcl(value)).toThrowError(expect.objectContaining({ code: 'template_error' }));
  });
});
