// Shared by the pool and audit command tests: a config file pointing at a SQLite file
// in a temp dir, and a commander program whose output is captured.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Command } from 'commander';
import type { CommandIO } from '../../../src/commands/store-command.js';
import { openStore, type Store } from '../../../src/store/index.js';
import { makeTempDir } from '../../support/tmp.js';

export const POOL = { ranges: ['52:54:84:ba:49:00-52:54:84:ba:49:07'], reserved: [{ mac: '52:54:84:ba:49:01', note: 'distro-vm' }] };

export interface CliHarness {
  configPath: string;
  dbPath: string;
  /** Runs `vmbot ARGS…` and returns what it printed and the exit code it set. */
  run(args: string[]): Promise<{ out: string; err: string; exitCode: number }>;
  openStore(): Promise<Store>;
  cleanup(): Promise<void>;
}

export async function makeCliHarness(register: (program: Command, io: CommandIO) => void): Promise<CliHarness> {
  const tmp = await makeTempDir('cli');
  const dbPath = join(tmp.dir, 'db', 'vmbot.sqlite');
  const configPath = join(tmp.dir, 'vmbot.config.yaml');
  await writeFile(
    configPath,
    [`nomad:`, `  adapter: sim`, `database:`, `  path: ${JSON.stringify(dbPath)}`, `macPool:`, `  ranges: ${JSON.stringify(POOL.ranges)}`, `  reserved:`, ...POOL.reserved.map((r) => `    - { mac: "${r.mac}", note: "${r.note}" }`), ''].join('\n'),
  );
  const stores: Store[] = [];
  return {
    configPath,
    dbPath,
    async run(args) {
      const out: string[] = [];
      const err: string[] = [];
      const program = new Command('vmbot').option('-c, --config <path>').exitOverride();
      program.configureOutput({ writeOut: (s) => out.push(s), writeErr: (s) => err.push(s) });
      register(program, { out: (s) => out.push(s.endsWith('\n') ? s : s + '\n'), err: (s) => err.push(s.endsWith('\n') ? s : s + '\n') });
      const before = process.exitCode;
      process.exitCode = undefined;
      let exitCode = 0;
      try {
        await program.parseAsync(['node', 'vmbot', '-c', configPath, ...args]);
        exitCode = Number(process.exitCode ?? 0);
      } catch (e) {
        exitCode = (e as { exitCode?: number }).exitCode ?? 99;
      } finally {
        process.exitCode = before;
      }
      return { out: out.join(''), err: err.join(''), exitCode };
    },
    async openStore() {
      const s = await openStore({ path: dbPath, pool: POOL });
      stores.push(s);
      return s;
    },
    async cleanup() {
      await Promise.all(stores.map((s) => s.close()));
      await tmp.cleanup();
    },
  };
}
