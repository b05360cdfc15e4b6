// POST /v1/jobs: decode the {"Job": ...} body like Nomad's JSON decoder (wrong types are
// refused) and validate the job like structs.Job.Validate where it matters to vmbot.
// Errors are worded and nested as Nomad's go-multierror prints them.
import type { NomadJob, NomadTask, NomadTaskGroup } from './types.js';

/** A list of errors printed the way hashicorp/go-multierror does ("1 error occurred:\n\t* ..."). */
export class MultiError {
  readonly errors: (string | MultiError)[] = [];
  add(error: string | MultiError | null): void {
    if (error !== null) this.errors.push(error);
  }
  get empty(): boolean {
    return this.errors.length === 0;
  }
  orNull(): MultiError | null {
    return this.empty ? null : this;
  }
  toString(): string {
    const points = this.errors.map((e) => `* ${String(e)}`);
    if (points.length === 1) return `1 error occurred:\n\t${points[0]}\n\n`;
    return `${points.length} errors occurred:\n\t${points.join('\n\t')}\n\n`;
  }
}

export class JobDecodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'JobDecodeError';
  }
}

const MAX_JOB_ID = 128;
const MIN_CPU = 1;
const MIN_MEMORY_MB = 10;
/** Arguments the qemu driver's config spec requires (hclspec "image_path" is required). */
const QEMU_REQUIRED = ['image_path'];
const QEMU_KNOWN = new Set(['image_path', 'drive_interface', 'accelerator', 'graceful_shutdown', 'guest_agent', 'args', 'port_map', 'emulator']);

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value === 'number' ? 'number' : typeof value === 'boolean' ? 'bool' : typeof value;
}

function decodeFail(value: unknown, field: string, goType: string): never {
  throw new JobDecodeError(`failed to decode request: json: cannot unmarshal ${typeName(value)} into Go struct field ${field} of type ${goType}`);
}

function optString(obj: Record<string, unknown>, key: string, field: string): void {
  if (obj[key] !== undefined && obj[key] !== null && typeof obj[key] !== 'string') decodeFail(obj[key], `${field}.${key}`, 'string');
}
function optNumber(obj: Record<string, unknown>, key: string, field: string): void {
  if (obj[key] !== undefined && obj[key] !== null && (typeof obj[key] !== 'number' || !Number.isInteger(obj[key]))) decodeFail(obj[key], `${field}.${key}`, 'int');
}
function optStringMap(obj: Record<string, unknown>, key: string, field: string): void {
  const value = obj[key];
  if (value === undefined || value === null) return;
  if (typeof value !== 'object' || Array.isArray(value)) decodeFail(value, `${field}.${key}`, 'map[string]string');
  for (const v of Object.values(value as Record<string, unknown>)) if (typeof v !== 'string') decodeFail(v, `${field}.${key}`, 'string');
}
function optArray(obj: Record<string, unknown>, key: string, field: string, goType: string): unknown[] {
  const value = obj[key];
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) decodeFail(value, `${field}.${key}`, goType);
  return value;
}
function asObject(value: unknown, field: string, goType: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) decodeFail(value, field, goType);
  return value as Record<string, unknown>;
}

/** The body's Job, with its types checked like Go's json.Unmarshal into api.Job. */
export function decodeJob(body: unknown): NomadJob {
  const root = asObject(body, 'JobRegisterRequest', 'api.JobRegisterRequest');
  if (root.Job === undefined || root.Job === null) throw new JobDecodeError('Job must be specified');
  const job = asObject(root.Job, 'JobRegisterRequest.Job', 'api.Job');
  for (const key of ['ID', 'Name', 'Namespace', 'Region', 'Type']) optString(job, key, 'Job');
  optNumber(job, 'Priority', 'Job');
  optStringMap(job, 'Meta', 'Job');
  for (const dc of optArray(job, 'Datacenters', 'Job', '[]string')) if (typeof dc !== 'string') decodeFail(dc, 'Job.Datacenters', 'string');
  for (const tgValue of optArray(job, 'TaskGroups', 'Job', '[]*api.TaskGroup')) {
    const tg = asObject(tgValue, 'Job.TaskGroups', 'api.TaskGroup');
    optString(tg, 'Name', 'TaskGroup');
    optNumber(tg, 'Count', 'TaskGroup');
    optStringMap(tg, 'Meta', 'TaskGroup');
    for (const taskValue of optArray(tg, 'Tasks', 'TaskGroup', '[]*api.Task')) {
      const task = asObject(taskValue, 'TaskGroup.Tasks', 'api.Task');
      optString(task, 'Name', 'Task');
      optString(task, 'Driver', 'Task');
      optStringMap(task, 'Meta', 'Task');
      optStringMap(task, 'Env', 'Task');
      if (task.Config !== undefined && task.Config !== null) asObject(task.Config, 'Task.Config', 'map[string]interface {}');
      if (task.Resources !== undefined && task.Resources !== null) {
        const res = asObject(task.Resources, 'Task.Resources', 'api.Resources');
        optNumber(res, 'CPU', 'Resources');
        optNumber(res, 'MemoryMB', 'Resources');
      }
      for (const a of optArray(task, 'Artifacts', 'Task', '[]*api.TaskArtifact')) optString(asObject(a, 'Task.Artifacts', 'api.TaskArtifact'), 'GetterSource', 'TaskArtifact');
    }
  }
  return job as unknown as NomadJob;
}

/** What the HTTP agent's api.Job.Canonicalize fills in before the server validates. */
export function canonicalizeJob(job: NomadJob): NomadJob {
  const out: NomadJob = { ...job };
  out.Name ||= out.ID;
  out.Namespace ||= 'default';
  out.Region ||= 'global';
  out.Type ||= 'service';
  out.Priority ??= 50;
  out.TaskGroups = (job.TaskGroups ?? []).map((tg) => ({
    ...tg,
    Count: tg.Count ?? 1,
    Tasks: (tg.Tasks ?? []).map((t) => ({ ...t, Resources: { CPU: t.Resources?.CPU ?? 100, MemoryMB: t.Resources?.MemoryMB ?? 300 } })),
  }));
  return out;
}

function validateTask(task: NomadTask): MultiError | null {
  const errs = new MultiError();
  if (!task.Name) errs.add('Missing task name');
  else if (task.Name.includes('/')) errs.add('Task name cannot include slashes');
  if (!task.Driver) errs.add('Missing task driver');
  const res = task.Resources;
  if (!res) errs.add('Missing task resources');
  else {
    const resErrs = new MultiError();
    if ((res.CPU ?? 0) < MIN_CPU) resErrs.add(`minimum CPU value is ${MIN_CPU}; got ${res.CPU ?? 0}`);
    if ((res.MemoryMB ?? 0) < MIN_MEMORY_MB) resErrs.add(`minimum MemoryMB value is ${MIN_MEMORY_MB}; got ${res.MemoryMB ?? 0}`);
    if (!resErrs.empty) errs.add(resErrs);
  }
  if (task.Driver === 'qemu') {
    const config = task.Config ?? {};
    for (const key of QEMU_REQUIRED) {
      if (typeof config[key] !== 'string' || config[key] === '') {
        errs.add(`failed to parse config: Missing required argument: The argument "${key}" is required, but no definition was found.`);
      }
    }
    for (const key of Object.keys(config)) {
      if (!QEMU_KNOWN.has(key)) errs.add(`failed to parse config: Unsupported argument: An argument named "${key}" is not expected here.`);
    }
    if (config.args !== undefined && (!Array.isArray(config.args) || config.args.some((a) => typeof a !== 'string'))) {
      errs.add('failed to parse config: Incorrect attribute value type: Inappropriate value for attribute "args": list of string required.');
    }
  }
  for (const [i, a] of (task.Artifacts ?? []).entries()) {
    if (!a.GetterSource) errs.add(`Artifact ${i + 1} validation failed: 1 error occurred:\n\t* source must be specified\n\n`);
  }
  return errs.orNull();
}

function validateGroup(tg: NomadTaskGroup): MultiError | null {
  const errs = new MultiError();
  if ((tg.Count ?? 1) < 0) errs.add("Task group count can't be negative");
  const tasks = tg.Tasks ?? [];
  if (tasks.length === 0) errs.add('Missing tasks for task group');
  const seen = new Map<string, number>();
  tasks.forEach((task, i) => {
    if (!task.Name) errs.add(`Task ${i + 1} missing name`);
    else if (seen.has(task.Name)) errs.add(`Task ${i + 1} redefines '${task.Name}' from task ${seen.get(task.Name)! + 1}`);
    else seen.set(task.Name, i);
  });
  for (const task of tasks) {
    const taskErrs = validateTask(task);
    if (taskErrs) errs.add(`Task ${task.Name} validation failed: ${taskErrs}`);
  }
  return errs.orNull();
}

/** structs.Job.Validate, the parts a VM job can get wrong. */
export function validateJob(job: NomadJob): MultiError | null {
  const errs = new MultiError();
  if (!job.ID) errs.add('Missing job ID');
  else if (job.ID.includes(' ')) errs.add('Job ID contains a space');
  else if (job.ID.includes('\0')) errs.add('Job ID contains a null character');
  else if (job.ID.length > MAX_JOB_ID) errs.add(`Job ID must be at most ${MAX_JOB_ID} characters long`);
  if (!job.Name) errs.add('Missing job name');
  if (!['service', 'batch', 'system', 'sysbatch'].includes(job.Type ?? '')) errs.add(`Invalid job type: "${job.Type}"`);
  if ((job.Priority ?? 50) < 1 || (job.Priority ?? 50) > 100) errs.add('Job priority must be between [1, 100]');
  if (!job.Datacenters || job.Datacenters.length === 0) errs.add('Missing job datacenters');
  else if (job.Datacenters.some((dc) => dc === '')) errs.add('Job datacenter must be non-empty string');
  const groups = job.TaskGroups ?? [];
  if (groups.length === 0) errs.add('Missing job task groups');
  const seen = new Map<string, number>();
  groups.forEach((tg, i) => {
    if (!tg.Name) errs.add(`Job task group ${i + 1} missing name`);
    else if (seen.has(tg.Name)) errs.add(`Job task group ${i + 1} redefines '${tg.Name}' from group ${seen.get(tg.Name)! + 1}`);
    else seen.set(tg.Name, i);
  });
  for (const tg of groups) {
    const groupErrs = validateGroup(tg);
    if (groupErrs) errs.add(`Task group ${tg.Name} validation failed: ${groupErrs}`);
  }
  return errs.orNull();
}
