// Two Nomad clusters in one vmbot (nomad.clusters + nomad.routes): each request goes to the
// cluster its size routes it to, records it at approval, and everything afterwards —
// the boot watch, deletion, liveness and resuming after a restart — happens there and
// only there. Two simulated clusters, each behind its own HTTP server, built by the core
// from the configuration as production builds them.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startSimCluster, type SimCluster } from '../../../src/nomad/sim/index.js';
import { startHarness, type Harness } from '../../support/harness.js';
import { makeTempDir } from '../../support/tmp.js';

let rack1: SimCluster;
let rack2: SimCluster;
beforeAll(async () => {
  [rack1, rack2] = await Promise.all([startSimCluster({ bootDelayMs: 50 }), startSimCluster({ bootDelayMs: 50, subnet: '10.20.0.0/24' })]);
});
afterAll(async () => {
  await Promise.all([rack1?.close(), rack2?.close()]);
});

const harnesses: Harness[] = [];
afterEach(async () => {
  for (const h of harnesses.splice(0)) await h.close();
  rack2.control.setBootDelay(50);
});

/** large VMs go to rack2 (its own prefix and datacenter); everything else to rack1, the first. */
function twoRacks() {
  return {
    nomad: {
      clusters: [
        { name: 'rack1', http: { address: rack1.url } },
        { name: 'rack2', jobPrefix: 'rack2-', datacenters: ['mesa'], http: { address: rack2.url } },
      ],
      routes: [{ size: 'large', cluster: 'rack2' }],
    },
  };
}

async function start(opts: { dir?: string } = {}): Promise<Harness> {
  const h = await startHarness({ simCluster: rack1, configuredClusters: true, config: twoRacks(), ...(opts.dir ? { dir: opts.dir } : {}) });
  harnesses.push(h);
  return h;
}

async function submitAndApprove(h: Harness, name: string, size: string): Promise<string> {
  const submitted = await h.core.workflow.submitRequest(h.member(), h.input({ name, size }));
  if (!submitted.ok) throw new Error(`submit refused: ${JSON.stringify(submitted.problems)}`);
  const approved = await h.core.workflow.approve(h.admin(), submitted.value.requestId);
  expect(approved.ok).toBe(true);
  return submitted.value.requestId;
}

const jobIds = (sim: SimCluster) => sim.control.jobs().map((j) => j.id);

describe('two clusters', () => {
  it('routes each size to its cluster: the job, its prefix and datacenter appear there only', async () => {
    const h = await start();
    expect(h.core.clusters.names).toEqual(['rack1', 'rack2']);
    const small = await submitAndApprove(h, 'small-one', 'small');
    const large = await submitAndApprove(h, 'large-one', 'large');

    const [onRack1, onRack2] = await Promise.all([h.inState(small, 'running'), h.inState(large, 'running')]);
    expect(onRack1).toMatchObject({ cluster: 'rack1', jobId: 'uservm-small-one' });
    expect(onRack2).toMatchObject({ cluster: 'rack2', jobId: 'rack2-large-one' });
    expect(onRack1.address?.ipv4).toMatch(/^10\.10\.0\./);
    expect(onRack2.address?.ipv4).toMatch(/^10\.20\.0\./);

    expect(jobIds(rack1)).toEqual(['uservm-small-one']);
    expect(jobIds(rack2)).toEqual(['rack2-large-one']);
    expect(rack2.control.jobs()[0]!.job.Datacenters).toEqual(['mesa']);
    expect(rack1.control.jobs()[0]!.job.Datacenters).toEqual(['aperture']);
    // The MAC pool is one pool: the two VMs got different MACs.
    expect(onRack1.mac).not.toBe(onRack2.mac);
    // The approval's audit row says where the VM went.
    const approve = (await h.core.store.audit.list({ requestId: large })).find((a) => a.action === 'approve');
    expect(approve?.detail).toBe('cluster rack2');

    // Deleting stops the job on its own cluster and leaves the other alone.
    const deleted = await h.core.workflow.delete(h.member(), 'large-one');
    expect(deleted.ok).toBe(true);
    await h.inState(large, 'deleted');
    expect(jobIds(rack2)).toEqual([]);
    expect(jobIds(rack1)).toEqual(['uservm-small-one']);

    await h.core.workflow.delete(h.member(), 'small-one');
    await h.inState(small, 'deleted');
    expect(jobIds(rack1)).toEqual([]);
  });

  it('refuses a name too long for the prefix of the cluster the request would go to', async () => {
    const h = await start();
    // 63 - "rack2-".length = 57 fit on rack2; 63 - "uservm-".length = 56 on rack1.
    const name = `a${'b'.repeat(56)}`;
    expect((await h.core.workflow.submitRequest(h.member(), h.input({ name, size: 'large' }))).ok).toBe(true);
    const refused = await h.core.workflow.submitRequest(h.member('U2'), h.input({ name: `c${'d'.repeat(56)}`, size: 'small' }));
    expect(refused.ok).toBe(false);
    expect(!refused.ok && refused.problems[0]).toMatchObject({ code: 'invalid_name' });
    expect(!refused.ok && refused.problems[0]!.message).toContain('at most 56');
  });

  it('after a restart, resumes provisioning, liveness and deletion on the cluster each request recorded', async () => {
    const temp = await makeTempDir('clusters-resume');
    try {
      const first = await start({ dir: temp.dir });
      // One VM already running on rack2, one still booting there when vmbot stops.
      const running = await submitAndApprove(first, 'kept', 'large');
      await first.inState(running, 'running');
      rack2.control.setBootDelay(1_500);
      const booting = await submitAndApprove(first, 'booting', 'large');
      await first.waitFor(async () => (await first.core.store.requests.get(booting))?.progress === 'submitted' || undefined, { what: 'the job submitted' });
      await first.close();
      harnesses.splice(harnesses.indexOf(first), 1);

      const second = await start({ dir: temp.dir });
      await second.core.workflow.resume();
      // The liveness check at resume asked rack2: the running VM is not "lost".
      expect((await second.core.store.requests.get(running))?.state).toBe('running');
      const resumed = await second.inState(booting, 'running');
      expect(resumed).toMatchObject({ cluster: 'rack2', jobId: 'rack2-booting' });
      expect(resumed.address?.ipv4).toMatch(/^10\.20\.0\./);
      // Adopted, not resubmitted; nothing ever went to rack1.
      expect(rack2.control.registrations('rack2-booting')).toBe(1);
      expect(jobIds(rack1)).toEqual([]);

      await second.core.workflow.delete(second.member(), 'kept');
      await second.inState(running, 'deleted');
      expect(jobIds(rack2)).toEqual(['rack2-booting']);
      await second.core.workflow.delete(second.member(), 'booting');
      await second.inState(booting, 'deleted');
      expect(jobIds(rack2)).toEqual([]);
    } finally {
      for (const h of harnesses.splice(0)) await h.close();
      await temp.cleanup();
    }
  });

  it('a request approved before clusters existed (no cluster recorded) is on the first cluster', async () => {
    const h = await start();
    const id = await submitAndApprove(h, 'old-row', 'small');
    await h.inState(id, 'running');
    // As a row from before migration 2 reads: cluster NULL.
    expect(await h.core.store.requests.update(id, ['running'], { cluster: null })).toMatchObject({ cluster: null });
    await h.core.workflow.delete(h.member(), 'old-row');
    await h.inState(id, 'deleted');
    expect(jobIds(rack1)).toEqual([]);
  });
});
