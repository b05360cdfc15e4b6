import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { SCHEMA_FILE, configJsonSchema, configJsonSchemaText } from '../../../scripts/config-json-schema.js';

describe('vmbot.config.schema.json', () => {
  it('is exactly what the zod schema generates (run `npx tsx scripts/gen-config-schema.ts` after changing src/config/schema.ts)', async () => {
    const committed = await readFile(new URL(`../../../${SCHEMA_FILE}`, import.meta.url), 'utf8');
    expect(committed).toBe(configJsonSchemaText());
  });

  it('describes what a person writes: unknown keys refused, defaults optional, required keys required', () => {
    const schema = configJsonSchema() as { additionalProperties: boolean; properties: Record<string, { properties?: Record<string, unknown>; required?: string[]; anyOf?: unknown[] }> };
    expect(schema.additionalProperties).toBe(false);
    expect(Object.keys(schema.properties)).toEqual(expect.arrayContaining(['database', 'macPool', 'distros', 'sizes', 'nomad', 'cloudInit', 'slack', 'discord', 'web', 'log']));
    expect(schema.properties.slack!.required).toEqual(['adminChannel']);
    expect(schema.properties.discord!.required).toEqual(expect.arrayContaining(['applicationId', 'guildId', 'adminChannel']));
    // Durations accept "10m" or milliseconds; listen addresses are "host:port" strings.
    const nomad = schema.properties.nomad!.properties as Record<string, { anyOf?: Array<{ type: string }> }>;
    expect(nomad.ipTimeout!.anyOf!.map((a) => a.type).sort()).toEqual(['integer', 'string']);
  });

  it('accepts MACs in either case, as vmbot does', () => {
    const text = configJsonSchemaText();
    expect(text).toContain('[0-9a-fA-F]{2}');
    expect(text).not.toMatch(/"\^\[0-9a-f\]\{2\}/);
  });
});
