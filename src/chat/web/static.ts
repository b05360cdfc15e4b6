// The page's static files. They live in src/chat/web/public/ (tsc does not copy them), so
// compiled code in dist/chat/web/ looks for them there as well: from source (tsx, tests)
// the first candidate exists, from dist the second one does.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

const CANDIDATES = [new URL('./public/', import.meta.url), new URL('../../../src/chat/web/public/', import.meta.url)];

/** The only files served: a fixed list, so no path from the URL ever reaches the file system. */
export const ASSETS: Readonly<Record<string, { file: string; type: string }>> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/app.js': { file: 'app.js', type: 'text/javascript; charset=utf-8' },
  '/style.css': { file: 'style.css', type: 'text/css; charset=utf-8' },
  // Browsers ask for /favicon.ico when the page names no icon; naming one spares a 404 per load.
  '/favicon.svg': { file: 'favicon.svg', type: 'image/svg+xml' },
};

export function publicDir(): string {
  for (const url of CANDIDATES) if (existsSync(new URL('index.html', url))) return fileURLToPath(url);
  throw new Error(`the web console's page is missing: looked in ${CANDIDATES.map((u) => fileURLToPath(u)).join(' and ')}`);
}

/** Reads every asset once at start: a handful of small files, and a missing one fails early. */
export async function loadAssets(): Promise<Map<string, { body: Buffer; type: string }>> {
  const dir = publicDir();
  const out = new Map<string, { body: Buffer; type: string }>();
  for (const [route, { file, type }] of Object.entries(ASSETS)) out.set(route, { body: await readFile(dir + file), type });
  return out;
}
