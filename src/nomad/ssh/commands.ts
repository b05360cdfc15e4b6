// Builds the remote shell command lines. The rule (DESIGN §4): the only values on a command
// line are job IDs (validated RFC 1123 names) and allocation IDs (validated UUIDs), each
// single-quoted; job files go on stdin. The ACL token never appears on a command line: the
// remote shell reads it from a file only the SSH user can read (docs/ssh.md).
import { NomadError } from '../port.js';

/** vmbot's own job IDs: an RFC 1123 label (the prefix is part of it). */
const JOB_ID_RE = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
/** Hand-made jobs (pool sync reads them): letters, digits, dot, dash, underscore only. */
const FOREIGN_JOB_ID_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const ALLOC_ID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const TASK_RE = /^[A-Za-z0-9_-]{1,128}$/;

/** POSIX single quoting; the caller has already validated the value. */
export function shQuote(value: string): string {
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

export function quoteJobId(jobId: string, opts: { foreign?: boolean } = {}): string {
  const re = opts.foreign ? FOREIGN_JOB_ID_RE : JOB_ID_RE;
  if (!re.test(jobId)) {
    throw new NomadError('rejected', `job ID ${JSON.stringify(jobId)} is not a valid name (lower-case letters, digits and dashes, at most 63): vmbot will not put it on a command line`);
  }
  return shQuote(jobId);
}

export function isForeignJobIdSafe(jobId: string): boolean {
  return FOREIGN_JOB_ID_RE.test(jobId);
}

export function checkAllocId(allocId: string): string {
  if (!ALLOC_ID_RE.test(allocId)) throw new NomadError('rejected', `allocation ID ${JSON.stringify(allocId)} is not a UUID`);
  return allocId;
}

export function checkTask(task: string): string {
  if (!TASK_RE.test(task)) throw new NomadError('rejected', `task name ${JSON.stringify(task)} is not valid`);
  return task;
}

/** Exit status the token preamble uses when the token file cannot be read. */
export const TOKEN_FILE_EXIT = 3;

/** `~/x` → "$HOME"/'x' so the remote shell expands it; anything else is quoted as is. */
function remotePath(path: string): string {
  if (path === '~') return '"$HOME"';
  if (path.startsWith('~/')) return `"$HOME"/${shQuote(path.slice(2))}`;
  return shQuote(path);
}

export interface CommandBuilderOptions {
  nomadPath?: string | undefined;
  /** Remote file holding the ACL token; read by the remote shell, never sent by vmbot. */
  tokenFile?: string | undefined;
  /** `-namespace` / `-region` on every nomad command (Nomad's defaults when left out). */
  namespace?: string | undefined;
  region?: string | undefined;
}

/** Namespace and region names (the config checks them; checked again before a command line). */
const SCOPE_RE = /^[A-Za-z0-9_-]{1,128}$/;

export class NomadCommands {
  private readonly nomad: string;
  private readonly preamble: string;
  /** General options, placed after the subcommand (`nomad job run -namespace='x' ...`). */
  private readonly scope: string;

  constructor(opts: CommandBuilderOptions = {}) {
    this.nomad = shQuote(opts.nomadPath ?? 'nomad');
    const flags: string[] = [];
    for (const [flag, value] of [['namespace', opts.namespace], ['region', opts.region]] as const) {
      if (value === undefined) continue;
      if (!SCOPE_RE.test(value)) throw new NomadError('rejected', `Nomad ${flag} ${JSON.stringify(value)} is not a valid name (letters, digits, dashes, underscores): vmbot will not put it on a command line`);
      flags.push(`-${flag}=${shQuote(value)} `);
    }
    this.scope = flags.join('');
    const file = opts.tokenFile;
    this.preamble = file
      ? `NOMAD_TOKEN="$(cat ${remotePath(file)})" || { echo ${shQuote(`vmbot: cannot read the Nomad token file ${file}`)} >&2; exit ${TOKEN_FILE_EXIT}; }; export NOMAD_TOKEN; `
      : '';
  }

  /** `args` starts with the two words of the subcommand ("job run ..."); the general options go right after them. */
  private cli(args: string): string {
    const [, subcommand, rest] = /^(\S+ \S+)(?: (.*))?$/s.exec(args)!;
    return `${this.preamble}exec ${this.nomad} ${subcommand} ${this.scope}${rest ?? ''}`;
  }

  /** Job HCL goes on stdin. */
  run(): string {
    return this.cli('job run -detach -');
  }
  inspect(jobId: string, opts: { foreign?: boolean } = {}): string {
    return this.cli(`job inspect -json ${quoteJobId(jobId, opts)}`);
  }
  allocs(jobId: string): string {
    return this.cli(`job allocs -json ${quoteJobId(jobId)}`);
  }
  /** -purge unless `purge: false` (the job stays registered, stopped). */
  stop(jobId: string, opts: { purge?: boolean } = {}): string {
    return this.cli(['job', 'stop', ...(opts.purge === false ? [] : ['-purge']), '-detach', quoteJobId(jobId)].join(' '));
  }
  /** In-place restart of a running task (or of every running task); needs alloc-lifecycle. */
  restart(allocId: string, task?: string): string {
    return this.cli(['alloc', 'restart', shQuote(checkAllocId(allocId)), ...(task === undefined ? [] : [shQuote(checkTask(task))])].join(' '));
  }
  /** The last `bytes` bytes of a task's stdout, raw on stdout. */
  logsTail(allocId: string, task: string, bytes: number): string {
    if (!Number.isSafeInteger(bytes) || bytes <= 0) throw new NomadError('rejected', `log tail size ${bytes} is not a positive integer`);
    return this.cli(['alloc', 'logs', '-stdout', '-tail', '-c', String(bytes), shQuote(checkAllocId(allocId)), shQuote(checkTask(task))].join(' '));
  }
  /**
   * `operator api` returns 0 whatever the HTTP status and POSTs when stdin is not a terminal:
   * -X GET fixes the method, -verbose prints the status line on stderr for us to read.
   */
  apiGet(path: string): string {
    return this.cli(`operator api -verbose -X GET ${shQuote(path)}`);
  }
  logsPath(allocId: string, task: string, offset: number): string {
    if (!Number.isSafeInteger(offset) || offset < 0) throw new NomadError('rejected', `log offset ${offset} is not a non-negative integer`);
    const q = new URLSearchParams({ task: checkTask(task), type: 'stdout', origin: 'start', offset: String(offset), plain: 'true' });
    return `/v1/client/fs/logs/${checkAllocId(allocId)}?${q.toString()}`;
  }
  /** `vmbot nomad check`: is the CLI there at all? */
  which(): string {
    return `command -v ${this.nomad}`;
  }
}
