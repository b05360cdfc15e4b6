// `npm run bench [NAME...]`: runs the named benchmarks (all of them without a name), one
// process each so their timings and memory figures do not disturb one another. Figures
// and how to read them: docs/benchmarks.md and the docs each bench names.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const available = readdirSync(here)
  .filter((f) => f.endsWith('.ts') && !['run.ts', 'timed.ts'].includes(f))
  .map((f) => f.slice(0, -3));

const asked = process.argv.slice(2);
const unknown = asked.filter((name) => !available.includes(name));
if (unknown.length > 0) {
  console.error(`unknown benchmark(s): ${unknown.join(', ')}; available: ${available.join(', ')}`);
  process.exit(2);
}
for (const name of asked.length > 0 ? asked : available) {
  console.log(`\n== ${name} (npx tsx bench/${name}.ts) ==`);
  const run = spawnSync(process.execPath, ['--import', 'tsx', join(here, `${name}.ts`)], { stdio: 'inherit' });
  if (run.status !== 0) process.exitCode = run.status ?? 1;
}
