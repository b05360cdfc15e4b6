// What provisioning and deletion both do to a request's Nomad job: stop it only if it is
// ours, and wait until no allocation holds the VM's MAC. Each takes the port explicitly
// (the request's cluster), so nothing here assumes one shared cluster.
import { setTimeout as sleep } from 'node:timers/promises';
import { VmbotError } from '../domain/problem.js';
import type { AllocationInfo, JobInfo, NomadPort, StopJobOptions } from '../nomad/port.js';
import { ownedBy } from './deploy-policy.js';
import { macsInArgs } from './pool-sync.js';

/** An allocation still holds the VM's MAC until QEMU is gone. */
export function holdsMac(alloc: AllocationInfo): boolean {
  return alloc.clientStatus === 'running' || (alloc.clientStatus === 'pending' && alloc.desiredStatus === 'run');
}

/**
 * Stops and purges `jobId` only if it is this request's (meta.vmbot_request); `purge: false`
 * (a power stop) keeps it registered. Returns the job when it is someone else's: it is never
 * stopped. Every stopJob goes through here.
 */
export async function stopIfOurs(nomad: NomadPort, jobId: string, requestId: string, opts: StopJobOptions = {}): Promise<JobInfo | null> {
  const job = await nomad.getJob(jobId);
  if (!job) return null; // already gone
  if (!ownedBy(job, requestId)) return job;
  await nomad.stopJob(jobId, opts.purge === false ? { purge: false } : undefined);
  return null;
}

/** A hand-made job (no meta.vmbot_request) that still lists `mac` in its qemu args, if any. */
export async function handMadeJobUsing(nomad: NomadPort, mac: string): Promise<string | undefined> {
  const jobs = await nomad.listJobs();
  return jobs.find((j) => !j.meta.vmbot_request && macsInArgs(j.qemuArgs).includes(mac.toLowerCase()))?.id;
}

export interface AllocationWait {
  timeoutMs: number;
  pollIntervalMs: number;
  signal: AbortSignal;
  /** Only this allocation (our last one, when the job itself is not ours to wait for). */
  allocId?: string;
}

/** Polls the job's allocations (or only `allocId`) until none holds the MAC (QEMU gone), or throws at the deadline. */
export async function waitAllocationsStopped(nomad: NomadPort, jobId: string, wait: AllocationWait): Promise<void> {
  const deadline = Date.now() + wait.timeoutMs;
  for (;;) {
    const allocs = await nomad.listAllocations(jobId);
    const holding = allocs.filter((a) => holdsMac(a) && (wait.allocId === undefined || a.id === wait.allocId));
    if (holding.length === 0) return;
    if (Date.now() > deadline) {
      throw new VmbotError('nomad_error', `Allocation(s) ${holding.map((a) => a.id.slice(0, 8)).join(', ')} of ${jobId} are still running after the job was stopped; the MAC stays taken until they stop.`);
    }
    await sleep(wait.pollIntervalMs, undefined, { signal: wait.signal });
  }
}
