// The layering of DESIGN §"one rule": domain/ and workflow/ import no adapter, chat adapters
// stay apart and are reached only through the platform list (src/chat/platforms.ts), and
// src/ never reaches into tests/ or the design folder. Read from the import statements of
// every file under src/ (TypeScript's own pre-processor, so `import type`, `export ... from`
// and dynamic `import()` all count, and strings that merely look like imports do not).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');

/** A module's imports: each specifier as written, and (for relative ones) the repo path it names. */
interface ImportEdge {
  specifier: string;
  /** Repo-relative path with `/` separators (`src/domain/mac.ts`), or null for a package or built-in. */
  target: string | null;
}

type ModuleGraph = Map<string, ImportEdge[]>;

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? walk(path) : [path];
  });
}

function repoPath(absolute: string): string {
  return relative(ROOT, absolute).split(sep).join('/');
}

/** `./x.js` from src/a/b.ts → src/a/x.ts (NodeNext: the source is named by its emitted .js). */
function resolveRelative(fromFile: string, specifier: string): string {
  const path = repoPath(resolve(ROOT, dirname(fromFile), specifier));
  return path.replace(/\.js$/, '.ts');
}

function importsOf(file: string, text: string): ImportEdge[] {
  return ts.preProcessFile(text, true, true).importedFiles.map(({ fileName }) => ({
    specifier: fileName,
    target: fileName.startsWith('.') ? resolveRelative(file, fileName) : null,
  }));
}

function sourceGraph(): ModuleGraph {
  const files = walk(join(ROOT, 'src')).filter((f) => f.endsWith('.ts'));
  return new Map(files.map((f) => [repoPath(f), importsOf(repoPath(f), readFileSync(f, 'utf8'))]));
}

/** Built-in modules that touch the outside world (files, network, processes, threads). */
const IO_BUILTINS = new Set([
  'fs', 'fs/promises', 'net', 'http', 'https', 'http2', 'child_process', 'dgram', 'dns', 'dns/promises',
  'tls', 'worker_threads', 'cluster', 'readline', 'readline/promises', 'inspector', 'os', 'process', 'vm',
]);
/** Built-ins the pure domain may use: they compute, they do no I/O. Add one only if that holds. */
const DOMAIN_BUILTINS = new Set(['string_decoder']);

/** The only files outside domain/ and workflow/ that the workflow may import: ports and plain types. */
const WORKFLOW_PORTS = new Set([
  'src/store/types.ts',
  'src/nomad/port.ts',
  'src/cloudinit/port.ts',
  'src/render/types.ts',
  'src/config/schema.ts',
  'src/log.ts',
]);
/** Of those, the ports proper: adapters implement them, so they may lean on the domain only. */
const PURE_PORTS = ['src/store/types.ts', 'src/nomad/port.ts', 'src/cloudinit/port.ts', 'src/workflow/views.ts', 'src/render/types.ts'];

function builtinName(specifier: string): string | null {
  if (specifier.startsWith('node:')) return specifier.slice('node:'.length);
  return IO_BUILTINS.has(specifier) || DOMAIN_BUILTINS.has(specifier) || specifier === 'timers/promises' ? specifier : null;
}

function describeEdge(file: string, edge: ImportEdge, why: string): string {
  return `${file} imports '${edge.specifier}'${edge.target ? ` (${edge.target})` : ''}: ${why}`;
}

function chatAdapterOf(path: string): string | null {
  return /^src\/chat\/([^/]+)\//.exec(path)?.[1] ?? null;
}

/** The one module that names the chat platforms (src/chat/platform.ts describes what each one holds). */
const PLATFORM_LIST = 'src/chat/platforms.ts';
/** Modules outside a platform's folder that may still reach into it: none (its CLI commands come with its description). */
const PLATFORM_IMPORT_EXCEPTIONS = new Set<string>();

/** The chat platform a module belongs to (src/chat/<platform>/...); the web console is built in, not a platform of the list. */
function chatPlatformOf(path: string): string | null {
  const name = chatAdapterOf(path);
  return name && name !== 'web' ? name : null;
}

/** Every layering rule, over a graph; returns one line per broken import (empty when clean). */
function layeringViolations(graph: ModuleGraph): string[] {
  const found: string[] = [];
  for (const [file, edges] of graph) {
    for (const edge of edges) {
      const { target, specifier } = edge;
      if (target?.startsWith('src/') && !graph.has(target)) found.push(describeEdge(file, edge, 'no such module under src/'));
      if (target && /^(tests|bench|\.\.)\//.test(target)) found.push(describeEdge(file, edge, 'src/ must not import from tests/, bench/ or outside the repository'));

      if (file.startsWith('src/domain/')) {
        if (target && !target.startsWith('src/domain/')) found.push(describeEdge(file, edge, 'domain/ imports only domain/; move the type or function into domain/'));
        const builtin = builtinName(specifier);
        if (!target && !(builtin && DOMAIN_BUILTINS.has(builtin))) found.push(describeEdge(file, edge, 'domain/ is pure: no packages, no I/O built-ins'));
      }

      if (file.startsWith('src/workflow/')) {
        if (target && !/^src\/(domain|workflow)\//.test(target) && !WORKFLOW_PORTS.has(target)) {
          found.push(describeEdge(file, edge, `workflow/ imports no adapter; only domain/, workflow/ and ${[...WORKFLOW_PORTS].join(', ')}`));
        }
        const builtin = builtinName(specifier);
        if (!target && (!builtin || IO_BUILTINS.has(builtin))) found.push(describeEdge(file, edge, 'workflow/ imports no package and no I/O built-in; adapters do the I/O'));
      }

      if (PURE_PORTS.includes(file) && target && !target.startsWith('src/domain/')) {
        found.push(describeEdge(file, edge, 'a port imports only domain/, or the workflow would reach the adapter through it'));
      }

      const from = chatAdapterOf(file);
      const to = target ? chatAdapterOf(target) : null;
      if (from && to && from !== to) found.push(describeEdge(file, edge, 'chat adapters do not import each other; share through src/chat/*.ts'));

      // Adding a platform is its folder plus one line in the list: nothing else may name its modules.
      const platform = target ? chatPlatformOf(target) : null;
      if (platform && chatPlatformOf(file) !== platform && file !== PLATFORM_LIST && !PLATFORM_IMPORT_EXCEPTIONS.has(file)) {
        found.push(describeEdge(file, edge, `a chat platform's modules are imported only from its own folder and ${PLATFORM_LIST}; reach it through its ChatPlatform description (src/chat/platform.ts)`));
      }
      if (file.startsWith('src/workflow/') && target?.startsWith('src/chat/')) {
        found.push(describeEdge(file, edge, 'workflow/ does not import src/chat/**: what it needs from a platform (who is an admin) comes through its ports'));
      }
    }
  }
  return found;
}

describe('layering of src/', () => {
  const graph = sourceGraph();

  it('reads the imports of every module (the parser finds what is there)', () => {
    expect(graph.size).toBeGreaterThan(100);
    const workflow = graph.get('src/workflow/workflow.ts')?.map((e) => e.target ?? e.specifier);
    expect(workflow).toContain('src/domain/problem.ts');
    expect(workflow).toContain('src/workflow/views.ts');
    expect(graph.get('src/store/db.ts')?.map((e) => e.specifier)).toContain('sqlite3');
  });

  it('keeps domain/ pure, workflow/ free of adapters, ports thin, chat adapters apart and behind the platform list', () => {
    expect(layeringViolations(graph)).toEqual([]);
  });

  it('never reads the design folder (../shared) from src/', () => {
    const offenders = walk(join(ROOT, 'src'))
      .filter((f) => /['"`/]shared\/|(\.\.\/)+shared['"`]|\/work\/shared\b/.test(readFileSync(f, 'utf8')))
      .map(repoPath);
    expect(offenders).toEqual([]);
  });
});

describe('the layering rules catch', () => {
  const graph = (modules: Record<string, string>): ModuleGraph => {
    const all: ModuleGraph = new Map(Object.keys(modules).map((f) => [f, []]));
    for (const [file, text] of Object.entries(modules)) all.set(file, importsOf(file, text));
    return all;
  };

  it.each([
    ['domain → config', { 'src/domain/v.ts': "import type { Config } from '../config/schema.js';", 'src/config/schema.ts': '' }, /domain\/ imports only domain/],
    ['domain → node:fs', { 'src/domain/v.ts': "import { readFileSync } from 'node:fs';" }, /domain\/ is pure/],
    ['domain → a package', { 'src/domain/v.ts': "import { z } from 'zod';" }, /domain\/ is pure/],
    ['workflow → store adapter', { 'src/workflow/w.ts': "import { openStore } from '../store/db.js';", 'src/store/db.ts': '' }, /workflow\/ imports no adapter/],
    ['workflow → nomad adapter (dynamic)', { 'src/workflow/w.ts': "const m = await import('../nomad/ssh/adapter.js');", 'src/nomad/ssh/adapter.ts': '' }, /workflow\/ imports no adapter/],
    ['workflow → slack adapter (re-export)', { 'src/workflow/w.ts': "export { x } from '../chat/slack/blocks.js';", 'src/chat/slack/blocks.ts': '' }, /workflow\/ imports no adapter/],
    ['workflow → sqlite3', { 'src/workflow/w.ts': "import sqlite3 from 'sqlite3';" }, /workflow\/ imports no package/],
    ['workflow → discord.js', { 'src/workflow/w.ts': "import type { Client } from 'discord.js';" }, /workflow\/ imports no package/],
    ['workflow → node:http', { 'src/workflow/w.ts': "import { createServer } from 'node:http';" }, /no I\/O built-in/],
    ['port → adapter', { 'src/nomad/port.ts': "import type { X } from './ssh/parse.js';", 'src/nomad/ssh/parse.ts': '' }, /a port imports only domain/],
    ['discord → slack', { 'src/chat/discord/draw.ts': "import { esc } from '../slack/escape.js';", 'src/chat/slack/escape.ts': '' }, /chat adapters do not import each other/],
    ['main → a platform\'s module', { 'src/main.ts': "const { createSlackAdapter } = await import('./chat/slack/index.js');", 'src/chat/slack/index.ts': '' }, /imported only from its own folder and src\/chat\/platforms\.ts/],
    ['config → a platform\'s section', { 'src/config/schema.ts': "import { slackSection } from '../chat/slack/platform.js';", 'src/chat/slack/platform.ts': '' }, /imported only from its own folder and src\/chat\/platforms\.ts/],
    ['workflow → the platform list', { 'src/workflow/w.ts': "import { PLATFORMS } from '../chat/platforms.js';", 'src/chat/platforms.ts': '' }, /workflow\/ does not import src\/chat/],
    ['workflow → the chat adapter type', { 'src/workflow/w.ts': "import type { ChatAdapter } from '../chat/adapter.js';", 'src/chat/adapter.ts': '' }, /workflow\/ does not import src\/chat/],
    ['src → tests', { 'src/app.ts': "import { harness } from '../tests/support/harness.js';" }, /must not import from tests/],
    ['src → the design folder', { 'src/app.ts': "import design from '../../shared/DESIGN.md';" }, /outside the repository/],
  ])('%s', (_name, modules, message) => {
    const violations = layeringViolations(graph(modules));
    expect(violations.length).toBeGreaterThan(0);
    expect(violations.join('\n')).toMatch(message);
  });

  it('and let the allowed imports through', () => {
    expect(layeringViolations(graph({
      'src/workflow/w.ts': "import type { Store } from '../store/types.js';\nimport { setTimeout as sleep } from 'node:timers/promises';\nimport { problem } from '../domain/problem.js';",
      'src/store/types.ts': "import type { VmRequest } from '../domain/request.js';",
      'src/domain/problem.ts': '',
      'src/domain/request.ts': "import { StringDecoder } from 'node:string_decoder';",
      'src/chat/slack/blocks.ts': "import type { RequestCardView } from '../../workflow/views.js';",
      'src/workflow/views.ts': '',
      'src/chat/platforms.ts': "import { slackPlatform } from './slack/platform.js';",
      'src/chat/slack/platform.ts': "import type { ChatPlatform } from '../platform.js';\nconst m = await import('./index.js');",
      'src/chat/slack/index.ts': '',
      'src/chat/platform.ts': '',
      'src/config/schema.ts': "import { PLATFORM_SECTIONS } from '../chat/platforms.js';",
    }))).toEqual([]);
  });
});
