// Where a request's job lives: the Nomad port and the settings every background part reads
// (job prefix, datacenters, poll interval, ip timeout). The one place the workflow reads
// them, so choosing a cluster per request changes this function and nothing else.
import type { VmRequest } from '../domain/request.js';
import type { ClusterSettings, NomadPort } from '../nomad/port.js';
import type { WorkflowContext } from './context.js';

export interface NomadTarget {
  nomad: NomadPort;
  settings: Pick<ClusterSettings, 'jobPrefix' | 'datacenters' | 'pollInterval' | 'ipTimeout'>;
}

/**
 * The cluster for `req` (or, without a request, the one the watcher and liveness checks
 * use). Today there is one: ctx.nomad and config.nomad.
 */
export function nomadTarget(ctx: Pick<WorkflowContext, 'nomad' | 'config'>, _req?: Pick<VmRequest, 'id'>): NomadTarget {
  const { jobPrefix, datacenters, pollInterval, ipTimeout } = ctx.config.nomad;
  return { nomad: ctx.nomad, settings: { jobPrefix, datacenters, pollInterval, ipTimeout } };
}
