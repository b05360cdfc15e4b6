// POST /v1/jobs/parse: HCL → Nomad's job JSON. The HCL is parsed by HashiCorp's own
// parser (@cdktf/hcl2json, hclparse compiled to wasm); we then map the blocks vmbot
// and the admins' hand-written jobs use onto Nomad's api.Job shape. Like Nomad's HCL2
// decoder, an argument or block it does not know is an error, not silently dropped.
import type { NomadArtifact, NomadConstraint, NomadJob, NomadNetwork, NomadService, NomadTask, NomadTaskGroup } from './types.js';

export class JobParseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'JobParseError';
  }
}

type Body = Record<string, unknown>;

// Nomad's jobspec keys. Those we convert are mapped below; the others are accepted
// (a valid Nomad job may carry them) and left out of the JSON: the sim has no use for them.
const JOB_KEYS = new Set(['datacenters', 'type', 'priority', 'region', 'namespace', 'meta', 'group', 'constraint', 'affinity', 'spread', 'update', 'periodic', 'parameterized', 'migrate', 'reschedule', 'all_at_once', 'node_pool', 'vault', 'consul', 'ui', 'multiregion', 'name']);
const GROUP_KEYS = new Set(['count', 'network', 'service', 'task', 'constraint', 'affinity', 'spread', 'meta', 'restart', 'reschedule', 'ephemeral_disk', 'update', 'migrate', 'volume', 'shutdown_delay', 'stop_after_client_disconnect', 'max_client_disconnect', 'scaling', 'consul', 'disconnect', 'prevent_reschedule_on_lost']);
const TASK_KEYS = new Set(['driver', 'config', 'resources', 'artifact', 'meta', 'env', 'constraint', 'affinity', 'template', 'service', 'restart', 'logs', 'kill_timeout', 'kill_signal', 'user', 'leader', 'lifecycle', 'vault', 'identity', 'volume_mount', 'kind', 'shutdown_delay', 'dispatch_payload', 'csi_plugin', 'scaling', 'consul']);
const RESOURCE_KEYS = new Set(['cpu', 'memory', 'memory_max', 'cores', 'device', 'network', 'numa']);
const ARTIFACT_KEYS = new Set(['source', 'destination', 'mode', 'options', 'headers', 'chown']);
const NETWORK_KEYS = new Set(['mode', 'port', 'dns', 'hostname', 'cni']);
const SERVICE_KEYS = new Set(['name', 'port', 'tags', 'canary_tags', 'provider', 'check', 'address_mode', 'address', 'meta', 'canary_meta', 'connect', 'task', 'enable_tag_override', 'on_update', 'tagged_addresses', 'identity', 'cluster', 'weights', 'kind']);
const CONSTRAINT_KEYS = new Set(['attribute', 'value', 'operator', 'version', 'semver', 'regexp', 'set_contains', 'set_contains_any', 'distinct_hosts', 'distinct_property']);

function isBody(value: unknown): value is Body {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function checkKeys(body: Body, known: Set<string>, where: string): void {
  for (const key of Object.keys(body)) {
    if (!known.has(key)) {
      throw new JobParseError(`${where}: Unsupported argument or block; An argument or block named "${key}" is not expected here.`);
    }
  }
}

/** Unlabelled blocks come out of hcl2json as arrays of bodies. */
function blocks(value: unknown, where: string): Body[] {
  if (value === undefined) return [];
  const list = Array.isArray(value) ? value : [value];
  for (const item of list) if (!isBody(item)) throw new JobParseError(`${where}: Unsupported argument; expected a block`);
  return list as Body[];
}

/** Labelled blocks (`group "x" {}`) come out as { label: [body, ...] }. */
function labelled(value: unknown, where: string): [string, Body][] {
  if (value === undefined) return [];
  if (!isBody(value)) throw new JobParseError(`${where}: expected labelled blocks`);
  const out: [string, Body][] = [];
  for (const [label, bodies] of Object.entries(value)) for (const body of blocks(bodies, `${where} "${label}"`)) out.push([label, body]);
  return out;
}

function str(value: unknown, where: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  throw new JobParseError(`${where}: Incorrect attribute value type; a string is required.`);
}

function num(value: unknown, where: string): number | undefined {
  if (value === undefined) return undefined;
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isFinite(n)) throw new JobParseError(`${where}: Incorrect attribute value type; a number is required.`);
  return n;
}

function strings(value: unknown, where: string): string[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value)) throw new JobParseError(`${where}: Incorrect attribute value type; a list of string is required.`);
  return value.map((v, i) => str(v, `${where}[${i}]`)!);
}

/** `meta { k = "v" }` or `meta = { k = "v" }`: HCL2 converts numbers and bools to strings. */
function stringMap(value: unknown, where: string): Record<string, string> | undefined {
  if (value === undefined) return undefined;
  const out: Record<string, string> = {};
  for (const body of blocks(value, where)) {
    for (const [k, v] of Object.entries(body)) out[k] = str(v, `${where}.${k}`)!;
  }
  return out;
}

function constraints(value: unknown, where: string): NomadConstraint[] | undefined {
  if (value === undefined) return undefined;
  return blocks(value, where).map((body) => {
    checkKeys(body, CONSTRAINT_KEYS, where);
    const c: NomadConstraint = { LTarget: str(body.attribute, `${where}.attribute`) ?? '', RTarget: str(body.value, `${where}.value`) ?? '', Operand: str(body.operator, `${where}.operator`) ?? '=' };
    return c;
  });
}

function task(name: string, body: Body, canonical: boolean): NomadTask {
  const where = `task "${name}"`;
  checkKeys(body, TASK_KEYS, where);
  const [resources] = blocks(body.resources, `${where} resources`);
  if (resources) checkKeys(resources, RESOURCE_KEYS, `${where} resources`);
  const configs = blocks(body.config, `${where} config`);
  if (configs.length > 1) throw new JobParseError(`${where}: Duplicate config block; only one config block is allowed`);
  const artifacts: NomadArtifact[] = blocks(body.artifact, `${where} artifact`).map((a) => {
    checkKeys(a, ARTIFACT_KEYS, `${where} artifact`);
    const artifact: NomadArtifact = { GetterSource: str(a.source, `${where} artifact.source`) ?? '' };
    const dest = str(a.destination, `${where} artifact.destination`);
    const mode = str(a.mode, `${where} artifact.mode`);
    if (dest !== undefined || canonical) artifact.RelativeDest = dest ?? 'local/';
    if (mode !== undefined || canonical) artifact.GetterMode = mode ?? 'any';
    const options = stringMap(a.options, `${where} artifact.options`);
    if (options) artifact.GetterOptions = options;
    return artifact;
  });
  const out: NomadTask = { Name: name, Driver: str(body.driver, `${where}.driver`) ?? '' };
  if (configs[0]) out.Config = configs[0];
  const cpu = resources ? num(resources.cpu, `${where} resources.cpu`) : undefined;
  const memory = resources ? num(resources.memory, `${where} resources.memory`) : undefined;
  // Nomad's canonical defaults: 100 MHz, 300 MB.
  if (resources || canonical) out.Resources = { CPU: cpu ?? (canonical ? 100 : undefined), MemoryMB: memory ?? (canonical ? 300 : undefined) };
  if (artifacts.length) out.Artifacts = artifacts;
  const meta = stringMap(body.meta, `${where} meta`);
  if (meta) out.Meta = meta;
  const env = stringMap(body.env, `${where} env`);
  if (env) out.Env = env;
  const cons = constraints(body.constraint, `${where} constraint`);
  if (cons) out.Constraints = cons;
  return out;
}

function group(name: string, body: Body, canonical: boolean): NomadTaskGroup {
  const where = `group "${name}"`;
  checkKeys(body, GROUP_KEYS, where);
  const networks: NomadNetwork[] = blocks(body.network, `${where} network`).map((n) => {
    checkKeys(n, NETWORK_KEYS, `${where} network`);
    return { Mode: str(n.mode, `${where} network.mode`) ?? (canonical ? 'host' : undefined) };
  });
  const services: NomadService[] = blocks(body.service, `${where} service`).map((s) => {
    checkKeys(s, SERVICE_KEYS, `${where} service`);
    const service: NomadService = { Name: str(s.name, `${where} service.name`) ?? '' };
    const port = str(s.port, `${where} service.port`);
    if (port !== undefined) service.PortLabel = port;
    if (canonical) service.Provider = str(s.provider, `${where} service.provider`) ?? 'consul';
    return service;
  });
  const out: NomadTaskGroup = { Name: name, Tasks: labelled(body.task, `${where} task`).map(([taskName, taskBody]) => task(taskName, taskBody, canonical)) };
  const count = num(body.count, `${where}.count`);
  if (count !== undefined || canonical) out.Count = count ?? 1;
  if (networks.length) out.Networks = networks;
  if (services.length) out.Services = services;
  const cons = constraints(body.constraint, `${where} constraint`);
  if (cons) out.Constraints = cons;
  const meta = stringMap(body.meta, `${where} meta`);
  if (meta) out.Meta = meta;
  return out;
}

/** HCL text → Nomad job JSON; `canonicalize` fills Nomad's defaults like the real endpoint. */
export async function parseJobHcl(hcl: string, canonicalize: boolean): Promise<NomadJob> {
  let tree: Body;
  try {
    // Imported on first use: loading the parser compiles a Go wasm module (seconds).
    const { parse } = await import('@cdktf/hcl2json');
    tree = (await parse('input.hcl', hcl)) as Body;
  } catch (err) {
    // hcl2json reports "parse config: [input.hcl:1,11-18: Summary; Detail]".
    const text = String((err as Error).message ?? err).replace(/^parse config: \[?/, '').replace(/\]$/, '');
    throw new JobParseError(text);
  }
  for (const key of Object.keys(tree)) {
    if (key !== 'job') throw new JobParseError(`input.hcl: Unsupported block type; Blocks of type "${key}" are not expected here.`);
  }
  const jobs = labelled(tree.job, 'job');
  if (jobs.length === 0) throw new JobParseError('input.hcl: Missing job block; a job block is required');
  if (jobs.length > 1) throw new JobParseError('input.hcl: Duplicate job block; only one job block is allowed');
  const [id, body] = jobs[0]!;
  checkKeys(body, JOB_KEYS, `job "${id}"`);
  const job: NomadJob = { ID: id, Name: str(body.name, 'job.name') ?? id };
  const type = str(body.type, 'job.type');
  const priority = num(body.priority, 'job.priority');
  const region = str(body.region, 'job.region');
  const namespace = str(body.namespace, 'job.namespace');
  if (type !== undefined || canonicalize) job.Type = type ?? 'service';
  if (priority !== undefined || canonicalize) job.Priority = priority ?? 50;
  if (region !== undefined || canonicalize) job.Region = region ?? 'global';
  if (namespace !== undefined || canonicalize) job.Namespace = namespace ?? 'default';
  const datacenters = strings(body.datacenters, 'job.datacenters');
  if (datacenters !== undefined || canonicalize) job.Datacenters = datacenters ?? ['*'];
  const meta = stringMap(body.meta, 'job meta');
  if (meta) job.Meta = meta;
  const cons = constraints(body.constraint, 'job constraint');
  if (cons) job.Constraints = cons;
  job.TaskGroups = labelled(body.group, 'group').map(([name, groupBody]) => group(name, groupBody, canonicalize));
  return job;
}

/** The MAC of every qemu task (`mac=` in its args), in job order. */
export function qemuMacs(job: NomadJob): string[] {
  const macs: string[] = [];
  for (const tg of job.TaskGroups ?? []) for (const t of tg.Tasks) macs.push(...taskMacs(t));
  return macs;
}

export function taskMacs(task: NomadTask): string[] {
  if (task.Driver !== 'qemu') return [];
  const args = task.Config?.args;
  if (!Array.isArray(args)) return [];
  const macs: string[] = [];
  for (const arg of args) {
    const m = typeof arg === 'string' ? /(?:^|,)mac=([0-9a-f]{2}(?::[0-9a-f]{2}){5})(?:,|$)/i.exec(arg) : null;
    if (m) macs.push(m[1]!.toLowerCase());
  }
  return macs;
}
