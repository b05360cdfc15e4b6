// vmbot as it is deployed: `node bin/vmbot.js serve` in a child process, a YAML config file
// with fixed ports, secrets only in the environment. The process-level tests drive it
// through the doubles; nothing of vmbot runs inside the test process.
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { waitFor } from './wait.js';

export const REPO = fileURLToPath(new URL('../..', import.meta.url));
const BIN = join(REPO, 'bin', 'vmbot.js');

export interface VmbotProcess {
  /** stdout and stderr so far, interleaved as they arrived. */
  output(): string;
  /** Waits until the output matches (deadline default 30 s); throws with the output so far. */
  waitForOutput(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** Sends SIGTERM and resolves with the exit code (throws if it does not exit within 15 s). */
  stop(): Promise<number | null>;
  /** Resolves with the exit code once the process ends on its own. */
  exited: Promise<number | null>;
  child: ChildProcess;
}

/** Writes `config` as vmbot.config.yaml in `dir` and starts `vmbot serve` there with only `env` as secrets. */
export async function startVmbot(opts: { dir: string; config: Record<string, unknown> | undefined; env?: Record<string, string>; args?: string[] }): Promise<VmbotProcess> {
  const args = [BIN];
  if (opts.config) {
    const file = join(opts.dir, 'vmbot.config.yaml');
    await writeFile(file, stringify(opts.config));
    args.push('--config', file);
  }
  args.push('serve', ...(opts.args ?? []));
  // A clean environment: no secret of the developer's shell leaks into the child.
  const env: Record<string, string> = { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: opts.dir, ...opts.env };
  const child = spawn(process.execPath, args, { cwd: opts.dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const listeners = new Set<() => void>();
  const collect = (chunk: Buffer) => {
    output += chunk.toString('utf8');
    for (const l of listeners) l();
  };
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let exitCode: number | null | undefined;
  void exited.then((code) => {
    exitCode = code;
    for (const l of listeners) l();
  });
  return {
    child,
    exited,
    output: () => output,
    waitForOutput(pattern, timeoutMs = 30_000) {
      return new Promise<string>((resolve, reject) => {
        const check = () => {
          const match = pattern.exec(output);
          if (match) {
            done();
            resolve(match[0]);
          } else if (exitCode !== undefined) {
            done();
            reject(new Error(`vmbot exited (${exitCode}) before printing ${pattern}; output:\n${output}`));
          }
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`vmbot did not print ${pattern} within ${timeoutMs} ms; output:\n${output}`));
        }, timeoutMs);
        const done = () => {
          clearTimeout(timer);
          listeners.delete(check);
        };
        listeners.add(check);
        check();
      });
    },
    async stop() {
      if (exitCode === undefined) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      const code = await exited;
      clearTimeout(timer);
      if (child.signalCode === 'SIGKILL') throw new Error(`vmbot did not exit within 15 s of SIGTERM; output:\n${output}`);
      return code;
    },
  };
}

/** True when nothing listens on host:port any more (we can bind it ourselves). */
export async function portIsFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, host, () => server.close(() => resolve(true)));
  });
}

/** Waits until each port is free (a stopped process's sockets close with it). */
export async function portsFreed(ports: number[], host = '127.0.0.1'): Promise<void> {
  await waitFor(async () => (await Promise.all(ports.map((p) => portIsFree(p, host)))).every(Boolean), { what: `ports ${ports.join(', ')} to be free`, timeoutMs: 5_000 });
}
