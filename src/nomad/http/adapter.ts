// The `http` adapter of the Nomad port: Nomad's HTTP API, over node:http(s). Replies
// are checked with zod before they reach the workflow; Nomad's errors become NomadError
// codes (src/nomad/port.ts).
import { z } from 'zod';
import { NomadError, type AllocationInfo, type JobInfo, type JobSummary, type LogChunk, type NomadPort, type StopJobOptions, type SubmitResult, type TaskState } from '../port.js';
import { NomadTransport, type Reply, type RequestSpec, type TransportOptions } from './transport.js';
import { Limit } from '../../domain/limit.js';

/**
 * The transport's options, and the name of the environment variable the token came from
 * (http.tokenEnv, default NOMAD_TOKEN): a 403 tells the admin which one to check.
 */
export type HttpNomadOptions = TransportOptions & { tokenVariable?: string };

const meta = z.record(z.string(), z.string()).nullish().transform((m) => m ?? {});

const parsedJobSchema = z.looseObject({ ID: z.string().min(1) });
const registerSchema = z.object({ EvalID: z.string() });
const jobSchema = z.object({
  ID: z.string(),
  Status: z.string().default(''),
  Stop: z.boolean().default(false),
  Meta: meta,
  TaskGroups: z
    .array(z.object({ Tasks: z.array(z.object({ Driver: z.string().default(''), Config: z.record(z.string(), z.unknown()).nullish() })).nullish() }))
    .nullish(),
});
const eventSchema = z.object({
  Type: z.string(),
  Time: z.number(),
  DisplayMessage: z.string().default(''),
  Message: z.string().default(''),
  DriverError: z.string().default(''),
});
const taskStateSchema = z.object({ State: z.string(), Failed: z.boolean().default(false), Events: z.array(eventSchema).nullish() });
const allocSchema = z.object({
  ID: z.string(),
  JobID: z.string(),
  TaskGroup: z.string(),
  ClientStatus: z.string(),
  DesiredStatus: z.string(),
  CreateIndex: z.number(),
  CreateTime: z.number(),
  NextAllocation: z.string().nullish(),
  TaskStates: z.record(z.string(), taskStateSchema).nullish(),
});
const jobStubSchema = z.object({ ID: z.string() });

/** readLogTail's size: a positive safe integer (Nomad reads it as an int64 offset). */
function checkTailSize(maxBytes: number): void {
  if (!Number.isSafeInteger(maxBytes) || maxBytes <= 0) throw new RangeError(`log tail size must be a positive integer, got ${maxBytes}`);
}

/** How many job reads listJobs keeps in flight. */
const LIST_CONCURRENCY = 8;

function decode<T>(schema: z.ZodType<T>, reply: Reply, what: string): T {
  let json: unknown;
  try {
    json = JSON.parse(reply.body.toString('utf8'));
  } catch {
    throw new NomadError('server_error', `Nomad's answer to ${what} is not JSON`, reply.status);
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) throw new NomadError('server_error', `Nomad's answer to ${what} has an unexpected shape: ${parsed.error.issues[0]?.message ?? ''}`, reply.status);
  return parsed.data;
}

/** Maps a non-2xx reply to a NomadError (5xx never gets here: the transport retried them). */
function replyError(reply: Reply, what: string, tokenVariable: string): NomadError {
  const text = reply.body.toString('utf8').trim();
  if (reply.status === 401 || reply.status === 403) return new NomadError('forbidden', `Nomad refused the ACL token for ${what} (${text || reply.status}): check ${tokenVariable}`, reply.status);
  if (reply.status === 404) {
    if (/not started/i.test(text)) return new NomadError('task_not_started', text, 404);
    return new NomadError('not_found', `${what}: ${text || 'not found'}`, 404);
  }
  return new NomadError('rejected', text || `Nomad refused ${what} (${reply.status})`, reply.status);
}

const nsToMs = (ns: number) => Math.floor(ns / 1_000_000);

function taskState(state: z.infer<typeof taskStateSchema>): TaskState {
  return {
    state: state.State,
    failed: state.Failed,
    events: (state.Events ?? []).map((e) => ({ type: e.Type, message: e.DisplayMessage || e.Message || e.DriverError, time: nsToMs(e.Time) })),
  };
}

function allocation(stub: z.infer<typeof allocSchema>): AllocationInfo {
  return {
    id: stub.ID,
    jobId: stub.JobID,
    taskGroup: stub.TaskGroup,
    clientStatus: stub.ClientStatus,
    desiredStatus: stub.DesiredStatus,
    createIndex: stub.CreateIndex,
    createTime: nsToMs(stub.CreateTime),
    nextAllocation: stub.NextAllocation || null,
    taskStates: Object.fromEntries(Object.entries(stub.TaskStates ?? {}).map(([name, s]) => [name, taskState(s)])),
  };
}

function qemuArgs(job: z.infer<typeof jobSchema>): string[] {
  const args: string[] = [];
  for (const tg of job.TaskGroups ?? []) {
    for (const task of tg.Tasks ?? []) {
      const list = task.Driver === 'qemu' ? task.Config?.args : undefined;
      if (Array.isArray(list)) args.push(...list.filter((a): a is string => typeof a === 'string'));
    }
  }
  return args;
}

export function createHttpNomad(opts: HttpNomadOptions): NomadPort {
  const transport = new NomadTransport(opts);
  const jobPath = (jobId: string) => `/v1/job/${encodeURIComponent(jobId)}`;

  async function call(spec: RequestSpec, what: string): Promise<Reply> {
    const reply = await transport.request(spec);
    if (reply.status >= 200 && reply.status < 300) return reply;
    throw replyError(reply, what, opts.tokenVariable ?? 'NOMAD_TOKEN');
  }

  async function readJob(jobId: string): Promise<z.infer<typeof jobSchema> | null> {
    try {
      return decode(jobSchema, await call({ method: 'GET', path: jobPath(jobId) }, `job ${jobId}`), `job ${jobId}`);
    } catch (err) {
      if (err instanceof NomadError && err.code === 'not_found') return null;
      throw err;
    }
  }

  return {
    async submitJob(hcl: string): Promise<SubmitResult> {
      const parsed = decode(parsedJobSchema, await call({ method: 'POST', path: '/v1/jobs/parse', json: { JobHCL: hcl, Canonicalize: true } }, 'the job file'), 'job parse');
      // Canonicalize fills in Namespace "default" (and the agent's region) when the job file
      // names none: the cluster's configured namespace/region must win over those.
      const job = { ...parsed, ...(opts.namespace ? { Namespace: opts.namespace } : {}), ...(opts.region ? { Region: opts.region } : {}) };
      const registered = decode(registerSchema, await call({ method: 'POST', path: '/v1/jobs', json: { Job: job } }, `job ${parsed.ID}`), 'job register');
      return { jobId: parsed.ID, evalId: registered.EvalID };
    },

    async getJob(jobId: string): Promise<JobInfo | null> {
      const job = await readJob(jobId);
      return job && { id: job.ID, status: job.Status, stop: job.Stop, meta: job.Meta };
    },

    async listAllocations(jobId: string): Promise<AllocationInfo[]> {
      let reply: Reply;
      try {
        reply = await call({ method: 'GET', path: `${jobPath(jobId)}/allocations` }, `allocations of ${jobId}`);
      } catch (err) {
        if (err instanceof NomadError && err.code === 'not_found') return [];
        throw err;
      }
      const stubs = decode(z.array(allocSchema).nullable(), reply, `allocations of ${jobId}`) ?? [];
      // The HTTP API orders by ID; the port promises newest first.
      return stubs.map(allocation).sort((a, b) => b.createIndex - a.createIndex);
    },

    async readLogs(allocId: string, task: string, offset: number): Promise<LogChunk> {
      if (!Number.isSafeInteger(offset) || offset < 0) throw new RangeError(`log offset must be a non-negative integer, got ${offset}`);
      const reply = await call(
        { method: 'GET', path: `/v1/client/fs/logs/${encodeURIComponent(allocId)}`, query: { task, type: 'stdout', origin: 'start', offset: String(offset), plain: 'true' } },
        `logs of allocation ${allocId}`,
      );
      return { data: reply.body, nextOffset: offset + reply.body.length };
    },

    async readLogTail(allocId: string, task: string, maxBytes: number): Promise<Buffer> {
      checkTailSize(maxBytes);
      // origin=end counts the offset back from the end of the file.
      const reply = await call(
        { method: 'GET', path: `/v1/client/fs/logs/${encodeURIComponent(allocId)}`, query: { task, type: 'stdout', origin: 'end', offset: String(maxBytes), plain: 'true' } },
        `logs of allocation ${allocId}`,
      );
      return reply.body;
    },

    async restartAllocation(allocId: string, task?: string): Promise<void> {
      // Needs the alloc-lifecycle capability in the token's namespace (docs/nomad-http.md).
      const what = `restart of allocation ${allocId}`;
      try {
        await call({ method: 'POST', path: `/v1/client/allocation/${encodeURIComponent(allocId)}/restart`, json: task === undefined ? {} : { TaskName: task }, once: true }, what);
      } catch (err) {
        // The client answers 500 "Task not running": Nomad is fine, the request is not.
        if (err instanceof NomadError && err.code === 'server_error' && /Task not running|Could not find task/i.test(err.message)) {
          throw new NomadError('rejected', `${what}: Nomad refused it (${err.message}): a stopped or restarting VM cannot be restarted`, err.status, { cause: err });
        }
        throw err;
      }
    },

    async stopJob(jobId: string, stopOpts: StopJobOptions = {}): Promise<void> {
      const purge = stopOpts.purge ?? true;
      try {
        await call({ method: 'DELETE', path: jobPath(jobId), ...(purge ? { query: { purge: 'true' } } : {}) }, `job ${jobId}`);
      } catch (err) {
        if (err instanceof NomadError && err.code === 'not_found') return; // already gone
        throw err;
      }
    },

    async listJobs(): Promise<JobSummary[]> {
      const stubs = decode(z.array(jobStubSchema).nullable(), await call({ method: 'GET', path: '/v1/jobs' }, 'the job list'), 'job list') ?? [];
      // The list has no task config, so each job is read; a few at a time.
      const reads = new Limit(LIST_CONCURRENCY);
      const out = await Promise.all(
        stubs.map((stub) =>
          reads.run(async (): Promise<JobSummary | null> => {
            const job = await readJob(stub.ID);
            return job ? { id: job.ID, status: job.Status, meta: job.Meta, qemuArgs: qemuArgs(job) } : null;
          }),
        ),
      );
      return out.filter((j): j is JobSummary => j !== null);
    },

    async close(): Promise<void> {
      transport.close();
    },
  };
}
