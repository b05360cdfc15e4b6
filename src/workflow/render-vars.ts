// Builds the template variables from a request and the configuration. The one builder:
// provisioning and `vmbot render` both call it, so the templates get exactly the same thing
// in a dry run as when the workflow submits the job.
import type { DistroConfig, SizeConfig } from '../config/schema.js';
import { VM_TASK_NAME } from '../nomad/port.js';
import type { RenderVars } from '../render/types.js';

/** The task name inside every job vmbot renders; the watcher reads this task's logs. */
export const TASK_NAME = VM_TASK_NAME;

export interface RenderInput {
  requestId: string;
  name: string;
  distro: DistroConfig;
  size: SizeConfig;
  login: string;
  sshKeys: readonly string[];
  mac: string;
  seedUrl: string;
  /** Rebuilds done so far (VmRequest.rebuilds); absent or 0: never rebuilt (a dry run). */
  rebuilds?: number;
  /**
   * The job id the request recorded at approval, kept even if jobPrefix changed since (a
   * Retry must resubmit the same job). Absent (a dry run): jobPrefix + name.
   */
  jobId?: string;
}

/**
 * The cloud-init instance-id's stem: the request id, and `<id>-r<n>` after n rebuilds, so a
 * rebuilt VM is a new instance to cloud-init while a VM never rebuilt renders as it always did.
 */
export function instanceIdOf(requestId: string, rebuilds = 0): string {
  return rebuilds > 0 ? `${requestId}-r${rebuilds}` : requestId;
}

export function renderVars(input: RenderInput, nomad: { jobPrefix: string; datacenters: readonly string[] }): RenderVars {
  return {
    requestId: input.requestId,
    instanceId: instanceIdOf(input.requestId, input.rebuilds),
    name: input.name,
    jobId: input.jobId ?? `${nomad.jobPrefix}${input.name}`,
    datacenters: [...nomad.datacenters],
    mac: input.mac,
    seedUrl: input.seedUrl,
    distro: { name: input.distro.name, label: input.distro.label, image: input.distro.image },
    size: { name: input.size.name, label: input.size.label, cpu: input.size.cpu, memory: input.size.memory },
    login: input.login,
    sshKeys: [...input.sshKeys],
    taskName: TASK_NAME,
  };
}
