// The Nomad port: everything the workflow asks of a cluster. Adapters: http/ (Nomad's
// HTTP API), ssh/ (node-ssh + the `nomad` CLI), and sim/ (the simulated cluster).
// Expected failures are thrown as NomadError with a code the workflow maps to a Problem.

export type NomadErrorCode =
  /** DNS, TCP, TLS, SSH transport: nothing reached Nomad. Retry later. */
  | 'unreachable'
  /** Nomad answered 5xx (after the adapter's own retries). */
  | 'server_error'
  /** 401/403: the ACL token was refused. */
  | 'forbidden'
  /** 400/422 and friends: Nomad refused what we sent (e.g. an invalid job). Not retried. */
  | 'rejected'
  /** 404 on a job or allocation. */
  | 'not_found'
  /** Logs asked for a task that has not started yet (Nomad's 404 "task not started yet"). */
  | 'task_not_started'
  | 'timeout';

export class NomadError extends Error {
  constructor(
    readonly code: NomadErrorCode,
    message: string,
    readonly status?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'NomadError';
  }
}

export interface SubmitResult {
  jobId: string;
  evalId: string;
}

export interface JobInfo {
  id: string;
  /** Nomad's Status: pending | running | dead */
  status: string;
  stop: boolean;
  meta: Record<string, string>;
}

export interface TaskEvent {
  type: string;
  /** Nomad's DisplayMessage (or Message / DriverError when empty). */
  message: string;
  /** Unix ms. */
  time: number;
}

export interface TaskState {
  /** pending | running | dead */
  state: string;
  failed: boolean;
  events: TaskEvent[];
}

export interface AllocationInfo {
  id: string;
  jobId: string;
  taskGroup: string;
  /** pending | running | complete | failed | lost | unknown */
  clientStatus: string;
  /** run | stop | evict */
  desiredStatus: string;
  createIndex: number;
  /** Unix ms. */
  createTime: number;
  /** The allocation that replaced this one after a reschedule, if any. */
  nextAllocation: string | null;
  taskStates: Record<string, TaskState>;
}

export interface LogChunk {
  /** Raw bytes of stdout from the requested offset (may end inside a line or a UTF-8 sequence). */
  data: Buffer;
  /** The offset to ask for next time (offset + data.length). */
  nextOffset: number;
}

export interface JobSummary {
  id: string;
  status: string;
  meta: Record<string, string>;
  /** The `args` of every qemu task, flattened (pool sync looks for `mac=` in them). */
  qemuArgs: string[];
}

export interface StopJobOptions {
  /** Default true: the job is gone afterwards. false: stopped but still registered. */
  purge?: boolean;
}

export interface NomadPort {
  /** Parses and registers an HCL job. The HCL is sent as data (stdin / JSON body), never on a command line. */
  submitJob(hcl: string): Promise<SubmitResult>;
  /** null when the job does not exist (or was purged). */
  getJob(jobId: string): Promise<JobInfo | null>;
  /** Allocations of a job, newest first (by createIndex). Empty when none. */
  listAllocations(jobId: string): Promise<AllocationInfo[]>;
  /** stdout of a task from a byte offset. Throws NomadError('task_not_started') before the task runs. */
  readLogs(allocId: string, task: string, offset: number): Promise<LogChunk>;
  /**
   * Stops a job; by default also purges it. `purge: false` keeps it registered (stopped,
   * status dead): submitJob of the same HCL then starts it again with a new version and a
   * NEW allocation (a fresh allocation directory, so a fresh disk). Resolves if the job is gone.
   */
  stopJob(jobId: string, opts?: StopJobOptions): Promise<void>;
  /**
   * Restarts a running allocation's task in place (a reboot: same allocation, same disk),
   * or every running task when `task` is left out. Throws NomadError('not_found') for an
   * unknown allocation; a task that is not running is refused by Nomad.
   */
  restartAllocation(allocId: string, task?: string): Promise<void>;
  /** The last `maxBytes` bytes of a task's stdout (may start inside a line or a UTF-8 sequence). */
  readLogTail(allocId: string, task: string, maxBytes: number): Promise<Buffer>;
  /** Every job on the cluster, with qemu args (for pool sync). */
  listJobs(): Promise<JobSummary[]>;
  close(): Promise<void>;
}

/** The task name vmbot's templates give the VM's task (logs are read from it). */
export const VM_TASK_NAME = 'vm';

/** One Nomad cluster as the workflow sees it: where its jobs go and how they are named. */
export interface ClusterSettings {
  /** The name requests record (`nomad.clusters[].name`; "default" for a single `nomad:` section). */
  name: string;
  datacenters: string[];
  jobPrefix: string;
  namespace?: string;
  region?: string;
  /** How often the watcher polls this cluster's console logs, ms. */
  pollInterval: number;
  /** How long a VM on this cluster may take to print its address, ms. */
  ipTimeout: number;
}

/**
 * Every cluster vmbot drives (`nomad.clusters`, or the single `nomad:` section as one). A
 * request records the cluster chosen when it was approved; everything done to its job
 * afterwards (watch, delete, liveness, `ip --refresh`) goes to that cluster's port.
 */
export interface NomadClusters {
  /** Names in configuration order; the first is the default. */
  readonly names: readonly string[];
  /** The cluster a request of this distro and size goes to (the first rule that matches, else the default). */
  choose(request: { distro: string; size: string }): string;
  /** Throws for a name that is not configured (a request recorded by an older configuration). */
  port(cluster: string): NomadPort;
  settings(cluster: string): ClusterSettings;
  /** Closes every cluster's port. */
  close(): Promise<void>;
}
