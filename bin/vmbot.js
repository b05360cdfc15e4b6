#!/usr/bin/env node
// The published entry point: runs the compiled CLI (npm's `prepare` and `prestart` build it).
import('../dist/cli.js').then((m) => m.main(process.argv)).catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
