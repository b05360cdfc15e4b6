// The example config and docs/configuration.md must match the one schema exactly.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { parseConfig } from '../../../src/config/load.js';
import { configSchema } from '../../../src/config/schema.js';

const ROOT = join(import.meta.dirname, '../../..');
const EXAMPLE = readFileSync(join(ROOT, 'vmbot.config.example.yaml'), 'utf8');
const REFERENCE = readFileSync(join(ROOT, 'docs/configuration.md'), 'utf8');

type Def = { type: string; innerType?: Schema; shape?: Record<string, Schema>; element?: Schema; in?: Schema };
type Schema = { _zod: { def: Def } };

/** Every key path of the schema, `a.b`, with `[]` for list items. */
function keyPaths(schema: Schema, path = '', out: string[] = []): string[] {
  const def = schema._zod.def;
  if (['default', 'prefault', 'optional', 'nullable'].includes(def.type)) return keyPaths(def.innerType!, path, out);
  if (def.type === 'pipe') return keyPaths(def.in!, path, out);
  if (def.type === 'array') return keyPaths(def.element!, `${path}[]`, out);
  if (def.type === 'object') {
    for (const [key, inner] of Object.entries(def.shape!)) {
      const child = path ? `${path}.${key}` : key;
      out.push(child);
      keyPaths(inner, child, out);
    }
  }
  return out;
}

const SCHEMA_KEYS = keyPaths(configSchema as unknown as Schema);

/** The reference tables: key -> default cell. */
function referenceRows(): Map<string, string> {
  const rows = new Map<string, string>();
  for (const line of REFERENCE.split('\n')) {
    // | `key` | type | default | meaning |  (the secrets table has two columns)
    const cells = line.split('|').map((c) => c.trim());
    const key = /^`([A-Za-z.[\]]+)`$/.exec(cells[1] ?? '')?.[1];
    if (key && cells.length === 6) rows.set(key, cells[3]!);
  }
  return rows;
}

/** A config with every optional section present, so that any key can be set on it. */
const BASE = {
  nomad: { ssh: { host: 'h', user: 'u', privateKeyPath: '/k', hostKeyFingerprint: `SHA256:${'A'.repeat(43)}` }, http: {} },
  cloudInit: { sftp: { host: 'h', user: 'u', privateKeyPath: '/k', hostKeyFingerprint: `SHA256:${'A'.repeat(43)}` } },
  slack: { adminChannel: 'C1' },
  discord: { applicationId: '100000000000000001', guildId: '100000000000000002', adminChannel: '100000000000000003' },
};

function setPath(obj: Record<string, unknown>, path: string, value: unknown): void {
  const parts = path.split('.');
  let at = obj;
  for (const part of parts.slice(0, -1)) at = (at[part] ??= {}) as Record<string, unknown>;
  at[parts.at(-1)!] = value;
}
const getPath = (obj: unknown, path: string): unknown => path.split('.').reduce<unknown>((o, k) => (o as Record<string, unknown>)[k], obj);

describe('docs/configuration.md', () => {
  it('documents exactly the keys of the schema', () => {
    expect([...referenceRows().keys()].sort()).toEqual([...SCHEMA_KEYS].sort());
  });

  it('gives each default as the schema applies it', () => {
    const defaults = parseConfig(structuredClone(BASE));
    let checked = 0;
    for (const [key, cell] of referenceRows()) {
      const literal = /^`([^`]*)`$/.exec(cell)?.[1];
      if (literal === undefined || key.includes('[]')) continue;
      const config = structuredClone(BASE) as Record<string, unknown>;
      setPath(config, key, parseYaml(literal));
      expect(getPath(parseConfig(config), key), key).toEqual(getPath(defaults, key));
      checked++;
    }
    expect(checked).toBeGreaterThan(35);
  });
});

describe('vmbot.config.example.yaml', () => {
  const raw = parseYaml(EXAMPLE) as Record<string, unknown>;

  it('is valid as it stands', () => {
    expect(() => parseConfig(raw, 'vmbot.config.example.yaml')).not.toThrow();
  });

  it('reserves the MACs of the admins hand-made VMs', () => {
    const config = parseConfig(raw);
    expect(config.macPool.reserved.map((r) => r.mac)).toEqual(expect.arrayContaining(['52:54:84:ba:49:01', '52:54:84:ba:49:02', '52:54:84:ba:49:20', '52:54:84:ba:49:22']));
  });

  it('mentions every key, set or commented out, each with a comment in its section', () => {
    const missing = SCHEMA_KEYS.filter((path) => {
      const leaf = path.split('.').at(-1)!.replace('[]', '');
      return !new RegExp(`(^|[\\s{,#])${leaf}:`, 'm').test(EXAMPLE);
    });
    expect(missing).toEqual([]);
    expect(EXAMPLE.split('\n').filter((l) => l.trim().startsWith('#')).length).toBeGreaterThan(40);
  });
});
