// Watches submitted VMs until their guest prints its address (DESIGN §2 "Where the address
// shows up"). One scheduler for every watched VM: each tick queues the VMs that are not
// already being polled, and at most `maxConcurrent` polls run at once, so 50 VMs do not
// open 50 log channels on the SSH adapter. Logs are read incrementally by byte offset and
// the offset is persisted (via onProgress) so a restart continues where it stopped.
//
// A VM reported up without its SSH host keys (cloud-init prints them in its final stage,
// which package installs or runcmd can hold up for minutes) stays watched for them alone
// until hostKeysTimeoutMs (see followKeys): its polls share the same read limit, queue after
// the VMs still booting, and come every KEYS_POLL_EVERY ticks.
import type { Logger } from '../log.js';
import { Limit } from '../domain/limit.js';
import { ConsoleScanner } from '../domain/ciinfo.js';
import { HostKeyScanner, type HostKeys } from '../domain/hostkeys.js';
import type { ProgressStep } from '../domain/states.js';
import { PROGRESS_STEPS } from '../domain/states.js';
import { NomadError, VM_TASK_NAME, type AllocationInfo, type NomadPort, type TaskState } from '../nomad/port.js';

/** What the watcher needs of a console parser (domain/ciinfo's ConsoleScanner). */
export interface Scanner {
  push(chunk: Buffer | string): void;
  readonly address: { ipv4?: string; ipv6: string[] } | null;
  tail(): string[];
}

export interface WatchTarget {
  requestId: string;
  jobId: string;
  mac: string;
  /** From the store: the allocation and offset a previous process had reached. */
  allocId: string | null;
  logOffset: number;
  progress: ProgressStep | null;
}

export interface WatchProgress {
  allocId?: string;
  logOffset?: number;
  progress?: ProgressStep;
}

export interface WatcherEvents {
  /** Persist how far we got (allocation, offset of the last complete line, progress step). */
  onProgress(requestId: string, patch: WatchProgress): Promise<void>;
  /** The address, with the SSH host keys the guest printed (undefined: none seen within hostKeyWaitMs). */
  onAddress(requestId: string, address: { ipv4?: string; ipv6: string[] }, hostKeys?: HostKeys): Promise<void>;
  onFailure(requestId: string, failure: { code: 'task_failed' | 'ip_timeout'; message: string; consoleTail?: string[] }): Promise<void>;
  /** The host keys of a VM reported up without them, read from the allocation it was up on. At most once per watch. */
  onLateHostKeys?(requestId: string, allocId: string, hostKeys: HostKeys): Promise<void>;
  /** The host keys did not show by the follow-up's deadline (or the allocation ended first): the watch is over. */
  onHostKeysMissing?(requestId: string, why: 'deadline' | 'allocation_ended'): Promise<void>;
}

/** A VM already up without host keys whose console is still read for them (after a restart, from the store). */
export interface KeysTarget {
  requestId: string;
  jobId: string;
  mac: string;
  /** The allocation the VM was up on: the keys of any other one are not this boot's. */
  allocId: string;
  logOffset: number;
  /** How long from now the keys may still come. */
  timeoutMs: number;
}

export interface WatcherOptions {
  nomad: NomadPort;
  logger: Logger;
  events: WatcherEvents;
  pollIntervalMs: number;
  ipTimeoutMs: number;
  /** Polls running at once (each may hold an SSH channel). */
  maxConcurrent?: number;
  now?: () => number;
  newScanner?: (mac: string) => Scanner;
  /** How long the address waits for the host keys (default HOST_KEY_WAIT_MS). */
  hostKeyWaitMs?: number;
  /**
   * Up without host keys: how long the console is still read for them (0 or absent: not at
   * all). Needs events.onLateHostKeys.
   */
  hostKeysTimeoutMs?: number;
}

/** A watch for late host keys polls on every this many ticks: the keys are seconds to minutes late, and booting VMs need the reads more. */
export const KEYS_POLL_EVERY = 5;

/**
 * How long an address found without the SSH host keys waits for them before the VM is
 * reported up without. cloud-init prints the address in its `init` stage and the keys
 * in `modules:final` about 2-3 s later (keys_to_console; vmbot's user-data installs no
 * packages that would run before it), so a few polls usually bring them; a guest whose
 * image prints no keys (or a reboot of the same disk, which prints none) costs this much.
 */
export const HOST_KEY_WAIT_MS = 5_000;

interface Watched {
  target: WatchTarget;
  allocId: string | null;
  /** Next byte to read from the current allocation's stdout. */
  offset: number;
  /** Offset just after the last newline read: what is persisted, so a restart re-reads a partial line whole. */
  lineStart: number;
  scanner: Scanner;
  /** The host key blocks (cloud-init's keys_to_console), read alongside the address. */
  hostKeys: ConsoleText;
  /** When the address was first seen (then the VM waits a moment for its host keys). */
  addressAt?: number;
  progress: number;
  deadline: number;
  busy: boolean;
  done: boolean;
  /** Up without its host keys: only the keys are still read, until this deadline. */
  keys?: {
    deadline: number;
    /** When the fingerprints were first seen without the keys block (which follows at once). */
    partialAt?: number;
    /** Ticks left until the next poll. */
    skip: number;
  };
}

/**
 * After a restart the scanner starts empty; a ci-info table the old process was half-way
 * through would lose its title and header. Re-reading a bounded stretch before the stored
 * offset (a boot's tables are ~2 KB) restores that context without reading the whole log.
 */
export const RESUME_REWIND_BYTES = 8192;
const resumeOffset = (stored: number): number => Math.max(0, stored - RESUME_REWIND_BYTES);

const FAILURE_EVENT_NOISE = new Set(['Not Restarting', 'Killing', 'Killed', 'Restarting', 'Received', 'Task Setup']);

/** Nomad's own words for why the task failed: the last informative event message. */
export function failureMessage(task: TaskState | undefined): string {
  const events = task?.events ?? [];
  for (let i = events.length - 1; i >= 0; i--) {
    const event = events[i]!;
    if (event.message && !FAILURE_EVENT_NOISE.has(event.type)) return `${event.type}: ${event.message}`;
  }
  const last = [...events].reverse().find((e) => e.message);
  return last ? `${last.type}: ${last.message}` : 'the VM task failed (Nomad gave no message)';
}

const TERMINAL = new Set(['complete', 'failed', 'lost']);

/**
 * The allocation to follow: the stored one, then along NextAllocation (a reschedule), or
 * the newest when the stored one is gone or ended and a newer one exists.
 */
export function currentAllocation(allocs: AllocationInfo[], known: string | null): AllocationInfo | undefined {
  if (allocs.length === 0) return undefined;
  const newest = allocs.reduce((a, b) => (b.createIndex > a.createIndex ? b : a));
  let current = known ? allocs.find((a) => a.id === known) : undefined;
  const seen = new Set<string>();
  while (current?.nextAllocation && !seen.has(current.id)) {
    seen.add(current.id);
    const next = allocs.find((a) => a.id === current!.nextAllocation);
    if (!next) break;
    current = next;
  }
  if (!current) return newest;
  if (TERMINAL.has(current.clientStatus) && newest.createIndex > current.createIndex) return newest;
  return current;
}

/** Console bytes as text for the host key scanner (a UTF-8 sequence may be split across reads). */
class ConsoleText {
  private readonly decoder = new TextDecoder();
  private readonly scanner = new HostKeyScanner();

  push(bytes: Buffer): void {
    this.scanner.push(this.decoder.decode(bytes, { stream: true }));
  }

  get result(): HostKeys | undefined {
    return this.scanner.result;
  }

  /** Both blocks seen (cloud-init prints the fingerprints, then the keys). */
  get complete(): boolean {
    const keys = this.scanner.result;
    return keys !== undefined && keys.fingerprints.length > 0 && keys.publicKeys.length > 0;
  }
}

export class Watcher {
  private readonly watched = new Map<string, Watched>();
  /** Polls running at once; the others wait their turn in arrival order. */
  private readonly reads: Limit;
  private readonly inflight = new Set<Promise<void>>();
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly now: () => number;
  private readonly newScanner: (mac: string) => Scanner;
  private readonly hostKeyWaitMs: number;

  constructor(private readonly opts: WatcherOptions) {
    this.hostKeyWaitMs = opts.hostKeyWaitMs ?? HOST_KEY_WAIT_MS;
    this.reads = new Limit(opts.maxConcurrent ?? 4);
    this.now = opts.now ?? Date.now;
    this.newScanner = opts.newScanner ?? ((mac) => new ConsoleScanner(mac));
  }

  get size(): number {
    return this.watched.size;
  }

  isWatching(requestId: string): boolean {
    return this.watched.has(requestId);
  }

  /** Starts (or keeps) watching a VM. The ip timeout counts from now. A new boot replaces a wait for late host keys. */
  watch(target: WatchTarget): void {
    if (this.closed) return;
    const current = this.watched.get(target.requestId);
    if (current && !current.keys) return;
    if (current) this.unwatch(target.requestId);
    this.watched.set(target.requestId, {
      target,
      allocId: target.allocId,
      offset: resumeOffset(target.logOffset),
      lineStart: resumeOffset(target.logOffset),
      scanner: this.newScanner(target.mac),
      hostKeys: new ConsoleText(),
      progress: target.progress ? PROGRESS_STEPS.indexOf(target.progress) : -1,
      deadline: this.now() + this.opts.ipTimeoutMs,
      busy: false,
      done: false,
    });
    this.schedule(0);
  }

  /**
   * Reads a VM that is already up for its host keys alone, until target.deadline (a restart
   * during the follow-up window: the boot watch has ended, the store says where it was).
   */
  followKeys(target: KeysTarget): void {
    if (this.closed || this.watched.has(target.requestId) || !this.opts.events.onLateHostKeys) return;
    const offset = resumeOffset(target.logOffset);
    const deadline = this.now() + target.timeoutMs;
    this.watched.set(target.requestId, {
      target: { requestId: target.requestId, jobId: target.jobId, mac: target.mac, allocId: target.allocId, logOffset: target.logOffset, progress: 'address' },
      allocId: target.allocId,
      offset,
      lineStart: offset,
      scanner: this.newScanner(target.mac),
      hostKeys: new ConsoleText(),
      progress: PROGRESS_STEPS.indexOf('address'),
      deadline,
      busy: false,
      done: false,
      keys: { deadline, skip: 0 },
    });
    this.schedule(0);
  }

  /** Whether a VM is watched for its late host keys only (it is up). */
  isFollowingKeys(requestId: string): boolean {
    return this.watched.get(requestId)?.keys !== undefined;
  }

  unwatch(requestId: string): void {
    const w = this.watched.get(requestId);
    if (w) w.done = true;
    this.watched.delete(requestId);
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    for (const w of this.watched.values()) w.done = true;
    this.watched.clear();
    await Promise.allSettled([...this.inflight]);
  }

  private schedule(delay: number): void {
    if (this.closed || this.timer || this.watched.size === 0) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.tick();
    }, delay);
  }

  private tick(): void {
    // VMs still booting queue for the read limit first; the waits for late keys after them.
    const booting = [...this.watched.values()].filter((w) => !w.keys);
    const following = [...this.watched.values()].filter((w) => w.keys && w.keys.skip-- <= 0);
    for (const w of [...booting, ...following]) {
      if (w.busy) continue;
      if (w.keys) w.keys.skip = KEYS_POLL_EVERY - 1;
      w.busy = true;
      // A poll still waiting for its turn when the VM is unwatched (or at close) finds it done and returns.
      const p = this.reads
        .run(() => this.poll(w))
        .catch((err: unknown) => this.opts.logger.warn({ err, requestId: w.target.requestId }, 'watcher poll failed; will try again'))
        .finally(() => {
          w.busy = false;
          this.inflight.delete(p);
        });
      this.inflight.add(p);
    }
    this.schedule(this.opts.pollIntervalMs);
  }

  private async advance(w: Watched, step: ProgressStep, extra: WatchProgress = {}): Promise<void> {
    const index = PROGRESS_STEPS.indexOf(step);
    if (index <= w.progress) {
      if (Object.keys(extra).length > 0) await this.opts.events.onProgress(w.target.requestId, extra);
      return;
    }
    w.progress = index;
    await this.opts.events.onProgress(w.target.requestId, { ...extra, progress: step });
  }

  private async finish(w: Watched, fn: () => Promise<void>): Promise<void> {
    if (w.done) return;
    this.unwatch(w.target.requestId);
    await fn();
  }

  /** One look at one VM: its allocations, then new console output. */
  private async poll(w: Watched): Promise<void> {
    if (w.done) return;
    if (w.keys) return this.pollKeys(w, w.keys);
    const { nomad, events } = this.opts;
    const id = w.target.requestId;
    if (w.addressAt !== undefined && this.now() - w.addressAt >= this.hostKeyWaitMs) {
      await this.up(w);
      return;
    }
    if (w.addressAt === undefined && this.now() > w.deadline) {
      const minutes = Math.round(this.opts.ipTimeoutMs / 60_000);
      await this.finish(w, () =>
        events.onFailure(id, {
          code: 'ip_timeout',
          message: `The VM printed no address within ${minutes >= 1 ? `${minutes} min` : `${this.opts.ipTimeoutMs} ms`}. Check the console tail below (network, DHCP lease, cloud-init), then press Retry.`,
          consoleTail: w.scanner.tail(),
        }),
      );
      return;
    }

    const allocs = await nomad.listAllocations(w.target.jobId);
    const alloc = currentAllocation(allocs, w.allocId);
    if (!alloc || w.done) return;
    if (alloc.id !== w.allocId) {
      // A new allocation (first placement or a reschedule) boots afresh: new scanner, offset 0.
      if (w.allocId) this.opts.logger.info({ requestId: id, from: w.allocId, to: alloc.id }, 'following the replacement allocation');
      w.allocId = alloc.id;
      w.offset = 0;
      w.lineStart = 0;
      w.scanner = this.newScanner(w.target.mac);
      w.hostKeys = new ConsoleText();
      delete w.addressAt;
      await events.onProgress(id, { allocId: alloc.id, logOffset: 0 });
    }

    const task = alloc.taskStates[VM_TASK_NAME];
    if ((alloc.clientStatus === 'failed' || task?.failed) && !alloc.nextAllocation) {
      await this.finish(w, () => events.onFailure(id, { code: 'task_failed', message: failureMessage(task) }));
      return;
    }
    if (alloc.clientStatus !== 'running') return;
    await this.advance(w, 'allocation_running');

    let chunk;
    try {
      chunk = await nomad.readLogs(alloc.id, VM_TASK_NAME, w.offset);
    } catch (err) {
      if (err instanceof NomadError && err.code === 'task_not_started') return;
      if (err instanceof NomadError && err.code === 'not_found') {
        w.allocId = null; // gone (garbage-collected): pick the newest next time
        return;
      }
      throw err;
    }
    if (w.done || chunk.data.length === 0) return;
    w.scanner.push(chunk.data);
    w.hostKeys.push(chunk.data);
    const lastNewline = chunk.data.lastIndexOf(0x0a);
    if (lastNewline >= 0) w.lineStart = w.offset + lastNewline + 1;
    w.offset = chunk.nextOffset;
    await this.advance(w, 'booting', { allocId: alloc.id, logOffset: w.lineStart });

    if (!w.scanner.address) return;
    // Up once the host keys are in too (they may come before or after the address), or
    // when the moment they get runs out (checked at the top of each poll).
    w.addressAt ??= this.now();
    if (w.hostKeys.complete) await this.up(w);
  }

  private async up(w: Watched): Promise<void> {
    const address = w.scanner.address;
    if (!address) return;
    const hostKeys = w.hostKeys.result;
    const timeout = this.opts.hostKeysTimeoutMs ?? 0;
    if (hostKeys?.fingerprints.length || timeout <= 0 || !this.opts.events.onLateHostKeys || !w.allocId) {
      await this.finish(w, () => this.opts.events.onAddress(w.target.requestId, address, hostKeys));
      return;
    }
    // Up now (the address is what the member waits for), and the console still read for the keys.
    w.keys = { deadline: this.now() + timeout, skip: KEYS_POLL_EVERY - 1 };
    await this.opts.events.onAddress(w.target.requestId, address, hostKeys);
  }

  /** A look at a VM that is up, for its host keys alone: on the same allocation, until the deadline. */
  private async pollKeys(w: Watched, keys: NonNullable<Watched['keys']>): Promise<void> {
    const { nomad, events } = this.opts;
    const id = w.target.requestId;
    if (this.now() > keys.deadline) {
      // The fingerprints alone, if the keys block never followed them; else nothing.
      if (!(await this.sendKeysIfReady(w, keys))) await this.finish(w, async () => events.onHostKeysMissing?.(id, 'deadline'));
      return;
    }
    const alloc = (await nomad.listAllocations(w.target.jobId)).find((a) => a.id === w.allocId);
    if (w.done) return;
    // Gone, ended or replaced: whatever a new allocation prints belongs to its own boot (liveness follows it).
    if (!alloc || TERMINAL.has(alloc.clientStatus) || alloc.nextAllocation) {
      await this.finish(w, async () => events.onHostKeysMissing?.(id, 'allocation_ended'));
      return;
    }
    if (alloc.clientStatus !== 'running') return; // an in-place restart: the next boot may still print them
    let chunk;
    try {
      chunk = await nomad.readLogs(alloc.id, VM_TASK_NAME, w.offset);
    } catch (err) {
      if (err instanceof NomadError && (err.code === 'task_not_started' || err.code === 'not_found')) return;
      throw err;
    }
    if (w.done) return;
    if (chunk.data.length > 0) {
      w.hostKeys.push(chunk.data);
      w.offset = chunk.nextOffset;
    }
    await this.sendKeysIfReady(w, keys);
  }

  /**
   * Hands the keys over once both blocks are in, or the fingerprints alone once the keys
   * block has had hostKeyWaitMs to follow (or the deadline came). Called after each read,
   * so the fingerprints never go alone while unread output may hold the keys block. True:
   * the watch is over.
   */
  private async sendKeysIfReady(w: Watched, keys: NonNullable<Watched['keys']>): Promise<boolean> {
    const found = w.hostKeys.result;
    if (!found?.fingerprints.length || !w.allocId) return false;
    keys.partialAt ??= this.now();
    const ready = w.hostKeys.complete || this.now() - keys.partialAt >= this.hostKeyWaitMs || this.now() > keys.deadline;
    if (!ready) return false;
    const allocId = w.allocId;
    await this.finish(w, () => this.opts.events.onLateHostKeys!(w.target.requestId, allocId, found));
    return true;
  }
}
