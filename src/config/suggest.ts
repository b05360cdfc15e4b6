// "did you mean macPool?" for a misspelt config key: the keys the schema allows at that path
// (read from its JSON Schema, so there is no second list to keep in step), and the closest one.
import { z } from 'zod';
import { configSchema } from './schema.js';

type JsonNode = { properties?: Record<string, JsonNode>; items?: JsonNode; anyOf?: JsonNode[]; oneOf?: JsonNode[] };

let cached: JsonNode | undefined;
function root(): JsonNode {
  // Built on first use only: a valid config never needs it.
  cached ??= z.toJSONSchema(configSchema, { io: 'input', unrepresentable: 'any' }) as JsonNode;
  return cached;
}

/** The keys allowed in the object at `path` (e.g. ["nomad", "ssh"] or ["distros", 0]). */
export function knownKeysAt(path: readonly PropertyKey[]): string[] {
  let nodes: JsonNode[] = [root()];
  for (const part of path) {
    // Optional and nullable sections are unions: follow every branch.
    const flat = nodes.flatMap((n) => [n, ...(n.anyOf ?? []), ...(n.oneOf ?? [])]);
    nodes = flat.flatMap((n) => {
      const next = typeof part === 'number' ? n.items : n.properties?.[String(part)];
      return next ? [next] : [];
    });
  }
  const keys = nodes.flatMap((n) => [n, ...(n.anyOf ?? []), ...(n.oneOf ?? [])]).flatMap((n) => Object.keys(n.properties ?? {}));
  return [...new Set(keys)];
}

/** Edits between a and b: insert, delete, substitute, or swap two neighbours ("lable" → "label" is one). */
function distance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const row = d[i]!;
      row[j] = Math.min(d[i - 1]![j]! + 1, row[j - 1]! + 1, d[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) row[j] = Math.min(row[j]!, d[i - 2]![j - 2]! + 1);
    }
  }
  return d[a.length]![b.length]!;
}

/** The allowed key `typed` was most likely meant to be: same letters in another case, or at most two edits away. */
export function suggestKey(typed: string, known: readonly string[]): string | undefined {
  const lower = typed.toLowerCase();
  const sameLetters = known.find((k) => k.toLowerCase() === lower);
  if (sameLetters) return sameLetters;
  let best: { key: string; d: number } | undefined;
  for (const key of known) {
    const d = distance(lower, key.toLowerCase());
    if (d <= Math.min(2, Math.floor(key.length / 3)) && (!best || d < best.d)) best = { key, d };
  }
  return best?.key;
}
