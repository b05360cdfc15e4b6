// SSH adapter figures (docs/benchmarks.md, "SSH adapter"):
//  1. approval-to-submitted (getJob to check the job is not there yet, then submitJob) over
//     the persistent connection against one new SSH connection per command, same run;
//  2. channels in use while 50 VMs provision at once (submit, list allocations, read logs).
// Against real sshd when this machine can run it (root + /usr/sbin/sshd), and the ssh2 double.
// Run: npx tsx bench/ssh-adapter.ts [rounds]   (default 15)
import { loadavg } from 'node:os';
import { startSimCluster } from '../src/nomad/sim/index.js';
import { VM_TASK_NAME } from '../src/nomad/port.js';
import { createSshNomad, type SshNomadOptions, type SshNomadPort } from '../src/nomad/ssh/adapter.js';
import { vmJobHcl } from '../tests/integration/nomad/support.js';
import { assertSshdRunnable, startSshd } from '../tests/support/sshd.js';
import { startTestSshServer } from '../tests/support/ssh-server.js';

const TOKEN = 'bench-token-0000';
const rounds = Number(process.argv[2] ?? 15);
const ms = (start: bigint) => Number(process.hrtime.bigint() - start) / 1e6;
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;
const fmt = (xs: number[]) => `median ${pct(xs, 50).toFixed(0)} ms, p90 ${pct(xs, 90).toFixed(0)} ms`;

console.log(`load average ${loadavg().map((l) => l.toFixed(1)).join(' ')} on ${(await import('node:os')).cpus().length} cores; ${rounds} rounds`);

const sim = await startSimCluster({ acl: { token: TOKEN }, startDelayMs: 20, bootDelayMs: 100, chunkDelayMs: 5, subnet: '10.10.0.0/16' });
const servers: Array<{ name: string; opts: SshNomadOptions; close(): Promise<void> }> = [];
const double = await startTestSshServer({ nomadAddr: sim.url, token: TOKEN });
servers.push({
  name: 'ssh2 double',
  opts: { host: double.host, port: double.port, user: double.user, privateKey: double.clientKey.privateKey, hostKeyFingerprint: double.hostKey.fingerprint, tokenFile: '~/.nomad-token' },
  close: () => double.close(),
});
try {
  assertSshdRunnable();
  const sshd = await startSshd({ nomadAddr: sim.url, token: TOKEN });
  servers.unshift({
    name: 'OpenSSH sshd',
    opts: { host: sshd.host, port: sshd.port, user: sshd.user, privateKey: sshd.clientKey.privateKey, hostKeyFingerprint: sshd.hostKey.fingerprint, tokenFile: '~/.nomad-token' },
    close: () => sshd.close(),
  });
} catch (err) {
  console.log(`(real sshd not measured: ${(err as Error).message})`);
}

let seq = 0;
for (const server of servers) {
  console.log(`\n## ${server.name}`);
  // Warm-up: the HCL parser's wasm compile and the first connection are not what we compare.
  const warm = createSshNomad(server.opts);
  await warm.submitJob(vmJobHcl({ id: `uservm-warm-${seq++}` }));
  await warm.close();

  const persistent = createSshNomad(server.opts);
  const viaPersistent: number[] = [];
  const viaFresh: number[] = [];
  for (let i = 0; i < rounds; i++) {
    // Alternate so that load changes hit both the same way.
    let start = process.hrtime.bigint();
    const a = `uservm-p-${seq++}`;
    if ((await persistent.getJob(a)) === null) await persistent.submitJob(vmJobHcl({ id: a }));
    viaPersistent.push(ms(start));

    start = process.hrtime.bigint();
    const b = `uservm-f-${seq++}`;
    const check = createSshNomad(server.opts);
    const absent = (await check.getJob(b)) === null;
    await check.close();
    if (absent) {
      const submit = createSshNomad(server.opts);
      await submit.submitJob(vmJobHcl({ id: b }));
      await submit.close();
    }
    viaFresh.push(ms(start));
  }
  console.log(`approval-to-submitted, persistent connection: ${fmt(viaPersistent)}`);
  console.log(`approval-to-submitted, new connection per command: ${fmt(viaFresh)}`);

  // The transport alone: `true` needs no nomad CLI start, so this is SSH's own share.
  const bare: number[] = [];
  const bareFresh: number[] = [];
  for (let i = 0; i < rounds; i++) {
    let start = process.hrtime.bigint();
    await persistent.connection.exec('true');
    bare.push(ms(start));
    start = process.hrtime.bigint();
    const fresh = createSshNomad(server.opts);
    await fresh.connection.exec('true');
    await fresh.close();
    bareFresh.push(ms(start));
  }
  console.log(`one command (\`true\`), persistent connection: ${fmt(bare)}`);
  console.log(`one command (\`true\`), new connection: ${fmt(bareFresh)}`);
  await persistent.close();

  // 50 VMs at once: submit, wait for each allocation, read each console once.
  const nomad: SshNomadPort = createSshNomad(server.opts);
  const samples: number[] = [];
  let queuedMax = 0;
  const sampler = setInterval(() => {
    const s = nomad.stats();
    samples.push(s.active);
    queuedMax = Math.max(queuedMax, s.queued);
  }, 5);
  const start = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: 50 }, async () => {
      const id = `uservm-many-${seq++}`;
      await nomad.submitJob(vmJobHcl({ id }));
      let alloc;
      while (!(alloc = (await nomad.listAllocations(id))[0])) await new Promise((r) => setTimeout(r, 50));
      for (;;) {
        try {
          await nomad.readLogs(alloc.id, VM_TASK_NAME, 0);
          break;
        } catch {
          await new Promise((r) => setTimeout(r, 50));
        }
      }
    }),
  );
  clearInterval(sampler);
  const busy = samples.filter((s) => s > 0);
  console.log(
    `50 VMs (submit + allocations + one log read each): ${ms(start).toFixed(0)} ms; channels in use max ${nomad.stats().maxActive} (cap 6), ` +
      `mean ${(busy.reduce((a, b) => a + b, 0) / Math.max(1, busy.length)).toFixed(1)} while busy; queued max ${queuedMax}` +
      (server.name === 'ssh2 double' ? `; server refused ${double.refusedChannels} channel opens, server slots max ${double.maxActiveChannels}` : ''),
  );
  await nomad.close();
  await server.close();
}
await sim.close();
process.exit(0);
