// Escaping for each template target (DESIGN §4). Each function turns a value into a
// complete literal of its target language, quotes included, so a template never places a
// value in a context it was not escaped for. Everything outside printable ASCII is written
// as an escape sequence: the output is plain ASCII whatever the input, which keeps
// invisible or look-alike characters out of job files and user-data.
import { VmbotError } from '../domain/problem.js';

/** Values a template may print: scalars and flat lists of scalars. */
export type Printable = string | number | boolean | ReadonlyArray<string | number | boolean>;

const hex = (n: number, width: number): string => n.toString(16).toUpperCase().padStart(width, '0');

/** \uXXXX for the BMP, \UXXXXXXXX beyond (both HCL and YAML double-quoted strings accept these). */
function unicodeEscape(codePoint: number): string {
  return codePoint <= 0xffff ? `\\u${hex(codePoint, 4)}` : `\\U${hex(codePoint, 8)}`;
}

function escapeChars(value: string, named: Readonly<Record<string, string>>): string {
  let out = '';
  for (const ch of value) {
    const cp = ch.codePointAt(0)!;
    const name = named[ch];
    if (name !== undefined) out += name;
    else if (cp >= 0x20 && cp <= 0x7e) out += ch;
    // A lone surrogate cannot be encoded in UTF-8 by any consumer: replace it.
    else if (cp >= 0xd800 && cp <= 0xdfff) out += unicodeEscape(0xfffd);
    else out += unicodeEscape(cp);
  }
  return out;
}

const HCL_NAMED: Readonly<Record<string, string>> = { '"': '\\"', '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/**
 * A quoted HCL string literal. Besides the backslash escapes, HCL templates interpolate
 * `${...}` and run directives `%{...}`; doubling the sigil (`$${`, `%%{`) is HCL's escape.
 */
export function hclString(value: string): string {
  const escaped = escapeChars(value, HCL_NAMED).replace(/([$%])\{/g, (_, sigil: string) => `${sigil}${sigil}{`);
  return `"${escaped}"`;
}

const YAML_NAMED: Readonly<Record<string, string>> = { '"': '\\"', '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/**
 * A double-quoted YAML scalar. In double quotes nothing is special but `"` and `\`, so
 * `: `, `#`, `- `, `&anchor`, `!!tag` are inert; non-printables are escaped (PyYAML, which
 * cloud-init uses, refuses raw C1 controls and some others anywhere in the stream).
 */
export function yamlString(value: string): string {
  return `"${escapeChars(value, YAML_NAMED)}"`;
}

/** A JSON string (ASCII-only, so it is also safe inside HTML or a shell heredoc's data). */
export function jsonString(value: string): string {
  return `"${escapeChars(value, { '"': '\\"', '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t', '\b': '\\b', '\f': '\\f' }).replace(/\\U([0-9A-F]{8})/g, (_, h: string) => {
    // JSON has no \U: write the UTF-16 surrogate pair instead.
    const cp = parseInt(h, 16) - 0x10000;
    return `\\u${hex(0xd800 + (cp >> 10), 4)}\\u${hex(0xdc00 + (cp & 0x3ff), 4)}`;
  })}"`;
}

function scalar(value: unknown, quote: (s: string) => string, helper: string): string {
  if (typeof value === 'string') return quote(value);
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (typeof value === 'boolean') return String(value);
  throw new VmbotError('template_error', `{{${helper}}} can print a string, number, boolean or a list of those, not ${describe(value)}`);
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined (a missing variable?)';
  if (Array.isArray(value)) return 'a nested list';
  return typeof value === 'number' ? String(value) : `an ${typeof value}`;
}

function list(value: unknown, quote: (s: string) => string, helper: string): string {
  if (Array.isArray(value)) return `[${value.map((v: unknown) => scalar(v, quote, helper)).join(', ')}]`;
  return scalar(value, quote, helper);
}

/** `{{hcl x}}`: strings quoted and escaped, numbers and booleans bare, lists as `[a, b]`. */
export const hcl = (value: unknown): string => list(value, hclString, 'hcl');
/** `{{yaml x}}`: double-quoted scalars, numbers and booleans bare, lists in flow style. */
export const yaml = (value: unknown): string => list(value, yamlString, 'yaml');
/** `{{json x}}`: JSON literals. */
export const json = (value: unknown): string => list(value, jsonString, 'json');
