// Reads what the `nomad` CLI prints: `-json` output where the CLI offers it, the evaluation
// ID from `job run`'s text, the status line of `operator api -verbose`, and stderr on failure.
import { NomadError, type AllocationInfo, type JobInfo, type JobSummary, type TaskState } from '../port.js';
import { TOKEN_FILE_EXIT } from './commands.js';

type Json = Record<string, unknown>;

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new NomadError('server_error', `the nomad CLI printed something that is not JSON for ${what}: ${text.slice(0, 200)}`, undefined, { cause: err });
  }
}

const str = (v: unknown, fallback = ''): string => (typeof v === 'string' ? v : fallback);
const num = (v: unknown): number => (typeof v === 'number' ? v : 0);
const obj = (v: unknown): Json => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : {});
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
/** Nomad times are Unix nanoseconds. */
const nsToMs = (v: unknown): number => Math.floor(num(v) / 1e6);

function stringRecord(v: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, val] of Object.entries(obj(v))) if (typeof val === 'string') out[k] = val;
  return out;
}

/** `job run -detach` prints "Evaluation ID: <uuid>" on stdout (hints may follow). */
export function parseEvalId(stdout: string): string {
  const m = /^Evaluation ID:\s*([0-9a-f-]{36})\s*$/m.exec(stdout);
  if (!m) throw new NomadError('server_error', `nomad job run did not print an evaluation ID: ${stdout.trim().slice(0, 200)}`);
  return m[1]!;
}

function taskState(v: unknown): TaskState {
  const s = obj(v);
  return {
    state: str(s.State, 'pending'),
    failed: s.Failed === true,
    events: arr(s.Events).map((e) => {
      const ev = obj(e);
      return { type: str(ev.Type), message: str(ev.DisplayMessage) || str(ev.Message) || str(ev.DriverError), time: nsToMs(ev.Time) };
    }),
  };
}

/** `nomad job allocs -json JOB`: AllocationListStubs; returned newest first by CreateIndex. */
export function parseAllocations(stdout: string): AllocationInfo[] {
  const list = parseJson(stdout.trim() || '[]', 'job allocs');
  const allocs = arr(list).map((a): AllocationInfo => {
    const x = obj(a);
    const states: Record<string, TaskState> = {};
    for (const [name, st] of Object.entries(obj(x.TaskStates))) states[name] = taskState(st);
    return {
      id: str(x.ID),
      jobId: str(x.JobID),
      taskGroup: str(x.TaskGroup),
      clientStatus: str(x.ClientStatus, 'unknown'),
      desiredStatus: str(x.DesiredStatus, 'run'),
      createIndex: num(x.CreateIndex),
      createTime: nsToMs(x.CreateTime),
      nextAllocation: str(x.NextAllocation) || null,
      taskStates: states,
    };
  });
  return allocs.sort((a, b) => b.createIndex - a.createIndex);
}

/** The `args` of every qemu task of a job, flattened. */
function qemuArgsOf(job: Json): string[] {
  const args: string[] = [];
  for (const group of arr(job.TaskGroups)) {
    for (const task of arr(obj(group).Tasks)) {
      const t = obj(task);
      if (t.Driver !== 'qemu') continue;
      for (const a of arr(obj(t.Config).args)) if (typeof a === 'string') args.push(a);
    }
  }
  return args;
}

/** `nomad job inspect -json JOB`: the job itself (older CLIs wrap it as {"Job": ...}). */
export function parseJob(stdout: string): { info: JobInfo; summary: JobSummary } {
  let job = obj(parseJson(stdout, 'job inspect'));
  if (job.Job && !job.ID) job = obj(job.Job);
  const info: JobInfo = { id: str(job.ID), status: str(job.Status), stop: job.Stop === true, meta: stringRecord(job.Meta) };
  return { info, summary: { id: info.id, status: info.status, meta: info.meta, qemuArgs: qemuArgsOf(job) } };
}

/** `/v1/jobs` through `operator api`: the IDs of every job. */
export function parseJobList(body: string): Array<{ id: string; status: string }> {
  return arr(parseJson(body, 'the job list')).map((j) => ({ id: str(obj(j).ID), status: str(obj(j).Status) }));
}

/**
 * `operator api -verbose` writes the request and response headers to stderr. The request
 * headers include "> X-Nomad-Token: ..." — dropped here so it can never reach a log or error.
 */
export function parseVerbose(stderr: string): { status: number | undefined; stderr: string } {
  const kept: string[] = [];
  let status: number | undefined;
  for (const line of stderr.split(/\r?\n/)) {
    const m = /^< HTTP\/[\d.]+ (\d{3})/.exec(line);
    if (m) status = Number(m[1]);
    if (/^[<>*] /.test(line)) continue;
    kept.push(line);
  }
  return { status, stderr: kept.join('\n').trim() };
}

/** Drops `operator api -verbose`'s request-header lines ("> X-Nomad-Token: ...") from any stderr. */
export function redactRequestHeaders(stderr: string): string {
  return stderr
    .split(/\r?\n/)
    .filter((line) => !/^> /.test(line))
    .join('\n');
}

/** Maps an HTTP status seen through `operator api` to the port's error codes. */
export function errorForStatus(status: number, body: string, what: string): NomadError {
  const text = body.trim().slice(0, 300);
  if (status === 404 && /not started yet/i.test(text)) return new NomadError('task_not_started', `${what}: ${text}`, status);
  if (status === 404) return new NomadError('not_found', `${what}: ${text || 'not found'}`, status);
  if (status === 401 || status === 403) return new NomadError('forbidden', `${what}: the Nomad ACL token was refused (${text}); check the token file on the SSH host`, status);
  if (status >= 500) return new NomadError('server_error', `${what}: Nomad answered ${status}: ${text}`, status);
  return new NomadError('rejected', `${what}: Nomad answered ${status}: ${text}`, status);
}

/** A non-zero exit of the `nomad` CLI, mapped from its stderr (the CLI has no error codes). */
export function errorForExit(code: number | null, stderr: string, what: string): NomadError {
  const text = stderr.trim().slice(0, 1000);
  const detail = `${what} failed (exit ${code ?? 'signal'}): ${text || '(no output)'}`;
  if (code === 127 || /nomad: (command )?not found|No such file or directory.*nomad/i.test(text)) {
    return new NomadError('unreachable', `the nomad CLI was not found on the SSH host (exit ${code}): install it or set nomad.ssh.nomadPath — ${text}`);
  }
  if (code === TOKEN_FILE_EXIT && /vmbot: cannot read the Nomad token file/.test(text)) {
    return new NomadError('forbidden', `${text} (check nomad.ssh.tokenFile and its permissions on the SSH host)`);
  }
  if (/not started yet/i.test(text)) return new NomadError('task_not_started', detail, 404);
  if (/Task not running/i.test(text)) return new NomadError('rejected', `${what}: the task is not running (a stopped or restarting VM cannot be restarted): ${text}`, 400);
  if (/Could not find task/i.test(text)) return new NomadError('rejected', detail, 400);
  if (/Permission denied|ACL token not found|Unexpected response code: 40[13]/i.test(text)) return new NomadError('forbidden', detail, 403);
  if (/No (job|allocation)\(s\) with prefix or (id|ID)|not found/i.test(text)) return new NomadError('not_found', detail, 404);
  if (/connection refused|dial tcp|no such host|i\/o timeout|context deadline exceeded|Error querying/i.test(text)) {
    return new NomadError('unreachable', `Nomad is unreachable from the SSH host (check NOMAD_ADDR there and that the agent runs): ${detail}`);
  }
  if (/Error getting job struct|Error parsing|Failed to parse|Unexpected response code: 4\d\d|error(s)? occurred|Validation failed/i.test(text)) {
    return new NomadError('rejected', detail, 400);
  }
  return new NomadError('server_error', detail);
}
