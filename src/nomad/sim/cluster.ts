// The simulated cluster's state and the allocation lifecycle: jobs, allocations, their
// task events and console logs. Everything moves on timers (tracked, so close() stops
// them all); nothing here knows about HTTP.
import { randomUUID } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { bootParts, firmwareText, splitChunks } from './console.js';
import { gatewayOf, staticLease, type Subnet } from './dhcp.js';
import { generateHostKeys, type SimHostKey } from './hostkeys.js';
import { taskMacs } from './jobspec.js';
import { LogFile } from './logfile.js';
import type { NomadAllocStub, NomadJob, NomadJobListStub, NomadRegisterResponse, NomadTask, NomadTaskEvent, NomadTaskState } from './types.js';

export interface ClusterTiming {
  /** Allocation created → task started (pending → running). */
  startDelayMs: number;
  /** Task started → cloud-init's output begins. */
  bootDelayMs: number;
  /** Between console chunks. */
  chunkDelayMs: number;
  /** Stop requested → allocation complete (QEMU shutting down). */
  stopDelayMs: number;
  /** Purged allocation complete → gone from the API. */
  gcDelayMs: number;
}

export interface ClusterOptions extends ClusterTiming {
  subnet: Subnet;
  dhcp: (mac: string) => string | undefined;
}

export interface SimJobView {
  id: string;
  version: number;
  stop: boolean;
  status: string;
  meta: Record<string, string>;
  job: NomadJob;
}

interface JobRecord {
  job: NomadJob;
  /** The spec as submitted, to tell a re-registration of the same job from an update. */
  spec: NomadJob;
  version: number;
  stop: boolean;
  createIndex: number;
  modifyIndex: number;
  jobModifyIndex: number;
  submitTime: number;
}

/**
 * A VM task's disk: it lives in the allocation directory (the image is an artifact in
 * local/), so a restart keeps it and a new allocation starts from a fresh image.
 */
interface GuestDisk {
  /** Made by cloud-init on the disk's first boot. */
  hostKeys: SimHostKey[];
  /** Boots so far; a console write belongs to the boot it was scheduled for. */
  boots: number;
  /** A boot ran to the login prompt: cloud-init's per-instance modules (the host keys) are done. */
  firstBootDone: boolean;
}

interface AllocRecord {
  stub: NomadAllocStub;
  logs: Map<string, { stdout: LogFile; stderr: LogFile }>;
  tasks: NomadTask[];
  disks: Map<string, GuestDisk>;
}

/** Why a restart was refused; the server maps each to Nomad's status and text. */
export type RestartRefusal = { reason: 'unknown_allocation' | 'unknown_task' | 'not_running'; message: string };

const CONSOLE_CHUNKS = 8;
/** The client nodes. New allocations go to the first node that is up; a replacement avoids the lost one's node. */
export const SIM_NODES: readonly { id: string; name: string }[] = [
  { id: 'f3a9c2d4-5b6e-4f70-8a91-b2c3d4e5f607', name: 'wheatley' },
  { id: '2b7c4d1e-9f3a-4e6b-8c5d-0a1f2e3d4c5b', name: 'atlas' },
  { id: '8d6e5f4a-3b2c-4d1e-9f0a-7b6c5d4e3f2a', name: 'p-body' },
];

/** The NoCloud seed URL in a task's `-smbios type=1,serial=ds=nocloud-net;s=URL` argument. */
function seedUrlOf(task: NomadTask): string | undefined {
  const args = Array.isArray(task.Config?.args) ? (task.Config.args as unknown[]) : [];
  for (const arg of args) {
    const m = typeof arg === 'string' ? /serial=ds=nocloud(?:-net)?;s=([^,;\s]+)/.exec(arg) : null;
    if (m) return m[1];
  }
  return undefined;
}

/** Tracks timers so that closing the cluster leaves nothing running. */
class Timers {
  private readonly live = new Set<NodeJS.Timeout>();
  set(fn: () => void, ms: number): void {
    const timer = setTimeout(() => {
      this.live.delete(timer);
      fn();
    }, ms);
    this.live.add(timer);
  }
  clearAll(): void {
    for (const timer of this.live) clearTimeout(timer);
    this.live.clear();
  }
}

const nowNs = () => Date.now() * 1_000_000;

function event(type: string, message: string, extra: Partial<NomadTaskEvent> = {}): NomadTaskEvent {
  return { Type: type, Time: nowNs(), DisplayMessage: message, Message: '', DriverError: '', FailsTask: false, ...extra };
}

export class SimClusterState {
  private readonly jobs = new Map<string, JobRecord>();
  private readonly allocs = new Map<string, AllocRecord>();
  private readonly timers = new Timers();
  private index = 1;
  private readonly failNext: { jobId?: string; message: string }[] = [];
  private readonly silent = new Set<string>();
  private allSilent = false;
  /** Jobs (or all, `true`) whose boots stop in cloud-init's final stage before the host keys, until released. */
  private readonly heldFinal = new Set<string>();
  private allHeldFinal = false;
  /** Per job: boots waiting in their final stage, each a function that prints the rest. */
  private readonly parkedFinal = new Map<string, Array<() => void>>();
  private closed = false;
  private readonly downNodes = new Set<string>();

  constructor(private readonly opts: ClusterOptions) {}

  get currentIndex(): number {
    return this.index;
  }

  setBootDelay(ms: number): void {
    this.opts.bootDelayMs = ms;
  }

  // ---- jobs --------------------------------------------------------------------------

  register(job: NomadJob): NomadRegisterResponse {
    const existing = this.jobs.get(job.ID);
    const evalId = randomUUID();
    const index = ++this.index;
    const unchanged = existing && !existing.stop && isDeepStrictEqual(existing.spec, job);
    if (unchanged) {
      // Nomad creates an evaluation but no new version and no new allocation.
      existing.modifyIndex = index;
      return { EvalID: evalId, EvalCreateIndex: index, JobModifyIndex: existing.jobModifyIndex, Warnings: '', Index: index };
    }
    const record: JobRecord = {
      job,
      spec: structuredClone(job),
      version: existing ? existing.version + 1 : 0,
      stop: false,
      createIndex: existing?.createIndex ?? index,
      modifyIndex: index,
      jobModifyIndex: index,
      submitTime: nowNs(),
    };
    this.jobs.set(job.ID, record);
    // A changed spec replaces the running allocations (a destructive update).
    for (const alloc of this.liveAllocs(job.ID)) this.stopAlloc(alloc, 'alloc is being updated due to job update', false);
    for (const tg of job.TaskGroups ?? []) {
      for (let i = 0; i < (tg.Count ?? 1); i++) this.createAlloc(record, tg.Name, i, evalId, '');
    }
    return { EvalID: evalId, EvalCreateIndex: index, JobModifyIndex: index, Warnings: '', Index: index };
  }

  getJob(jobId: string): NomadJob | null {
    const record = this.jobs.get(jobId);
    if (!record) return null;
    return {
      ...structuredClone(record.job),
      Status: this.jobStatus(record),
      Stop: record.stop,
      Version: record.version,
      CreateIndex: record.createIndex,
      ModifyIndex: record.modifyIndex,
      JobModifyIndex: record.jobModifyIndex,
      SubmitTime: record.submitTime,
    };
  }

  listJobs(): NomadJobListStub[] {
    return [...this.jobs.values()]
      .sort((a, b) => (a.job.ID < b.job.ID ? -1 : 1))
      .map((r) => ({
        ID: r.job.ID,
        ParentID: '',
        Name: r.job.Name ?? r.job.ID,
        Namespace: r.job.Namespace ?? 'default',
        Datacenters: r.job.Datacenters ?? [],
        Type: r.job.Type ?? 'service',
        Priority: r.job.Priority ?? 50,
        Status: this.jobStatus(r),
        StatusDescription: '',
        Stop: r.stop,
        Meta: r.job.Meta ?? null,
        CreateIndex: r.createIndex,
        ModifyIndex: r.modifyIndex,
        JobModifyIndex: r.jobModifyIndex,
        SubmitTime: r.submitTime,
      }));
  }

  /** DELETE /v1/job/:id. Null when there is no such job. */
  deregister(jobId: string, purge: boolean): { EvalID: string; EvalCreateIndex: number; JobModifyIndex: number; Index: number } | null {
    const record = this.jobs.get(jobId);
    if (!record) return null;
    const index = ++this.index;
    // Nomad stores the stopped job as a new version (Stop is part of the spec).
    if (!record.stop) record.version += 1;
    record.stop = true;
    record.modifyIndex = index;
    record.jobModifyIndex = index;
    for (const alloc of this.liveAllocs(jobId)) this.stopAlloc(alloc, 'alloc not needed due to job update', purge);
    if (purge) {
      this.jobs.delete(jobId);
      // Allocations that had already finished are garbage-collected too.
      for (const alloc of this.allocsOf(jobId)) {
        if (alloc.stub.ClientStatus !== 'pending' && alloc.stub.ClientStatus !== 'running') this.timers.set(() => this.allocs.delete(alloc.stub.ID), this.opts.gcDelayMs);
      }
    }
    return { EvalID: randomUUID(), EvalCreateIndex: index, JobModifyIndex: index, Index: index };
  }

  private jobStatus(record: JobRecord): string {
    const allocs = this.allocsOf(record.job.ID);
    if (allocs.some((a) => a.stub.ClientStatus === 'running')) return 'running';
    if (!record.stop && allocs.some((a) => a.stub.ClientStatus === 'pending')) return 'pending';
    return 'dead';
  }

  // ---- allocations -------------------------------------------------------------------

  /** Ordered by ID, like the HTTP API. */
  allocations(jobId: string): NomadAllocStub[] {
    return this.allocsOf(jobId)
      .map((a) => structuredClone(a.stub))
      .sort((a, b) => (a.ID < b.ID ? -1 : a.ID > b.ID ? 1 : 0));
  }

  alloc(allocId: string): AllocRecord | undefined {
    return this.allocs.get(allocId);
  }

  private allocsOf(jobId: string): AllocRecord[] {
    return [...this.allocs.values()].filter((a) => a.stub.JobID === jobId);
  }

  private liveAllocs(jobId: string): AllocRecord[] {
    return this.allocsOf(jobId).filter((a) => a.stub.DesiredStatus === 'run');
  }

  private touch(alloc: AllocRecord): void {
    alloc.stub.ModifyIndex = ++this.index;
    alloc.stub.ModifyTime = nowNs();
  }

  private placeNode(avoid?: string): { id: string; name: string } {
    const up = SIM_NODES.filter((n) => !this.downNodes.has(n.name));
    const node = up.find((n) => n.id !== avoid) ?? up[0];
    if (!node) throw new Error('simulated cluster: every node is down, nothing can be placed');
    return node;
  }

  private createAlloc(record: JobRecord, group: string, n: number, evalId: string, previous: string, avoidNode?: string): AllocRecord {
    const tg = (record.job.TaskGroups ?? []).find((g) => g.Name === group)!;
    const node = this.placeNode(avoidNode);
    const index = ++this.index;
    const taskStates: Record<string, NomadTaskState> = {};
    const logs = new Map<string, { stdout: LogFile; stderr: LogFile }>();
    for (const task of tg.Tasks) {
      taskStates[task.Name] = { State: 'pending', Failed: false, Restarts: 0, StartedAt: null, FinishedAt: null, Events: [event('Received', 'Task received by client')] };
      logs.set(task.Name, { stdout: new LogFile(), stderr: new LogFile() });
    }
    const alloc: AllocRecord = {
      tasks: tg.Tasks,
      logs,
      disks: new Map(),
      stub: {
        ID: randomUUID(),
        EvalID: evalId,
        Name: `${record.job.ID}.${group}[${n}]`,
        Namespace: record.job.Namespace ?? 'default',
        NodeID: node.id,
        NodeName: node.name,
        JobID: record.job.ID,
        JobVersion: record.version,
        TaskGroup: group,
        DesiredStatus: 'run',
        DesiredDescription: '',
        ClientStatus: 'pending',
        ClientDescription: 'No tasks have started',
        TaskStates: taskStates,
        PreviousAllocation: previous,
        NextAllocation: '',
        FollowupEvalID: '',
        CreateIndex: index,
        ModifyIndex: index,
        CreateTime: nowNs(),
        ModifyTime: nowNs(),
      },
    };
    this.allocs.set(alloc.stub.ID, alloc);
    this.timers.set(() => this.startTasks(alloc), this.opts.startDelayMs);
    return alloc;
  }

  private takeFailure(jobId: string): string | undefined {
    const i = this.failNext.findIndex((f) => f.jobId === undefined || f.jobId === jobId);
    if (i < 0) return undefined;
    return this.failNext.splice(i, 1)[0]!.message;
  }

  private startTasks(alloc: AllocRecord): void {
    if (alloc.stub.DesiredStatus !== 'run') return;
    const failure = this.takeFailure(alloc.stub.JobID);
    for (const task of alloc.tasks) {
      const state = alloc.stub.TaskStates[task.Name]!;
      state.Events.push(event('Task Setup', 'Building Task Directory', { Message: 'Building Task Directory' }));
      if (task.Artifacts?.length) state.Events.push(event('Downloading Artifacts', 'Client is downloading artifacts'));
      if (failure !== undefined) {
        state.Events.push(event('Driver Failure', failure, { DriverError: failure, FailsTask: true }));
        state.Events.push(event('Not Restarting', 'Error was unrecoverable', { FailsTask: true }));
        state.State = 'dead';
        state.Failed = true;
        state.FinishedAt = new Date().toISOString();
        continue;
      }
      state.Events.push(event('Started', 'Task started by client'));
      state.State = 'running';
      state.StartedAt = new Date().toISOString();
      this.bootConsole(alloc, task);
    }
    if (failure !== undefined) {
      alloc.stub.ClientStatus = 'failed';
      alloc.stub.ClientDescription = 'Failed tasks';
      for (const log of alloc.logs.values()) log.stdout.close(), log.stderr.close();
    } else {
      alloc.stub.ClientStatus = 'running';
      alloc.stub.ClientDescription = 'Tasks are running';
    }
    this.touch(alloc);
  }

  private bootConsole(alloc: AllocRecord, task: NomadTask): void {
    const [mac] = taskMacs(task);
    if (!mac) return; // not a VM: a task that prints nothing
    const log = alloc.logs.get(task.Name)!.stdout;
    let disk = alloc.disks.get(task.Name);
    if (!disk) alloc.disks.set(task.Name, (disk = { hostKeys: generateHostKeys(), boots: 0, firstBootDone: false }));
    const boot = ++disk.boots;
    const state = alloc.stub.TaskStates[task.Name]!;
    log.append(Buffer.from(firmwareText()));
    const printAddress = !this.allSilent && !this.silent.has(alloc.stub.JobID);
    const seedUrl = seedUrlOf(task);
    const jobId = alloc.stub.JobID;
    const parts = bootParts({
      mac,
      ipv4: this.opts.dhcp(mac),
      prefixLength: this.opts.subnet.prefixLength,
      gateway: gatewayOf(this.opts.subnet),
      hostname: alloc.stub.JobID.slice(0, 63),
      printAddress,
      firstBoot: !disk.firstBootDone,
      hostKeys: disk.hostKeys,
      ...(seedUrl ? { seedUrl } : {}),
    });
    const live = () => alloc.stub.ClientStatus === 'running' && state.State === 'running' && disk.boots === boot;
    // Each chunk schedules the next: timers of different lengths may fire out of order
    // when the event loop was blocked, and a console never prints out of order. A restart
    // ends this boot: its remaining chunks are never written. `then` follows the last chunk;
    // without it, the last chunk ends the boot (the per-instance modules are done).
    const write = (chunks: Buffer[], i: number, then?: () => void) => {
      if (!live()) return;
      if (i >= chunks.length) return then?.();
      log.append(chunks[i]!);
      if (!then && i === chunks.length - 1) disk.firstBootDone = true;
      this.timers.set(() => write(chunks, i + 1, then), this.opts.chunkDelayMs);
    };
    if (!this.finalHeld(jobId)) {
      const chunks = splitChunks(Buffer.from(parts.untilFinal + parts.fromKeys), CONSOLE_CHUNKS);
      this.timers.set(() => write(chunks, 0), this.opts.bootDelayMs);
      return;
    }
    // Held in the final stage (its modules still running): the rest waits for releaseFinalStage.
    const rest = splitChunks(Buffer.from(parts.fromKeys), 2);
    const printRest = () => write(rest, 0);
    const park = () => {
      if (!this.finalHeld(jobId)) return printRest(); // released while the boot was still printing
      this.parkedFinal.set(jobId, [...(this.parkedFinal.get(jobId) ?? []), printRest]);
    };
    this.timers.set(() => write(splitChunks(Buffer.from(parts.untilFinal), CONSOLE_CHUNKS - 2), 0, park), this.opts.bootDelayMs);
  }

  private finalHeld(jobId: string): boolean {
    return this.allHeldFinal || this.heldFinal.has(jobId);
  }

  private finishTasks(alloc: AllocRecord, type: string, message: string): void {
    for (const [name, state] of Object.entries(alloc.stub.TaskStates)) {
      if (state.State !== 'dead') {
        state.Events.push(event(type, message));
        state.State = 'dead';
        state.FinishedAt = new Date().toISOString();
      }
      const log = alloc.logs.get(name)!;
      log.stdout.close();
      log.stderr.close();
    }
  }

  /** Desired stop now; the client reports complete after stopDelayMs; purge removes it later. */
  private stopAlloc(alloc: AllocRecord, description: string, purge: boolean): void {
    alloc.stub.DesiredStatus = 'stop';
    alloc.stub.DesiredDescription = description;
    this.touch(alloc);
    this.timers.set(() => {
      if (alloc.stub.ClientStatus === 'pending' || alloc.stub.ClientStatus === 'running') {
        for (const state of Object.values(alloc.stub.TaskStates)) if (state.State !== 'dead') state.Events.push(event('Killing', 'Sent interrupt. Waiting 5s before force killing'));
        this.finishTasks(alloc, 'Killed', 'Task successfully killed');
        alloc.stub.ClientStatus = 'complete';
        alloc.stub.ClientDescription = 'All tasks have completed';
        this.touch(alloc);
      }
      if (purge) this.timers.set(() => this.allocs.delete(alloc.stub.ID), this.opts.gcDelayMs);
    }, this.opts.stopDelayMs);
  }

  // ---- controls ----------------------------------------------------------------------

  failNextTask(jobId: string | undefined, message: string): void {
    this.failNext.push({ jobId, message });
  }

  neverPrintAddress(target: string | true): void {
    if (target === true) this.allSilent = true;
    else this.silent.add(target);
  }

  holdFinalStage(target: string | true): void {
    if (target === true) this.allHeldFinal = true;
    else this.heldFinal.add(target);
  }

  /** Ends the hold; boots waiting in their final stage print the rest, chunkDelayMs from now. */
  releaseFinalStage(target: string | true): void {
    if (target !== true && this.allHeldFinal) throw new Error('releaseFinalStage: every job is held (holdFinalStage(true)); release them all with releaseFinalStage(true)');
    if (target === true ? !this.allHeldFinal && this.heldFinal.size === 0 : !this.heldFinal.has(target)) {
      throw new Error(`releaseFinalStage: ${target === true ? 'no job is' : `job ${JSON.stringify(target)} is not`} held (holdFinalStage first)`);
    }
    const jobs = target === true ? [...this.parkedFinal.keys()] : [target];
    if (target === true) {
      this.allHeldFinal = false;
      this.heldFinal.clear();
    } else this.heldFinal.delete(target);
    for (const jobId of jobs) {
      for (const printRest of this.parkedFinal.get(jobId) ?? []) this.timers.set(printRest, this.opts.chunkDelayMs);
      this.parkedFinal.delete(jobId);
    }
  }

  /** The job's newest live allocation is lost; a replacement boots on another node. Returns its ID. */
  reschedule(jobId: string): string {
    const current = this.liveAllocs(jobId).sort((a, b) => b.stub.CreateIndex - a.stub.CreateIndex)[0];
    if (!this.jobs.has(jobId) || !current) throw new Error(`reschedule: job ${JSON.stringify(jobId)} has no live allocation`);
    return this.rescheduleAllocation(current.stub.ID);
  }

  /**
   * The allocation is lost (its node went away): client status `lost`, desired `stop`,
   * `NextAllocation` naming a replacement placed on another node, which links back with
   * `PreviousAllocation` and boots a fresh disk (a full first boot, new host keys).
   */
  rescheduleAllocation(allocId: string): string {
    const current = this.allocs.get(allocId);
    const record = current && this.jobs.get(current.stub.JobID);
    if (!current || !record || current.stub.DesiredStatus !== 'run' || (current.stub.ClientStatus !== 'pending' && current.stub.ClientStatus !== 'running')) {
      throw new Error(`reschedule: ${JSON.stringify(allocId)} is not a live allocation`);
    }
    const followup = randomUUID();
    current.stub.DesiredStatus = 'stop';
    current.stub.DesiredDescription = 'alloc is lost since its node is down';
    current.stub.ClientStatus = 'lost';
    current.stub.ClientDescription = 'alloc is lost since its node is down';
    current.stub.FollowupEvalID = followup;
    this.finishTasks(current, 'Killed', 'Task was lost');
    const next = this.createAlloc(record, current.stub.TaskGroup, 0, followup, current.stub.ID, current.stub.NodeID);
    current.stub.NextAllocation = next.stub.ID;
    this.touch(current);
    return next.stub.ID;
  }

  /** The node goes down: every live allocation on it is lost and replaced elsewhere. Returns the replacements' IDs. */
  failNode(name: string): string[] {
    const node = SIM_NODES.find((n) => n.name === name);
    if (!node) throw new Error(`failNode: no node ${JSON.stringify(name)} (nodes: ${SIM_NODES.map((n) => n.name).join(', ')})`);
    this.downNodes.add(name);
    const lost = [...this.allocs.values()].filter((a) => a.stub.NodeID === node.id && a.stub.DesiredStatus === 'run' && (a.stub.ClientStatus === 'pending' || a.stub.ClientStatus === 'running'));
    return lost.map((a) => this.rescheduleAllocation(a.stub.ID));
  }

  /** The node is back: new allocations may be placed on it again. */
  restoreNode(name: string): void {
    this.downNodes.delete(name);
  }

  // ---- in-place restarts -------------------------------------------------------------

  /**
   * POST /v1/client/allocation/:id/restart. Each restarted task gets `Restart Signaled`,
   * then (after stopDelayMs, QEMU going down) `Terminated` and `Restarting` with the task
   * `pending`, then (after startDelayMs) `Started`: the same disk boots again, so the
   * console prints a second, short boot (no host keys) and the address again.
   */
  restart(allocId: string, taskName?: string): RestartRefusal | undefined {
    const alloc = this.allocs.get(allocId);
    if (!alloc) return { reason: 'unknown_allocation', message: `Unknown allocation "${allocId}"` };
    if (taskName !== undefined && !alloc.tasks.some((t) => t.Name === taskName)) return { reason: 'unknown_task', message: `Could not find task runner for task: ${taskName}` };
    const live = alloc.stub.DesiredStatus === 'run';
    const targets = alloc.tasks.filter((t) => (taskName === undefined || t.Name === taskName) && live && alloc.stub.TaskStates[t.Name]!.State === 'running');
    if (targets.length === 0) return { reason: 'not_running', message: 'Task not running' };
    for (const task of targets) this.restartTask(alloc, task);
    this.touch(alloc);
    return undefined;
  }

  private restartTask(alloc: AllocRecord, task: NomadTask): void {
    const state = alloc.stub.TaskStates[task.Name]!;
    state.Events.push(event('Restart Signaled', 'User requested restart', { Message: 'User requested restart' }));
    const stillLive = () => alloc.stub.DesiredStatus === 'run' && !this.closed;
    this.timers.set(() => {
      if (!stillLive() || state.State !== 'running') return;
      state.Events.push(event('Terminated', 'Exit Code: 0'));
      state.Events.push(event('Restarting', 'Task restarting in 0s'));
      state.State = 'pending';
      state.Restarts += 1;
      this.refreshClientStatus(alloc);
      this.timers.set(() => {
        if (!stillLive() || state.State !== 'pending') return;
        state.Events.push(event('Started', 'Task started by client'));
        state.State = 'running';
        state.StartedAt = new Date().toISOString();
        this.refreshClientStatus(alloc);
        this.bootConsole(alloc, task);
      }, this.opts.startDelayMs);
    }, this.opts.stopDelayMs);
  }

  /** Nomad's getClientStatus: failed > running > pending > complete. */
  private refreshClientStatus(alloc: AllocRecord): void {
    const states = Object.values(alloc.stub.TaskStates);
    if (states.some((t) => t.State === 'dead' && t.Failed)) [alloc.stub.ClientStatus, alloc.stub.ClientDescription] = ['failed', 'Failed tasks'];
    else if (states.some((t) => t.State === 'running')) [alloc.stub.ClientStatus, alloc.stub.ClientDescription] = ['running', 'Tasks are running'];
    else if (states.some((t) => t.State === 'pending')) [alloc.stub.ClientStatus, alloc.stub.ClientDescription] = ['pending', 'No tasks have started'];
    else [alloc.stub.ClientStatus, alloc.stub.ClientDescription] = ['complete', 'All tasks have completed'];
    this.touch(alloc);
  }

  /** The host keys on an allocation's disk (undefined before its first boot): test inspection. */
  hostKeysOf(allocId: string, task: string): SimHostKey[] | undefined {
    return this.allocs.get(allocId)?.disks.get(task)?.hostKeys.map((k) => ({ ...k }));
  }

  jobViews(): SimJobView[] {
    return [...this.jobs.values()].map((r) => ({ id: r.job.ID, version: r.version, stop: r.stop, status: this.jobStatus(r), meta: { ...(r.job.Meta ?? {}) }, job: structuredClone(r.job) }));
  }

  /** Ends every timer and log (open follow streams end with them). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.parkedFinal.clear();
    this.timers.clearAll();
    for (const alloc of this.allocs.values()) for (const log of alloc.logs.values()) log.stdout.close(), log.stderr.close();
  }
}

/** The default DHCP of the simulated router: a static lease per MAC in the subnet. */
export function defaultDhcp(subnet: Subnet): (mac: string) => string {
  return (mac) => staticLease(mac, subnet);
}
