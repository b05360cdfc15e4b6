// The simulated cluster's HTTP API (node:http on loopback): routing, ACL, and the fault
// controls (500s, hanging). Blocking queries (?index=) are answered at once with the
// current X-Nomad-Index: the adapters poll, they never block.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { closeHttp, listenHttp } from '../../listen.js';
import type { Logger } from '../../log.js';
import { SimClusterState, defaultDhcp, type RestartRefusal, type SimJobView } from './cluster.js';
import type { SimHostKey } from './hostkeys.js';
import { parseSubnet } from './dhcp.js';
import { JobParseError, parseJobHcl } from './jobspec.js';
import { handleLogs } from './logs.js';
import type { NomadAllocStub } from './types.js';
import { JobDecodeError, canonicalizeJob, decodeJob, validateJob } from './validate.js';

export interface SimOptions {
  /** Task started → cloud-init output (default 2000). */
  bootDelayMs?: number;
  /** Between console chunks (default 50). */
  chunkDelayMs?: number;
  /** Allocation created → task started (default 200). */
  startDelayMs?: number;
  /** Stop requested → allocation complete (default 100). */
  stopDelayMs?: number;
  /** Purged allocation complete → gone (default 200). */
  gcDelayMs?: number;
  /** Heartbeat frames on framed follow streams (default 1000, Nomad's rate). */
  heartbeatMs?: number;
  /** Subnet of the default DHCP (default 10.10.0.0/24). */
  subnet?: string;
  /** The router's answer for a MAC; undefined: no IPv4 lease. Default: static lease by MAC. */
  dhcp?: (mac: string) => string | undefined;
  /** ACL mode: every request must carry X-Nomad-Token with this value. */
  acl?: { token: string };
  host?: string;
  /** 0 (default): any free port. */
  port?: number;
  logger?: Logger;
}

export interface SimControl {
  /** The next task to start (of jobId, or of any job) fails with a "Driver Failure" event. */
  failNextTask(jobId?: string, message?: string): void;
  /** The job's allocation is lost; a new one boots on another node (same MAC, same address, fresh disk). Returns its ID. */
  reschedule(jobId: string): string;
  /** That allocation is lost; its replacement (NextAllocation/PreviousAllocation) boots on another node. Returns its ID. */
  rescheduleAllocation(allocId: string): string;
  /** The node goes down: its live allocations are lost and replaced on other nodes. Returns the replacements' IDs. */
  failNode(name: string): string[];
  /** The node is up again (new placements may use it). */
  restoreNode(name: string): void;
  /** The SSH host keys on that allocation's disk (undefined before the task first booted). */
  hostKeysOf(allocId: string, task?: string): SimHostKey[] | undefined;
  /** Boots of this job (or of every job) print no `init` table, so no address. */
  neverPrintAddress(target: string | true): void;
  /**
   * Boots of this job (or of every job) that start from now on stop in cloud-init's final
   * stage, after its start line and before the host keys (package installs, runcmd still
   * running), until releaseFinalStage.
   */
  holdFinalStage(target: string | true): void;
  /** Ends the hold: held boots print the rest (host keys, "finished", login prompt). Throws when that target is not held. */
  releaseFinalStage(target: string | true): void;
  /** The next `count` requests (or all until 'off') answer 500. */
  failRequests(mode: number | 'always' | 'off'): void;
  /** true: accept connections and never answer (until false or close). */
  hang(on: boolean): void;
  setBootDelay(ms: number): void;
  jobs(): SimJobView[];
  allocations(jobId: string): NomadAllocStub[];
  /** How many times POST /v1/jobs was called for this job ID (accepted or not). */
  registrations(jobId: string): number;
  /** Every stdout byte a task printed so far (test inspection). */
  consoleOf(allocId: string, task?: string): Buffer;
  readonly requestCount: number;
}

export interface SimCluster {
  url: string;
  control: SimControl;
  close(): Promise<void>;
}

const MAX_BODY = 8 * 1024 * 1024;
export const DEFAULT_FAILURE = 'failed to start task: qemu: could not open image: No such file or directory';

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function send(res: ServerResponse, status: number, body: unknown, index?: number): void {
  const headers: Record<string, string> = {};
  if (index !== undefined) Object.assign(headers, { 'X-Nomad-Index': String(index), 'X-Nomad-KnownLeader': 'true', 'X-Nomad-LastContact': '0' });
  if (typeof body === 'string') res.writeHead(status, { ...headers, 'Content-Type': 'text/plain; charset=utf-8' }).end(body);
  else res.writeHead(status, { ...headers, 'Content-Type': 'application/json' }).end(JSON.stringify(body));
}

/** The raw body, refused past MAX_BODY as Nomad's agent does. */
async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY) throw new HttpError(413, 'Request body too large');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function decodeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new HttpError(400, `failed to decode request body: ${(err as Error).message}`);
  }
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  return decodeJson(await readBody(req));
}

/** Like readJson, but an empty body is allowed (undefined), as Go's decoder sees io.EOF. */
async function readOptionalJson(req: IncomingMessage): Promise<unknown> {
  const text = await readBody(req);
  return text.trim() === '' ? undefined : decodeJson(text);
}

/** The body of an allocation restart: {"TaskName"?: string, "AllTasks"?: bool}, decoded like Go's json. */
function restartBody(body: unknown): { task?: string } {
  if (body === undefined || body === null) return {};
  if (typeof body !== 'object' || Array.isArray(body)) throw new HttpError(400, `failed to decode request body: json: cannot unmarshal ${Array.isArray(body) ? 'array' : typeof body} into Go value of type struct { TaskName string; AllTasks bool }`);
  const { TaskName, AllTasks } = body as { TaskName?: unknown; AllTasks?: unknown };
  if (TaskName !== undefined && TaskName !== null && typeof TaskName !== 'string') throw new HttpError(400, `failed to decode request body: json: cannot unmarshal ${typeof TaskName} into Go struct field .TaskName of type string`);
  if (AllTasks !== undefined && AllTasks !== null && typeof AllTasks !== 'boolean') throw new HttpError(400, `failed to decode request body: json: cannot unmarshal ${typeof AllTasks} into Go struct field .AllTasks of type bool`);
  if (TaskName && AllTasks === true) throw new HttpError(400, `task name "${TaskName}" and all tasks must not both be set`);
  return TaskName ? { task: TaskName } : {};
}

/** Nomad's answers to a refused restart: an unknown allocation is a 404; the client's other errors are 500s. */
function restartStatus(refusal: RestartRefusal): number {
  return refusal.reason === 'unknown_allocation' ? 404 : 500;
}

let parserWarm: Promise<void> | undefined;
function warmHclParser(): Promise<void> {
  parserWarm ??= import('@cdktf/hcl2json').then(async ({ parse }) => {
    await parse('warm.hcl', 'job "warm" {}');
  });
  return parserWarm;
}

export async function startSimCluster(opts: SimOptions = {}): Promise<SimCluster> {
  // Loading HashiCorp's parser compiles a Go wasm module and blocks the event loop for a
  // second or more; do it before listening so the first job submitted is not the one that pays.
  await warmHclParser();
  const subnet = parseSubnet(opts.subnet ?? '10.10.0.0/24');
  const state = new SimClusterState({
    subnet,
    dhcp: opts.dhcp ?? defaultDhcp(subnet),
    startDelayMs: opts.startDelayMs ?? 200,
    bootDelayMs: opts.bootDelayMs ?? 2000,
    chunkDelayMs: opts.chunkDelayMs ?? 50,
    stopDelayMs: opts.stopDelayMs ?? 100,
    gcDelayMs: opts.gcDelayMs ?? 200,
  });
  const heartbeatMs = opts.heartbeatMs ?? 1000;
  const log = opts.logger;
  let requests = 0;
  let failures: number | 'always' = 0;
  let hanging = false;
  const held = new Set<ServerResponse>();
  const streams = new Set<ServerResponse>();
  /** POST /v1/jobs calls per job ID, accepted or refused. */
  const registrations = new Map<string, number>();

  async function route(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const method = req.method ?? 'GET';
    const path = url.pathname;
    let m: RegExpExecArray | null;
    if (path === '/v1/jobs/parse') {
      if (method !== 'POST' && method !== 'PUT') throw new HttpError(405, 'Invalid method');
      const body = (await readJson(req)) as { JobHCL?: unknown; Canonicalize?: unknown } | null;
      if (!body || typeof body.JobHCL !== 'string' || body.JobHCL === '') throw new HttpError(400, 'Job spec is empty');
      try {
        return send(res, 200, await parseJobHcl(body.JobHCL, body.Canonicalize === true));
      } catch (err) {
        if (err instanceof JobParseError) throw new HttpError(400, `error parsing: ${err.message}`);
        throw err;
      }
    }
    if (path === '/v1/jobs') {
      if (method === 'GET') return send(res, 200, state.listJobs(), state.currentIndex);
      if (method !== 'POST' && method !== 'PUT') throw new HttpError(405, 'Invalid method');
      const body = await readJson(req);
      const submittedId = (body as { Job?: { ID?: unknown } } | null)?.Job?.ID;
      if (typeof submittedId === 'string') registrations.set(submittedId, (registrations.get(submittedId) ?? 0) + 1);
      let job;
      try {
        job = canonicalizeJob(decodeJob(body));
      } catch (err) {
        if (err instanceof JobDecodeError) throw new HttpError(400, err.message);
        throw err;
      }
      const errors = validateJob(job);
      if (errors) throw new HttpError(400, String(errors));
      return send(res, 200, state.register(job));
    }
    if ((m = /^\/v1\/job\/([^/]+)\/allocations$/.exec(path))) {
      if (method !== 'GET') throw new HttpError(405, 'Invalid method');
      return send(res, 200, state.allocations(decodeURIComponent(m[1]!)), state.currentIndex);
    }
    if ((m = /^\/v1\/job\/([^/]+)$/.exec(path))) {
      const jobId = decodeURIComponent(m[1]!);
      if (method === 'GET') {
        const job = state.getJob(jobId);
        if (!job) throw new HttpError(404, 'job not found');
        return send(res, 200, job, state.currentIndex);
      }
      if (method === 'DELETE') {
        const result = state.deregister(jobId, url.searchParams.get('purge') === 'true');
        if (!result) throw new HttpError(404, 'job not found');
        return send(res, 200, result);
      }
      throw new HttpError(405, 'Invalid method');
    }
    if ((m = /^\/v1\/client\/allocation\/([^/]+)\/restart$/.exec(path))) {
      if (method !== 'POST' && method !== 'PUT') throw new HttpError(405, 'Invalid method');
      const { task } = restartBody(await readOptionalJson(req));
      const refusal = state.restart(decodeURIComponent(m[1]!), task);
      if (refusal) throw new HttpError(restartStatus(refusal), refusal.message);
      return send(res, 200, {});
    }
    if ((m = /^\/v1\/allocation\/([^/]+)$/.exec(path))) {
      if (method !== 'GET') throw new HttpError(405, 'Invalid method');
      const alloc = state.alloc(decodeURIComponent(m[1]!));
      if (!alloc) throw new HttpError(404, 'alloc not found');
      return send(res, 200, structuredClone(alloc.stub), state.currentIndex);
    }
    if ((m = /^\/v1\/client\/fs\/logs\/([^/]+)$/.exec(path))) {
      if (method !== 'GET') throw new HttpError(405, 'Invalid method');
      return handleLogs(state, res, decodeURIComponent(m[1]!), url.searchParams, { heartbeatMs, track: (r) => trackStream(r) });
    }
    if (path === '/v1/status/leader' && method === 'GET') return send(res, 200, '"127.0.0.1:4647"');
    throw new HttpError(404, 'Invalid URL');
  }

  function trackStream(res: ServerResponse): void {
    streams.add(res);
    res.on('close', () => streams.delete(res));
  }

  const server: Server = createServer((req, res) => {
    requests += 1;
    if (hanging) {
      held.add(res);
      res.on('close', () => held.delete(res));
      return;
    }
    if (failures === 'always' || failures > 0) {
      if (failures !== 'always') failures -= 1;
      req.resume();
      return send(res, 500, 'No cluster leader');
    }
    if (opts.acl && req.headers['x-nomad-token'] !== opts.acl.token) {
      req.resume();
      return send(res, 403, 'Permission denied');
    }
    const url = new URL(req.url ?? '/', 'http://sim');
    route(req, res, url).catch((err: unknown) => {
      if (err instanceof HttpError) return send(res, err.status, err.message);
      log?.error({ err, path: url.pathname }, 'simulated Nomad: internal error');
      send(res, 500, `Internal error: ${(err as Error).message}`);
    });
  });

  const url = await listenHttp(server, opts.port ?? 0, opts.host ?? '127.0.0.1', 'simulated Nomad');
  log?.info({ url }, 'simulated Nomad cluster listening');

  const control: SimControl = {
    failNextTask: (jobId, message = DEFAULT_FAILURE) => state.failNextTask(jobId, message),
    reschedule: (jobId) => state.reschedule(jobId),
    rescheduleAllocation: (allocId) => state.rescheduleAllocation(allocId),
    failNode: (name) => state.failNode(name),
    restoreNode: (name) => state.restoreNode(name),
    hostKeysOf: (allocId, task = 'vm') => state.hostKeysOf(allocId, task),
    neverPrintAddress: (target) => state.neverPrintAddress(target),
    holdFinalStage: (target) => state.holdFinalStage(target),
    releaseFinalStage: (target) => state.releaseFinalStage(target),
    failRequests: (mode) => {
      failures = mode === 'off' ? 0 : mode;
    },
    hang: (on) => {
      hanging = on;
    },
    setBootDelay: (ms) => state.setBootDelay(ms),
    jobs: () => state.jobViews(),
    allocations: (jobId) => state.allocations(jobId),
    registrations: (jobId) => registrations.get(jobId) ?? 0,
    consoleOf: (allocId, task = 'vm') => state.alloc(allocId)?.logs.get(task)?.stdout.all() ?? Buffer.alloc(0),
    get requestCount() {
      return requests;
    },
  };

  let closing: Promise<void> | undefined;
  return {
    url,
    control,
    close: () => {
      closing ??= (() => {
        state.close(); // ends timers and every follow stream
        for (const res of streams) res.end();
        return closeHttp(server);
      })();
      return closing;
    },
  };
}
