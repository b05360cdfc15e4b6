// The `ssh` adapter of the Nomad port: runs the `nomad` CLI on the Nomad host over one
// persistent SSH connection (node-ssh). See docs/ssh.md for the commands and the token.
import { parse as parseHcl } from '@cdktf/hcl2json';
import type { Logger } from '../../log.js';
import { NomadError, type AllocationInfo, type JobInfo, type JobSummary, type LogChunk, type NomadPort, type StopJobOptions, type SubmitResult } from '../port.js';
import { isForeignJobIdSafe, NomadCommands, quoteJobId } from './commands.js';
import { SshConnection, SshError, type ExecResult, type SshTarget } from './connection.js';
import { errorForExit, errorForStatus, parseAllocations, parseEvalId, parseJob, parseJobList, parseVerbose, redactRequestHeaders } from './parse.js';

export interface SshNomadOptions extends SshTarget {
  nomadPath?: string | undefined;
  /** File on the SSH host holding the ACL token (e.g. ~/.nomad-token); read there, never sent. */
  tokenFile?: string | undefined;
  /** `-namespace` / `-region` on every command (nomad.namespace / nomad.region). */
  namespace?: string | undefined;
  region?: string | undefined;
  /** Default 6; must stay below OpenSSH's MaxSessions (10). */
  maxChannels?: number | undefined;
  commandTimeoutMs?: number | undefined;
  connectAttempts?: number | undefined;
  backoffMs?: number | undefined;
  logger?: Logger | undefined;
}

export interface SshNomadPort extends NomadPort {
  /** Channel use and reconnects (benchmarks, tests, `vmbot nomad check`). */
  stats(): ReturnType<SshConnection['stats']>;
  readonly connection: SshConnection;
  readonly commands: NomadCommands;
}

/** Transport failures become the port's `unreachable` / `timeout`. */
function toNomadError(err: unknown): unknown {
  if (err instanceof SshError) return new NomadError(err.kind === 'timeout' ? 'timeout' : 'unreachable', err.message, undefined, { cause: err });
  return err;
}

/** The job's ID, read with HashiCorp's HCL parser (the CLI's output does not repeat it). */
async function jobIdOf(hcl: string): Promise<string> {
  let doc: Record<string, unknown>;
  try {
    doc = (await parseHcl('job.nomad.hcl', hcl)) as Record<string, unknown>;
  } catch (err) {
    throw new NomadError('rejected', `the job file is not valid HCL: ${(err as Error).message}`, 400, { cause: err });
  }
  const jobs = Object.keys((doc.job as Record<string, unknown> | undefined) ?? {});
  if (jobs.length !== 1) throw new NomadError('rejected', `the job file must hold exactly one job block, found ${jobs.length}`, 400);
  quoteJobId(jobs[0]!);
  return jobs[0]!;
}

export function createSshNomad(opts: SshNomadOptions): SshNomadPort {
  const maxChannels = opts.maxChannels ?? 6;
  if (maxChannels >= 10) throw new RangeError(`maxChannels ${maxChannels} must stay below OpenSSH's MaxSessions (10)`);
  const connection = new SshConnection({ ...opts, maxChannels });
  const commands = new NomadCommands({ nomadPath: opts.nomadPath, tokenFile: opts.tokenFile, namespace: opts.namespace, region: opts.region });
  const timeoutMs = opts.commandTimeoutMs ?? 30_000;
  const log = opts.logger;

  /**
   * Runs one CLI command. A connection that drops mid-command is retried once on a fresh
   * connection: every command here is idempotent (job run with the same job ID updates the
   * same job, it never makes a second one) — except `alloc restart`, which passes
   * `retryOnDrop: false`: run twice, it would reboot the VM twice.
   */
  async function run(command: string, what: string, stdin?: string, opts: { retryOnDrop?: boolean } = {}): Promise<ExecResult> {
    for (let attempt = 0; ; attempt++) {
      let res: ExecResult;
      try {
        res = await connection.exec(command, { stdin, timeoutMs });
      } catch (err) {
        if (err instanceof SshError && err.kind === 'dropped' && attempt === 0 && opts.retryOnDrop !== false) {
          log?.warn({ what }, 'SSH connection dropped during a command; retrying once');
          continue;
        }
        throw toNomadError(err);
      }
      // `operator api -verbose` echoes the request headers, the token among them: never keep them.
      res = { ...res, stderr: redactRequestHeaders(res.stderr) };
      if (res.code !== 0) throw errorForExit(res.code, res.stderr, what);
      // Successful commands still print hints ("==> View this job in the Web UI") on stderr.
      if (res.stderr.trim()) log?.debug({ what, stderr: res.stderr.trim().slice(0, 500) }, 'nomad CLI hint');
      return res;
    }
  }

  /** GET through `nomad operator api` (the CLI's only way to read logs by offset). */
  async function apiGet(path: string, what: string): Promise<Buffer> {
    const res = await run(commands.apiGet(path), what);
    const { status, stderr } = parseVerbose(res.stderr);
    if (status === undefined) throw new NomadError('server_error', `${what}: nomad operator api printed no HTTP status: ${stderr.slice(0, 300)}`);
    if (status !== 200) throw errorForStatus(status, res.stdout.toString('utf8'), what);
    return res.stdout;
  }

  async function inspect(jobId: string, foreign = false): Promise<ReturnType<typeof parseJob> | null> {
    try {
      const res = await run(commands.inspect(jobId, { foreign }), `nomad job inspect ${jobId}`);
      return parseJob(res.stdout.toString('utf8'));
    } catch (err) {
      if (err instanceof NomadError && err.code === 'not_found') return null;
      throw err;
    }
  }

  return {
    connection,
    commands,
    stats: () => connection.stats(),

    async submitJob(hcl: string): Promise<SubmitResult> {
      const jobId = await jobIdOf(hcl);
      const res = await run(commands.run(), `nomad job run (${jobId})`, hcl);
      return { jobId, evalId: parseEvalId(res.stdout.toString('utf8')) };
    },

    async getJob(jobId: string): Promise<JobInfo | null> {
      return (await inspect(jobId))?.info ?? null;
    },

    async listAllocations(jobId: string): Promise<AllocationInfo[]> {
      try {
        const res = await run(commands.allocs(jobId), `nomad job allocs ${jobId}`);
        return parseAllocations(res.stdout.toString('utf8'));
      } catch (err) {
        // Like the HTTP API: a job with no allocations, or none at all, lists nothing.
        if (err instanceof NomadError && err.code === 'not_found') return [];
        throw err;
      }
    },

    async readLogs(allocId: string, task: string, offset: number): Promise<LogChunk> {
      const data = await apiGet(commands.logsPath(allocId, task, offset), `logs of ${allocId}/${task}`);
      return { data, nextOffset: offset + data.length };
    },

    async readLogTail(allocId: string, task: string, maxBytes: number): Promise<Buffer> {
      return (await run(commands.logsTail(allocId, task, maxBytes), `nomad alloc logs ${allocId} ${task}`)).stdout;
    },

    async restartAllocation(allocId: string, task?: string): Promise<void> {
      await run(commands.restart(allocId, task), `nomad alloc restart ${allocId}${task === undefined ? '' : ` ${task}`}`, undefined, { retryOnDrop: false });
    },

    async stopJob(jobId: string, stopOpts: StopJobOptions = {}): Promise<void> {
      try {
        await run(commands.stop(jobId, { purge: stopOpts.purge ?? true }), `nomad job stop ${jobId}`);
      } catch (err) {
        if (err instanceof NomadError && err.code === 'not_found') return;
        throw err;
      }
    },

    async listJobs(): Promise<JobSummary[]> {
      const list = parseJobList((await apiGet('/v1/jobs', 'the job list')).toString('utf8'));
      const jobs = await Promise.all(
        list.map(async ({ id }) => {
          if (!isForeignJobIdSafe(id)) {
            log?.warn({ jobId: id }, 'job ID has characters vmbot will not put on a command line; skipped');
            return null;
          }
          // Purged between the list and the inspect: simply gone.
          return (await inspect(id, true))?.summary ?? null;
        }),
      );
      return jobs.filter((j): j is JobSummary => j !== null);
    },

    close: () => connection.close(),
  };
}
