// What to do with the job id a request is about to deploy to, decided from what Nomad has
// under it (pure: provisioning reads the job, asks here, then acts). The job is vmbot's for
// this request only when its meta.vmbot_request says so; anything else is never touched.
import type { JobInfo } from '../nomad/port.js';

export type DeployDecision =
  /** Nothing there: submit the rendered job. */
  | { kind: 'submit' }
  /** Our job, alive: it already runs for this request (a restart mid-way); watch it, do not resubmit. */
  | { kind: 'adopt' }
  /** Our job, but dead, or this is a Retry or a rebuild: purge it, wait for QEMU to let go of the MAC, submit afresh. */
  | { kind: 'purge-and-resubmit' }
  /** Our job, stopped (a power stop, or the lease's): register the same job again, once QEMU let go of the MAC; no purge. */
  | { kind: 'resubmit' }
  /** Someone else's job (another request's, or hand-made): refuse, leave it alone. */
  | { kind: 'refuse-foreign'; owner: string | undefined };

export type ExistingJob = Pick<JobInfo, 'meta' | 'stop' | 'status'>;

/** vmbot owns a job for a request only when the job's meta.vmbot_request says so. */
export function ownedBy(job: Pick<JobInfo, 'meta'>, requestId: string): boolean {
  return job.meta.vmbot_request === requestId;
}

/**
 * `fresh`: a Retry or a rebuild; an old job of ours is purged and submitted again rather
 * than adopted (adopting it would only watch the same failure again). Our job stopped (Stop
 * set, as /vm stop leaves it) is registered again as it is: that is how Nomad starts a
 * stopped job, and it keeps the job's history.
 */
export function decideDeploy(existing: ExistingJob | null, requestId: string, opts: { fresh: boolean }): DeployDecision {
  if (!existing) return { kind: 'submit' };
  if (!ownedBy(existing, requestId)) return { kind: 'refuse-foreign', owner: existing.meta.vmbot_request };
  if (opts.fresh || (existing.status === 'dead' && !existing.stop)) return { kind: 'purge-and-resubmit' };
  if (existing.stop) return { kind: 'resubmit' };
  return { kind: 'adopt' };
}

/** The audit line for a job vmbot found under its job id but did not make (and so left alone). */
export function notOursDetail(jobId: string, job: Pick<JobInfo, 'meta' | 'status'>): string {
  const owner = job.meta.vmbot_request;
  return `job ${jobId} is not vmbot's (meta.vmbot_request ${owner ? `is ${owner}` : 'missing'}): left ${job.status === 'dead' ? 'alone' : 'running'}`;
}
