// Writes vmbot.config.schema.json (committed). tests/unit/config-json-schema.test.ts fails
// when the file and the zod schema drift apart; run this script to bring it up to date:
//   npx tsx scripts/gen-config-schema.ts
import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { SCHEMA_FILE, configJsonSchemaText } from './config-json-schema.js';

const target = fileURLToPath(new URL(`../${SCHEMA_FILE}`, import.meta.url));
await writeFile(target, configJsonSchemaText());
console.log(`wrote ${target}`);
