// A vmbot process for the crash test (crash.test.ts): it builds the same core as the
// harness from VMBOT_TEST_CONFIG, asks for a VM, approves it, waits for it to run (and,
// in the `delete` scenario, deletes it), and kills itself with exit code 137 — as if the
// machine died — at the step named by VMBOT_TEST_CRASH_AT. Exit 0: the step was never
// reached; exit 3: the VM did not get where it should.
import { parseConfig } from '../../../src/config/load.js';
import { silentLogger } from '../../../src/log.js';
import { buildCore } from '../../../src/app.js';
import { createHttpNomad } from '../../../src/nomad/http/adapter.js';
import { createBuiltinPublisher } from '../../../src/cloudinit/builtin.js';
import type { Actor } from '../../../src/domain/request.js';
import type { RequestState } from '../../../src/domain/states.js';

const config = parseConfig(JSON.parse(process.env.VMBOT_TEST_CONFIG ?? '{}'), 'VMBOT_TEST_CONFIG');
const crashAt = process.env.VMBOT_TEST_CRASH_AT;
const scenario = process.env.VMBOT_TEST_SCENARIO ?? 'provision';
const name = process.env.VMBOT_TEST_NAME ?? 'crash-vm';

// The harness's Nomad timeout (10 s): on a loaded two-core CI machine a sim call can take
// seconds, and a timed-out submit would fail the request before the step under test.
const nomad = createHttpNomad({ address: config.nomad.http!.address, timeoutMs: 10_000, retries: 0 });
const publisher = createBuiltinPublisher({ dir: config.cloudInit.builtin.dir, publicUrl: config.cloudInit.builtin.publicUrl });
const core = await buildCore({
  config,
  secrets: {},
  logger: silentLogger,
  nomad,
  publisher,
  workflow: {
    coalesceMs: 5,
    hooks: {
      step(step) {
        if (step === crashAt) process.exit(137);
      },
    },
  },
});

const member: Actor = { platform: 'slack', userId: 'U1', groups: [] };
const admin: Actor = { platform: 'slack', userId: 'UADMIN1', groups: [] };

async function until(id: string, state: RequestState): Promise<void> {
  // As long as the parent waits for the resumed request (60 s): this only bounds a hang.
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if ((await core.store.requests.get(id))?.state === state) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  console.error(`request ${id} did not become ${state}`);
  process.exit(3);
}

const submitted = await core.workflow.submitRequest(member, { name, distro: 'debian-12', size: 'small', login: 'alice', sshKeys: process.env.VMBOT_TEST_SSH_KEY ?? '', reason: 'crash test' });
if (!submitted.ok) throw new Error(JSON.stringify(submitted.problems));
const id = submitted.value.requestId;
process.stdout.write(`${JSON.stringify({ id })}\n`);
const approved = await core.workflow.approve(admin, id);
if (!approved.ok) throw new Error(JSON.stringify(approved.problems));
await until(id, 'running');
if (scenario === 'delete') {
  const deleted = await core.workflow.delete(member, id);
  if (!deleted.ok) throw new Error(JSON.stringify(deleted.problems));
  await until(id, 'deleted');
}
await core.close();
await nomad.close();
await publisher.close();
process.exit(0);
