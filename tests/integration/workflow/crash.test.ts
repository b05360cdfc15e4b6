// Restart safety: a vmbot process is killed (exit 137, no cleanup) between every pair of
// provisioning and deletion steps; a new process on the same SQLite file and the same
// cluster resumes. Each request must end running with an address (or deleted), with exactly
// one job registration and no leaked or doubled MAC.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimCluster, type SimCluster } from '../../../src/nomad/sim/index.js';
import { harnessConfigInput, startHarness, TEST_SSH_KEY } from '../../support/harness.js';
import { makeTempDir } from '../../support/tmp.js';
import { DELETE_STEPS, PROVISION_STEPS, type Step } from '../../../src/workflow/index.js';
import { Limit } from '../../../src/domain/limit.js';

const CHILD = fileURLToPath(new URL('./crash-child.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
/** Child and restarted parent must render the same seed URL (the job spec must not change). */
const PUBLIC_URL = 'http://127.0.0.1:8000';

/** Child processes at once: each loads the whole core (two cores on CI). */
const children = new Limit(3);

let sim: SimCluster;
beforeAll(async () => {
  sim = await startSimCluster({ bootDelayMs: 50, chunkDelayMs: 5, startDelayMs: 20, stopDelayMs: 20, gcDelayMs: 20 });
});
afterAll(async () => {
  await sim?.close();
});

function runChild(env: Record<string, string>): Promise<{ code: number | null; id: string | undefined; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => {
      const line = stdout.split('\n').find((l) => l.startsWith('{'));
      resolve({ code, id: line ? (JSON.parse(line) as { id: string }).id : undefined, stderr });
    });
  });
}

async function crashAndResume(step: Step, scenario: 'provision' | 'delete', index: number): Promise<void> {
  const temp = await makeTempDir(`crash-${step}`);
  const name = `crash-${index}`;
  const jobId = `uservm-${name}`;
  // The harness gives a VM 10 s to print its address; on a loaded 2-core machine with three
  // children at once that is the one wait that could run out, so allow most of the 60 s bound.
  const over = { cloudInit: { builtin: { publicUrl: PUBLIC_URL } }, nomad: { ipTimeout: 45_000 } };
  try {
    const input = harnessConfigInput({ dir: temp.dir, simUrl: sim.url, nocloudUrl: PUBLIC_URL, config: over });
    const child = await children.run(() => runChild({ VMBOT_TEST_CONFIG: JSON.stringify(input), VMBOT_TEST_CRASH_AT: step, VMBOT_TEST_SCENARIO: scenario, VMBOT_TEST_NAME: name, VMBOT_TEST_SSH_KEY: TEST_SSH_KEY }));
    expect(child.code, `${step}: the child should have died there (stderr: ${child.stderr})`).toBe(137);
    expect(child.id).toBeDefined();
    const id = child.id!;

    const h = await startHarness({ dir: temp.dir, simCluster: sim, config: over });
    try {
      await h.core.workflow.resume();
      // Resume finishes what the crash interrupted: a provision ends running with an address
      // (failed is not an acceptable outcome: nothing in the cluster went wrong), a delete ends deleted.
      const want = scenario === 'delete' ? 'deleted' : 'running';
      const req = await h.waitFor(
        async () => {
          const r = await h.core.store.requests.get(id);
          // failed is final: return it so the assertion below names the failure at once.
          return r && (r.state === 'failed' || (r.state === want && (scenario === 'delete' || r.address?.ipv4))) ? r : undefined;
        },
        { what: `${step}: request to end ${want}`, timeoutMs: 60_000 },
      );
      expect(req.state, `${step}: ${JSON.stringify(req.failure)}`).toBe(want);
      if (scenario === 'provision') expect(req.address?.ipv4, `${step}: address`).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
      // One job, registered once, whatever the step.
      expect(sim.control.registrations(jobId), `${step}: registrations`).toBe(1);
      const usage = await h.core.store.macs.usage();
      if (scenario === 'delete') {
        expect(usage.used, `${step}: MAC released`).toBe(0);
        expect(sim.control.jobs().find((j) => j.id === jobId), `${step}: job purged`).toBeUndefined();
      } else {
        expect(usage.used, `${step}: one MAC`).toBe(1);
        expect(usage.holders.find((x) => x.holder.kind === 'request')?.mac).toBe(req.mac);
        const job = sim.control.jobs().find((j) => j.id === jobId);
        expect(job?.meta.vmbot_request).toBe(id);
        expect(JSON.stringify(job?.job)).toContain(`mac=${req.mac}`);
      }
    } finally {
      await h.close();
    }
  } finally {
    await temp.cleanup();
  }
}

describe('a crash between steps, then a restart', () => {
  // Every step the workflow marks: a new step is crash-tested without touching this file.
  const cases: Array<[Step, 'provision' | 'delete']> = [...PROVISION_STEPS.map((s) => [s, 'provision'] as [Step, 'provision']), ...DELETE_STEPS.map((s) => [s, 'delete'] as [Step, 'delete'])];
  it.concurrent.each(cases.map(([step, scenario], index) => ({ step, scenario, index })))('$scenario: killed $step', async ({ step, scenario, index }) => {
    await crashAndResume(step, scenario, index);
  }, 120_000);
});
