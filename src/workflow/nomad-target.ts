// Where a request's job lives: the Nomad port and the settings every background part reads
// (job prefix, datacenters, poll interval, ip timeout) of the cluster the request recorded
// at approval. The one place the workflow picks a cluster for a request.
import type { VmRequest } from '../domain/request.js';
import type { ClusterSettings, NomadPort } from '../nomad/port.js';
import type { WorkflowContext } from './context.js';

export interface NomadTarget {
  /** The cluster's name (what the request records). */
  cluster: string;
  nomad: NomadPort;
  settings: Pick<ClusterSettings, 'jobPrefix' | 'datacenters' | 'pollInterval' | 'ipTimeout'>;
}

/** The cluster a request is on: the one it recorded; the default (first) one for rows from before clusters, or without a request. */
export function clusterOf(ctx: Pick<WorkflowContext, 'clusters'>, req?: Pick<VmRequest, 'cluster'>): string {
  return req?.cluster ?? ctx.clusters.names[0]!;
}

/**
 * The cluster for `req` (or, without a request, the default one). Throws NomadError
 * ('rejected') when the request's cluster is no longer configured.
 */
export function nomadTarget(ctx: Pick<WorkflowContext, 'clusters'>, req?: Pick<VmRequest, 'cluster'>): NomadTarget {
  const cluster = clusterOf(ctx, req);
  return { cluster, nomad: ctx.clusters.port(cluster), settings: ctx.clusters.settings(cluster) };
}
