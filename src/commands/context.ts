// Shared by subcommands: resolve and load the configuration named on the command line.
import type { Command } from 'commander';
import { loadConfig, resolveConfigPath } from '../config/load.js';
import type { Config } from '../config/schema.js';

/** `localMode`: read the file as local mode does (nomad is the simulated cluster; see forLocalMode). */
export async function loadConfigFor(cmd: Command, extra: { localMode?: boolean } = {}): Promise<{ config: Config; path: string; found: boolean }> {
  const opts = cmd.optsWithGlobals<{ config?: string }>();
  return loadConfig(resolveConfigPath(opts.config), { mustExist: opts.config !== undefined, ...extra });
}
