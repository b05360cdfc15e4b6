// Pool sync (DESIGN §3, "Job ownership"): the admins still write some jobs by hand. Their
// MACs must never be handed out, so every job WITHOUT meta.vmbot_request has the `mac=` of
// its qemu args marked `external`; external MACs whose job is gone are freed. Uses the
// NomadPort and MacStore interfaces only.
import type { NomadPort } from '../nomad/port.js';
import type { MacStore } from '../store/types.js';

/** `-device virtio-net-pci,netdev=hn0,id=nic1,mac=52:54:84:ba:49:22` → the MAC, lower case. */
const MAC_IN_ARG = /(?:^|[,\s])mac=([0-9a-f]{2}(?::[0-9a-f]{2}){5})(?=$|[,\s])/gi;

export function macsInArgs(args: readonly string[]): string[] {
  const macs = new Set<string>();
  for (const arg of args) for (const m of arg.matchAll(MAC_IN_ARG)) macs.add(m[1]!.toLowerCase());
  return [...macs];
}

export interface PoolSyncReport {
  /** Jobs Nomad listed. */
  jobs: number;
  /** vmbot's own jobs (they carry meta.vmbot_request), left to the request lifecycle. */
  ownJobs: number;
  /** Hand-made jobs and the MACs they use. */
  external: Array<{ jobId: string; macs: string[] }>;
  /** MACs newly marked external. */
  added: string[];
  /** External MACs freed because their job is gone. */
  freed: string[];
  /** A MAC vmbot gave to one of its VMs that a hand-made job also uses. */
  conflicts: Array<{ mac: string; jobId: string; requestId: string }>;
  /** One MAC used by several hand-made jobs (only one can be up on the bridge at a time). */
  shared: Array<{ mac: string; jobIds: string[] }>;
}

export async function syncPool(nomad: Pick<NomadPort, 'listJobs'>, macs: Pick<MacStore, 'syncExternal'>): Promise<PoolSyncReport> {
  const jobs = await nomad.listJobs();
  const external: PoolSyncReport['external'] = [];
  const users = new Map<string, string[]>();
  let ownJobs = 0;
  for (const job of [...jobs].sort((a, b) => a.id.localeCompare(b.id))) {
    if (job.meta.vmbot_request) {
      ownJobs++;
      continue;
    }
    const found = macsInArgs(job.qemuArgs);
    if (found.length === 0) continue;
    external.push({ jobId: job.id, macs: found });
    for (const mac of found) users.set(mac, [...(users.get(mac) ?? []), job.id]);
  }
  const result = await macs.syncExternal([...users].map(([mac, jobIds]) => ({ mac, jobId: jobIds[0]! })));
  const shared = [...users].filter(([, ids]) => ids.length > 1).map(([mac, jobIds]) => ({ mac, jobIds }));
  return { jobs: jobs.length, ownJobs, external, added: result.added, freed: result.freed, conflicts: result.conflicts, shared };
}

/** The text `vmbot pool sync` prints. */
export function formatPoolSyncReport(r: PoolSyncReport): string {
  const lines = [`Nomad has ${r.jobs} job(s): ${r.ownJobs} made by vmbot, ${r.external.length} hand-made with a MAC.`];
  for (const e of r.external) lines.push(`  ${e.jobId}: ${e.macs.join(', ')}`);
  lines.push(r.added.length ? `Marked external: ${r.added.join(', ')}` : 'Marked external: none new');
  lines.push(r.freed.length ? `Freed (their job is gone): ${r.freed.join(', ')}` : 'Freed: none');
  for (const c of r.conflicts) {
    lines.push(`CONFLICT: ${c.mac} is held by vmbot request ${c.requestId} but the hand-made job "${c.jobId}" also uses it: change that job's MAC, or delete one of the two VMs.`);
  }
  for (const s of r.shared) lines.push(`WARNING: ${s.mac} is used by several hand-made jobs (${s.jobIds.join(', ')}): only one can be up at a time.`);
  return lines.join('\n');
}
