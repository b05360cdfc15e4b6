// The one renderer (like nomad-pack's): templates are read and checked once, then
// render() is pure, templates + variables -> text. One Handlebars environment holds our
// helpers; nothing is HTML-escaped (none of the targets is HTML): every printed value goes
// through the escaping helper of its file's language instead (see check.ts).
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Handlebars from 'handlebars';
import { VmbotError } from '../domain/problem.js';
import { checkTemplate, ESCAPING_HELPERS, VALUE_HELPERS } from './check.js';
import { hcl, json, yaml } from './escape.js';
import type { RenderedVm, Renderer, RenderVars } from './types.js';

/** The files a templates folder must hold, relative to it. */
export const TEMPLATE_FILES = {
  job: 'nomad/vm.hcl.hbs',
  userData: 'cloud-init/user-data.hbs',
  metaData: 'cloud-init/meta-data.hbs',
} as const satisfies Record<keyof RenderedVm, string>;

type Compiled = (context: unknown) => string;

/** One environment, our helpers only: assembled in one place. */
function createEnvironment(): typeof Handlebars {
  const env = Handlebars.create();
  // Handlebars passes its options object last; helpers see only the template's arguments.
  const printing = (escape: (value: unknown) => string) =>
    function (this: unknown, ...args: unknown[]): string {
      const options = args.at(-1) as Handlebars.HelperOptions & { loc?: hbs.AST.SourceLocation };
      try {
        return escape(args[0]);
      } catch (err) {
        if (err instanceof MissingVariable) throw err;
        const line = options.loc ? ` (line ${options.loc.start.line})` : '';
        throw new VmbotError('template_error', `${(err as Error).message}${line}`, undefined, { cause: err });
      }
    };
  env.registerHelper('hcl', printing(hcl));
  env.registerHelper('yaml', printing(yaml));
  env.registerHelper('json', printing(json));
  env.registerHelper('concat', (...args: unknown[]) => {
    const parts = args.slice(0, -1);
    for (const part of parts) {
      if (typeof part !== 'string' && typeof part !== 'number') {
        throw new VmbotError('template_error', `(concat ...) joins strings and numbers, not ${part === undefined ? 'undefined' : typeof part}`);
      }
    }
    return parts.join('');
  });
  return env;
}

const KNOWN_HELPERS = Object.fromEntries([...ESCAPING_HELPERS, ...VALUE_HELPERS].map((h) => [h, true]));

/**
 * A read-only view of the variables that throws on any name that does not exist, naming it.
 * Handlebars' own `strict` mode only covers bare `{{x}}`, which we do not allow, so helper
 * arguments and block conditions (`{{hcl distro.imag}}`, `{{#each sshkeys}}`) are caught here.
 */
function strictView<T extends object>(value: T, path: string): T {
  return new Proxy(value, {
    get(target, prop, receiver) {
      if (typeof prop === 'symbol') return Reflect.get(target, prop, receiver);
      if (!(prop in target)) {
        throw new MissingVariable(path ? `${path}.${prop}` : prop);
      }
      const inner: unknown = Reflect.get(target, prop, receiver);
      return inner !== null && typeof inner === 'object' ? strictView(inner, path ? `${path}.${prop}` : prop) : inner;
    },
    set() {
      return false;
    },
  });
}

class MissingVariable extends Error {
  constructor(readonly variable: string) {
    super(`"${variable}" is not a template variable`);
  }
}

function templateError(file: string, message: string, cause?: unknown): VmbotError {
  return new VmbotError('template_error', `template ${file}: ${message}`, undefined, cause === undefined ? undefined : { cause });
}

async function loadOne(env: typeof Handlebars, dir: string, file: string): Promise<Compiled> {
  const path = join(dir, file);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw templateError(path, `cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); templates.dir must hold ${Object.values(TEMPLATE_FILES).join(', ')}`, err);
  }
  let issues;
  try {
    issues = checkTemplate(text);
  } catch (err) {
    throw templateError(path, `is not valid Handlebars: ${(err as Error).message}`, err);
  }
  if (issues.length > 0) {
    throw templateError(path, `unsafe or unsupported expressions:\n${issues.map((i) => `  line ${i.line}, column ${i.column}: ${i.expression}: ${i.message}`).join('\n')}`);
  }
  const template = env.compile(text, { strict: true, noEscape: true, knownHelpers: KNOWN_HELPERS, knownHelpersOnly: true });
  return (context) => {
    try {
      return template(context);
    } catch (err) {
      if (err instanceof MissingVariable) {
        throw templateError(path, `${err.message} (the variables are documented in docs/templates.md)`, err);
      }
      throw templateError(path, (err as Error).message, err);
    }
  };
}

/** Reads and checks the three templates once; refuses unsafe ones (see docs/templates.md). */
/** The templates shipped with vmbot (repo/templates, from src/render or dist/render alike). */
export const BUNDLED_TEMPLATES_DIR = fileURLToPath(new URL('../../templates', import.meta.url));

/**
 * The default `templates.dir` is relative ("templates"): it means the working directory's copy when
 * there is one (admins customise it there), else the templates shipped with vmbot, so that
 * `vmbot` works from any directory without copying them.
 */
export function resolveTemplatesDir(templatesDir: string): string {
  if (templatesDir === 'templates' && !existsSync(join(templatesDir, TEMPLATE_FILES.job))) return BUNDLED_TEMPLATES_DIR;
  return templatesDir;
}

export async function loadRenderer(configuredDir: string): Promise<Renderer> {
  const templatesDir = resolveTemplatesDir(configuredDir);
  const env = createEnvironment();
  const [job, userData, metaData] = await Promise.all([
    loadOne(env, templatesDir, TEMPLATE_FILES.job),
    loadOne(env, templatesDir, TEMPLATE_FILES.userData),
    loadOne(env, templatesDir, TEMPLATE_FILES.metaData),
  ]);
  return {
    render(vars: RenderVars): RenderedVm {
      // A private copy: the caller's object may be frozen (a Proxy must not wrap frozen props).
      const context = strictView(structuredClone(vars), '');
      const rendered: RenderedVm = { job: job(context), userData: userData(context), metaData: metaData(context) };
      // cloud-init ignores user-data that does not start with this line, silently.
      if (!rendered.userData.startsWith('#cloud-config\n')) {
        throw templateError(join(templatesDir, TEMPLATE_FILES.userData), 'the rendered user-data must start with the line "#cloud-config"');
      }
      return rendered;
    },
  };
}
