// Shared by the admin commands that work on the database (pool, audit): load the
// config, open the store (the bot may be running: WAL and the busy timeout let both
// work on the file), run, close, and turn expected failures into a message + exit code.
import { access } from 'node:fs/promises';
import { userInfo } from 'node:os';
import type { Command } from 'commander';
import { ConfigError } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { VmbotError } from '../domain/problem.js';
import type { MemberRef } from '../domain/request.js';
import { openStore, type Store } from '../store/index.js';
import { loadConfigFor } from './context.js';

/** Where a command writes; tests pass their own. */
export interface CommandIO {
  out(text: string): void;
  err(text: string): void;
}

export const processIO: CommandIO = {
  out: (text) => void process.stdout.write(text.endsWith('\n') ? text : text + '\n'),
  err: (text) => void process.stderr.write(text.endsWith('\n') ? text : text + '\n'),
};

/** The admin at the keyboard, for audit rows. */
export function cliActor(): MemberRef {
  let name = 'unknown';
  try {
    name = userInfo().username;
  } catch {
    // No passwd entry (some containers): keep "unknown".
  }
  return { platform: 'cli', userId: name };
}

/** "vmbot pool release", for error messages. */
function commandPath(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

/**
 * The admin commands read database.path only. Local mode keeps its state apart (data/local.sqlite),
 * so after trying local mode the production database may not exist yet: say both.
 */
export function noDatabaseError(path: string): VmbotError {
  return new VmbotError(
    'not_found',
    `There is no database at ${path} yet: \`vmbot serve\` creates it when it runs with Slack or Discord. Local mode keeps its own (data/local.sqlite), which the admin commands do not read. Check database.path (or --config).`,
    'database.path',
  );
}

export async function withStore(
  cmd: Command,
  io: CommandIO,
  work: (store: Store, config: Config) => Promise<void>,
  opts: { mustExist?: boolean } = {},
): Promise<void> {
  try {
    const { config } = await loadConfigFor(cmd);
    const path = config.database.path;
    if (opts.mustExist) {
      try {
        await access(path);
      } catch {
        throw noDatabaseError(path);
      }
    }
    const store = await openStore({ path, pool: config.macPool });
    try {
      await work(store, config);
    } finally {
      await store.close();
    }
  } catch (err) {
    if (err instanceof VmbotError) {
      io.err(`${commandPath(cmd)}: ${err.message} [${err.code}${err.field ? `, ${err.field}` : ''}]`);
    } else if (err instanceof ConfigError) {
      io.err(err.message);
    } else {
      throw err;
    }
    process.exitCode = 1;
  }
}
