// The NomadPort contract, run against every adapter: HTTP straight to the simulated cluster,
// SSH (node-ssh + the `nomad` CLI shim) through ssh2's server, and SSH through OpenSSH's real
// sshd. Then what only the SSH transport has: channel cap, host key pinning, dropped
// connections, CLI stderr, the token, SFTP publishing.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPublisher } from '../../../src/cloudinit/index.js';
import { createSftpPublisher } from '../../../src/cloudinit/sftp.js';
import { parseConfig } from '../../../src/config/load.js';
import { silentLogger } from '../../../src/log.js';
import { createHttpNomad } from '../../../src/nomad/http/adapter.js';
import { NomadError, VM_TASK_NAME, type NomadPort } from '../../../src/nomad/port.js';
import { startSimCluster, type SimCluster } from '../../../src/nomad/sim/index.js';
import { createSshNomad, type SshNomadPort } from '../../../src/nomad/ssh/adapter.js';
import { startSshd, type RealSshd } from '../../support/sshd.js';
import { generateKeyPair, startTestSshServer, type TestSshServer } from '../../support/ssh-server.js';
import { makeTempDir } from '../../support/tmp.js';
import { waitFor } from '../../support/wait.js';
import { vmJobHcl } from './support.js';

const TOKEN = 'b1f5c0de-7a11-4c3e-9d2a-5ecre7t0ken0';

let macSeq = 0x10;
/** A job in the admins' shape (support.ts) with a fresh MAC; no requestId = a hand-made job. */
function jobHcl(jobId: string, opts: { requestId?: string; mac?: string } = {}): { hcl: string; mac: string } {
  const mac = opts.mac ?? `52:54:84:ba:4a:${(macSeq++ % 256).toString(16).padStart(2, '0')}`;
  return { hcl: vmJobHcl({ id: jobId, mac, requestId: opts.requestId ?? null }), mac };
}

/** Polls `check` until it returns a value or the deadline passes (no fixed sleeps). */
function until<T>(what: string, check: () => Promise<T | undefined>, deadlineMs = 15_000): Promise<T> {
  return waitFor(check, { what, timeoutMs: deadlineMs });
}

interface Target {
  name: string;
  kind: 'http' | 'ssh2' | 'sshd';
  start(sim: SimCluster): Promise<{ nomad: NomadPort; ssh?: SshEnv; close(): Promise<void> }>;
}

/** Everything the SSH-only tests need about the server they talk to. */
interface SshEnv {
  host: string;
  port: number;
  user: string;
  clientKey: string;
  fingerprint: string;
  tokenFile: string;
  /** Remote folder for SFTP uploads, and where it is on this machine. */
  remoteDir: string;
  localDir: string;
  double?: TestSshServer;
  sshd?: RealSshd;
  make(extra?: Partial<Parameters<typeof createSshNomad>[0]>): SshNomadPort;
}

function sshEnvOf(server: TestSshServer | RealSshd, tokenFile: string, remoteDir: string, localDir: string): Omit<SshEnv, 'make'> {
  return { host: server.host, port: server.port, user: server.user, clientKey: server.clientKey.privateKey, fingerprint: server.hostKey.fingerprint, tokenFile, remoteDir, localDir };
}

function withMake(env: Omit<SshEnv, 'make'>): SshEnv {
  return {
    ...env,
    make: (extra = {}) =>
      createSshNomad({
        host: env.host,
        port: env.port,
        user: env.user,
        privateKey: env.clientKey,
        hostKeyFingerprint: env.fingerprint,
        tokenFile: env.tokenFile,
        commandTimeoutMs: 20_000,
        ...extra,
      }),
  };
}

const targets: Target[] = [
  {
    name: 'http adapter → simulated cluster',
    kind: 'http',
    async start(sim) {
      const nomad = createHttpNomad({ address: sim.url, token: TOKEN });
      return { nomad, close: () => nomad.close() };
    },
  },
  {
    name: 'ssh adapter → ssh2 server → nomad shim',
    kind: 'ssh2',
    async start(sim) {
      const double = await startTestSshServer({ nomadAddr: sim.url, token: TOKEN });
      const ssh = withMake({ ...sshEnvOf(double, '~/.nomad-token', '/storage/nomad/vm-resources', join(double.sftpRoot, 'storage/nomad/vm-resources')), double });
      const nomad = ssh.make();
      return { nomad, ssh, close: async () => (await nomad.close(), await double.close()) };
    },
  },
  {
    name: 'ssh adapter → real sshd → nomad shim',
    kind: 'sshd',
    async start(sim) {
      const sshd = await startSshd({ nomadAddr: sim.url, token: TOKEN });
      const dir = join(sshd.sftpRoot, 'vm-resources');
      const ssh = withMake({ ...sshEnvOf(sshd, '~/.nomad-token', dir, dir), sshd });
      const nomad = ssh.make();
      return { nomad, ssh, close: async () => (await nomad.close(), await sshd.close()) };
    },
  },
];

describe.each(targets)('NomadPort contract: $name', (target) => {
  let sim: SimCluster;
  let nomad: NomadPort;
  let env: Awaited<ReturnType<Target['start']>>;

  beforeAll(async () => {
    sim = await startSimCluster({ acl: { token: TOKEN }, startDelayMs: 30, bootDelayMs: 100, chunkDelayMs: 5, stopDelayMs: 20, gcDelayMs: 20 });
    env = await target.start(sim);
    nomad = env.nomad;
  });
  afterAll(async () => {
    await env?.close();
    await sim?.close();
  });

  it('submits a job, lists its allocation, reads its console by offset and finds the address', async () => {
    const jobId = `uservm-contract-${target.kind}`;
    const { hcl, mac } = jobHcl(jobId, { requestId: 'req-1' });
    const submitted = await nomad.submitJob(hcl);
    expect(submitted.jobId).toBe(jobId);
    expect(submitted.evalId).toMatch(/^[0-9a-f-]{36}$/);

    const job = await nomad.getJob(jobId);
    expect(job).toMatchObject({ id: jobId, stop: false, meta: { vmbot_request: 'req-1' } });

    const alloc = await until('a running allocation', async () => (await nomad.listAllocations(jobId)).find((a) => a.taskStates[VM_TASK_NAME]?.state === 'running'));
    expect(alloc.jobId).toBe(jobId);

    // Read the console in pieces, each from the offset the previous read returned.
    let offset = 0;
    const pieces: Buffer[] = [];
    const address = await until('the address in the console', async () => {
      const chunk = await nomad.readLogs(alloc.id, VM_TASK_NAME, offset);
      expect(chunk.nextOffset).toBe(offset + chunk.data.length);
      pieces.push(chunk.data);
      offset = chunk.nextOffset;
      const text = Buffer.concat(pieces).toString('utf8');
      const row = text.split('\n').find((l) => l.includes(mac) && /\b\d+\.\d+\.\d+\.\d+\b/.test(l));
      return row ? /\b(\d+\.\d+\.\d+\.\d+)\b/.exec(row)![1] : undefined;
    });
    expect(address).toMatch(/^10\.10\.0\.\d+$/);
    expect(Buffer.concat(pieces).equals(sim.control.consoleOf(alloc.id).subarray(0, offset))).toBe(true);

    // A read from the middle returns exactly the tail.
    const mid = Math.floor(offset / 2);
    const tail = await nomad.readLogs(alloc.id, VM_TASK_NAME, mid);
    expect(tail.data.equals(sim.control.consoleOf(alloc.id).subarray(mid, mid + tail.data.length))).toBe(true);
  });

  it('answers null / empty for a job that does not exist', async () => {
    expect(await nomad.getJob('uservm-never-was')).toBeNull();
    expect(await nomad.listAllocations('uservm-never-was')).toEqual([]);
    await expect(nomad.stopJob('uservm-never-was')).resolves.toBeUndefined();
  });

  it('refuses an invalid job with a rejected error that carries Nomad\'s reason', async () => {
    const { hcl } = jobHcl(`uservm-bad-${target.kind}`);
    const err = await nomad.submitJob(hcl.replace('driver = "qemu"', 'driver = ""')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NomadError);
    expect((err as NomadError).code).toBe('rejected');
    expect((err as NomadError).message.toLowerCase()).toContain('driver');
  });

  it('lists jobs with their meta and qemu args, then stops and purges one', async () => {
    const jobId = `uservm-list-${target.kind}`;
    const { hcl, mac } = jobHcl(jobId);
    await nomad.submitJob(hcl);
    const listed = (await nomad.listJobs()).find((j) => j.id === jobId);
    expect(listed?.meta).toEqual({});
    expect(listed?.qemuArgs).toContain(`virtio-net-pci,netdev=hn0,id=nic1,mac=${mac}`);
    await nomad.stopJob(jobId);
    expect(await until('the job purged', async () => ((await nomad.getJob(jobId)) === null ? true : undefined))).toBe(true);
    await expect(nomad.stopJob(jobId)).resolves.toBeUndefined();
  });

  it('stops a job without purging it, then the same HCL starts it again: same job, next version, a new allocation', async () => {
    const jobId = `uservm-power-${target.kind}`;
    const { hcl } = jobHcl(jobId, { requestId: 'req-power' });
    await nomad.submitJob(hcl);
    const first = await until('a running allocation', async () => (await nomad.listAllocations(jobId)).find((a) => a.clientStatus === 'running'));

    await nomad.stopJob(jobId, { purge: false });
    const stopped = await until('the job stopped but registered', async () => {
      const job = await nomad.getJob(jobId);
      const allocs = await nomad.listAllocations(jobId);
      return job?.stop && job.status === 'dead' && allocs.length > 0 && allocs.every((a) => a.clientStatus === 'complete') ? job : undefined;
    });
    expect(stopped).toMatchObject({ id: jobId, stop: true, status: 'dead', meta: { vmbot_request: 'req-power' } });
    const stoppedVersion = sim.control.jobs().find((j) => j.id === jobId)!.version;

    await nomad.submitJob(hcl);
    const second = await until('a new running allocation', async () => (await nomad.listAllocations(jobId)).find((a) => a.id !== first.id && a.clientStatus === 'running'));
    expect(await nomad.getJob(jobId)).toMatchObject({ id: jobId, stop: false, status: 'running' });
    expect(sim.control.jobs().find((j) => j.id === jobId)!.version).toBe(stoppedVersion + 1);
    expect(sim.control.allocations(jobId).find((a) => a.ID === second.id)!.JobVersion).toBe(stoppedVersion + 1);
    const allocs = await nomad.listAllocations(jobId);
    expect(allocs.map((a) => a.id)).toEqual([second.id, first.id]); // newest first; the old one stays complete
    expect(allocs[1]!.clientStatus).toBe('complete');

    await nomad.stopJob(jobId); // the default still purges
    expect(await until('the job purged', async () => ((await nomad.getJob(jobId)) === null ? true : undefined))).toBe(true);
  });

  it('restarts an allocation in place: same allocation, restart events, a second boot on the same disk', async () => {
    const jobId = `uservm-reboot-${target.kind}`;
    const { hcl, mac } = jobHcl(jobId);
    await nomad.submitJob(hcl);
    const alloc = await until('a running allocation', async () => (await nomad.listAllocations(jobId)).find((a) => a.clientStatus === 'running'));
    await until('the first boot to finish', async () => (sim.control.consoleOf(alloc.id).toString().endsWith('login: ') ? true : undefined));
    const firstBoot = sim.control.consoleOf(alloc.id);
    const keys = sim.control.hostKeysOf(alloc.id);
    expect(firstBoot.toString()).toContain('-----BEGIN SSH HOST KEY FINGERPRINTS-----');

    await nomad.restartAllocation(alloc.id, VM_TASK_NAME);
    // The second boot printed to its login prompt: the restart is over (read the state after that).
    await until('the task restarted and booted again', async () => {
      const console = sim.control.consoleOf(alloc.id);
      return console.length > firstBoot.length && console.toString().endsWith('login: ') ? true : undefined;
    });
    const after = await nomad.listAllocations(jobId);
    expect(after.map((a) => a.id)).toEqual([alloc.id]);
    const restarted = after[0]!;
    expect(restarted.taskStates[VM_TASK_NAME]!.state).toBe('running');
    expect(restarted.clientStatus).toBe('running');
    const types = restarted.taskStates[VM_TASK_NAME]!.events.map((e) => e.type);
    const signaled = types.indexOf('Restart Signaled');
    expect(signaled).toBeGreaterThan(types.indexOf('Started'));
    expect(types.indexOf('Restarting')).toBeGreaterThan(signaled);
    expect(types.lastIndexOf('Started')).toBeGreaterThan(types.indexOf('Restarting'));
    expect(restarted.taskStates[VM_TASK_NAME]!.events[signaled]!.message).toBe('User requested restart');

    // The log goes on: the first boot stays, the second follows it with the address again but no new keys.
    const console = sim.control.consoleOf(alloc.id);
    expect(console.subarray(0, firstBoot.length).equals(firstBoot)).toBe(true);
    const secondBoot = console.subarray(firstBoot.length).toString();
    expect(secondBoot).toContain('SeaBIOS');
    expect(secondBoot.split('\n').some((l) => l.includes(mac) && /\b10\.10\.0\.\d+\b/.test(l))).toBe(true);
    expect(secondBoot).not.toContain('BEGIN SSH HOST KEY');
    expect(sim.control.hostKeysOf(alloc.id)).toEqual(keys);

    // Every running task when none is named.
    await expect(nomad.restartAllocation(alloc.id)).resolves.toBeUndefined();
    await until('the second restart signaled', async () => ((await nomad.listAllocations(jobId))[0]!.taskStates[VM_TASK_NAME]!.events.filter((e) => e.type === 'Restart Signaled').length === 2 ? true : undefined));
    await nomad.stopJob(jobId);
  });

  it('refuses to restart an unknown allocation (not_found) and a stopped one (rejected)', async () => {
    const unknown = await nomad.restartAllocation('0b8e4c52-8a43-4c0e-9b1e-6f0a4ad0d2a1', VM_TASK_NAME).catch((e: unknown) => e);
    expect((unknown as NomadError).code).toBe('not_found');

    const jobId = `uservm-reboot-stopped-${target.kind}`;
    await nomad.submitJob(jobHcl(jobId).hcl);
    const alloc = await until('a running allocation', async () => (await nomad.listAllocations(jobId)).find((a) => a.clientStatus === 'running'));
    await nomad.stopJob(jobId, { purge: false });
    await until('the allocation complete', async () => ((await nomad.listAllocations(jobId))[0]?.clientStatus === 'complete' ? true : undefined));
    const stopped = await nomad.restartAllocation(alloc.id, VM_TASK_NAME).catch((e: unknown) => e);
    expect(stopped).toBeInstanceOf(NomadError);
    expect((stopped as NomadError).code).toBe('rejected');
    expect((stopped as Error).message).toContain('not running');
  }, 30_000);

  it('reads the last bytes of the console', async () => {
    const jobId = `uservm-tail-${target.kind}`;
    await nomad.submitJob(jobHcl(jobId).hcl);
    const alloc = await until('a running allocation', async () => (await nomad.listAllocations(jobId)).find((a) => a.clientStatus === 'running'));
    await until('the boot to finish', async () => (sim.control.consoleOf(alloc.id).toString().endsWith('login: ') ? true : undefined));
    const all = sim.control.consoleOf(alloc.id);
    const tail = await nomad.readLogTail(alloc.id, VM_TASK_NAME, 300);
    expect(tail.equals(all.subarray(all.length - 300))).toBe(true);
    expect(tail.toString()).toMatch(/login: $/);
    // More than there is: the whole console.
    expect((await nomad.readLogTail(alloc.id, VM_TASK_NAME, all.length + 4096)).equals(all)).toBe(true);
    const unknown = await nomad.readLogTail('0b8e4c52-8a43-4c0e-9b1e-6f0a4ad0d2a1', VM_TASK_NAME, 100).catch((e: unknown) => e);
    expect((unknown as NomadError).code).toBe('not_found');
    await nomad.stopJob(jobId);
  });

  it('provisions 50 VMs at once', async () => {
    const jobs = Array.from({ length: 50 }, (_, i) => jobHcl(`uservm-many-${target.kind}-${i}`, { requestId: `req-many-${i}` }));
    const retriesBefore = env.ssh ? (nomad as SshNomadPort).stats().channelRetries : 0;
    const refusedBefore = env.ssh?.double?.refusedChannels ?? 0;
    // Every one succeeds: a refused channel open is waited out and retried, never a failure.
    const results = await Promise.all(jobs.map(({ hcl }) => nomad.submitJob(hcl)));
    expect(new Set(results.map((r) => r.jobId)).size).toBe(50);
    expect(results.every((r) => sim.control.allocations(r.jobId).length === 1)).toBe(true);
    if (env.ssh) {
      const cap = 6;
      expect((nomad as SshNomadPort).stats().maxActive).toBeLessThanOrEqual(cap);
      expect((nomad as SshNomadPort).stats().maxActive).toBeGreaterThan(1);
      if (env.ssh.double) {
        // What the cap guarantees: never more than `cap` channels open at once on the server.
        expect(env.ssh.double.maxOpenChannels).toBeLessThanOrEqual(cap);
        // Slots freed late (as OpenSSH does, 15 ms after the close) can fill all of
        // MaxSessions (10) when commands end close together — how often depends on timing, so
        // that count is not asserted. What is guaranteed: slots never exceed MaxSessions, and
        // each open the server refused was one the client saw and retried (none failed a command).
        expect(env.ssh.double.maxActiveChannels).toBeLessThanOrEqual(10);
        expect(env.ssh.double.refusedChannels - refusedBefore).toBe((nomad as SshNomadPort).stats().channelRetries - retriesBefore);
      }
    }
    for (const r of results) expect(sim.control.registrations(r.jobId)).toBe(1);
  }, 120_000);
});

const sshTargets = targets.filter((t) => t.kind !== 'http');

describe.each(sshTargets)('SSH transport: $name', (target) => {
  let sim: SimCluster;
  let env: Awaited<ReturnType<Target['start']>>;
  let ssh: SshEnv;

  beforeAll(async () => {
    sim = await startSimCluster({ acl: { token: TOKEN }, startDelayMs: 30, bootDelayMs: 100, chunkDelayMs: 5, stopDelayMs: 20, gcDelayMs: 20 });
    env = await target.start(sim);
    ssh = env.ssh!;
  });
  afterAll(async () => {
    await env?.close();
    await sim?.close();
  });

  it('refuses a host key that does not match the pinned fingerprint, naming both', async () => {
    const wrong = 'SHA256:' + 'x'.repeat(43);
    const nomad = ssh.make({ hostKeyFingerprint: wrong, connectAttempts: 1 });
    const before = ssh.double?.commands.length;
    const err = await nomad.getJob('uservm-any').catch((e: unknown) => e);
    await nomad.close();
    expect(err).toBeInstanceOf(NomadError);
    expect((err as NomadError).code).toBe('unreachable');
    expect((err as Error).message).toContain(wrong);
    expect((err as Error).message).toContain(ssh.fingerprint);
    if (ssh.double) expect(ssh.double.commands.length).toBe(before);
  });

  it('treats the CLI\'s stderr hints on success as hints, not errors', async () => {
    const nomad = env.nomad as SshNomadPort;
    const { hcl } = jobHcl(`uservm-hint-${target.kind}`);
    const raw = await nomad.connection.exec(nomad.commands.run(), { stdin: hcl });
    expect(raw.code).toBe(0);
    expect(raw.stderr).toContain('==> View this job in the Web UI');
    await expect(nomad.submitJob(hcl)).resolves.toMatchObject({ jobId: `uservm-hint-${target.kind}` });
  });

  it('turns a non-zero exit into a NomadError carrying stderr', async () => {
    const nomad = ssh.make({ tokenFile: '~/no-such-token-file' });
    const err = await nomad.listAllocations('uservm-any').catch((e: unknown) => e);
    await nomad.close();
    expect(err).toBeInstanceOf(NomadError);
    expect((err as NomadError).code).toBe('forbidden');
    expect((err as Error).message).toContain('cannot read the Nomad token file ~/no-such-token-file');

    const wrongToken = ssh.make({ tokenFile: undefined });
    const refused = await wrongToken.getJob('uservm-any').catch((e: unknown) => e);
    await wrongToken.close();
    expect((refused as NomadError).code).toBe('forbidden');
    expect((refused as Error).message).toContain('Permission denied');
  });

  it('never puts the token on a command line, yet Nomad receives it', async () => {
    const nomad = env.nomad as SshNomadPort;
    const { hcl } = jobHcl(`uservm-token-${target.kind}`);
    await nomad.submitJob(hcl); // the sim refuses requests without the token
    const allocId = '0b8e4c52-8a43-4c0e-9b1e-6f0a4ad0d2a1';
    const built = [
      nomad.commands.run(),
      nomad.commands.inspect('uservm-x'),
      nomad.commands.allocs('uservm-x'),
      nomad.commands.stop('uservm-x'),
      nomad.commands.stop('uservm-x', { purge: false }),
      nomad.commands.restart(allocId, VM_TASK_NAME),
      nomad.commands.logsTail(allocId, VM_TASK_NAME, 4096),
      nomad.commands.apiGet('/v1/jobs'),
    ];
    for (const command of [...built, ...(ssh.double?.commands ?? [])]) expect(command).not.toContain(TOKEN);
    if (ssh.double) expect(ssh.double.commands.length).toBeGreaterThan(0);
  });

  it('keeps working after the connection drops between commands (reconnects)', async () => {
    const nomad = ssh.make();
    expect(await nomad.getJob('uservm-none')).toBeNull();
    // The server drops it (ssh2 double), or the network does (sshd: the socket just ends).
    if (ssh.double) ssh.double.dropAll();
    else await nomad.connection.disconnect();
    await until('the drop to be noticed', async () => (nomad.connection.connected ? undefined : true));
    expect(await nomad.getJob('uservm-none')).toBeNull();
    expect(nomad.stats().connects).toBe(2);
    await nomad.close();
  });

  it('survives the connection dropping while a job run is in flight: one job, never half-done', async () => {
    const nomad = ssh.make();
    const jobId = `uservm-inflight-${target.kind}`;
    const submitting = nomad.submitJob(jobHcl(jobId, { requestId: 'req-inflight' }).hcl);
    // Drop the connection as soon as the command's channel is open.
    await until('the job run channel', async () => (nomad.stats().active > 0 ? true : undefined));
    await nomad.connection.disconnect();
    await expect(submitting).resolves.toMatchObject({ jobId });
    expect(nomad.stats().connects).toBe(2);
    expect(sim.control.registrations(jobId)).toBeGreaterThanOrEqual(1);
    expect(sim.control.jobs().filter((j) => j.id === jobId)).toHaveLength(1);
    expect(sim.control.allocations(jobId)).toHaveLength(1);
    // The old connection's late close must not discard the new one: wait until it has
    // reported its close (an event, not a fixed sleep), then the new one must still serve.
    await until('the old connection to report its close', async () => (nomad.stats().closes >= 1 ? true : undefined));
    expect(nomad.connection.connected).toBe(true);
    expect(await nomad.getJob(jobId)).not.toBeNull();
    expect(nomad.stats().connects).toBe(2);
    await nomad.close();
  });

  it('publishes cloud-init files over SFTP atomically and removes them', async () => {
    const publisher = createSftpPublisher({
      host: ssh.host,
      port: ssh.port,
      user: ssh.user,
      privateKey: ssh.clientKey,
      hostKeyFingerprint: ssh.fingerprint,
      dir: ssh.remoteDir,
      publicUrl: 'http://vm-resources.service.consul:8000/res/',
    });
    const target_ = { requestId: 'req-sftp', vmName: 'sftp-vm', seedToken: 'x'.repeat(32) };
    expect(publisher.seedUrl(target_)).toBe('http://vm-resources.service.consul:8000/res/sftp-vm/');
    const vmDir = join(ssh.localDir, 'sftp-vm');
    const oldUserData = '#cloud-config\n' + '# old\n'.repeat(40_000);
    const newUserData = '#cloud-config\n' + '# new\n'.repeat(40_000);
    await publisher.publish(target_, { metaData: 'instance-id: sftp-vm\nlocal-hostname: sftp-vm\n', userData: oldUserData, vendorData: '#cloud-config\n' });
    expect(readFileSync(join(vmDir, 'meta-data'), 'utf8')).toContain('instance-id: sftp-vm');
    expect(readFileSync(join(vmDir, 'vendor-data'), 'utf8')).toBe('#cloud-config\n');

    // While the new copy uploads, a reader only ever sees the whole old or the whole new file.
    const seen = new Set<string>();
    let publishing = true;
    const done = publisher.publish(target_, { metaData: 'instance-id: sftp-vm\nlocal-hostname: sftp-vm\n', userData: newUserData }).finally(() => (publishing = false));
    while (publishing) {
      const text = readFileSync(join(vmDir, 'user-data'), 'utf8');
      seen.add(text === oldUserData ? 'old' : text === newUserData ? 'new' : `partial(${text.length})`);
      await new Promise((r) => setImmediate(r));
    }
    await done;
    expect([...seen].filter((s) => s.startsWith('partial'))).toEqual([]);
    expect(readFileSync(join(vmDir, 'user-data'), 'utf8')).toBe(newUserData);
    expect(readdirSync(vmDir).sort()).toEqual(['meta-data', 'user-data']); // no temp files, old vendor-data gone

    await publisher.unpublish(target_);
    expect(readdirSync(ssh.localDir)).not.toContain('sftp-vm');
    await expect(publisher.unpublish(target_)).resolves.toBeUndefined();
    await publisher.close();
  });
});

describe('SSH transport: only through the ssh2 double', () => {
  let sim: SimCluster;
  beforeAll(async () => {
    sim = await startSimCluster({ acl: { token: TOKEN }, startDelayMs: 30, bootDelayMs: 100, chunkDelayMs: 5 });
  });
  afterAll(async () => sim?.close());

  it('retries a job run whose connection dropped mid-command without making a second job', async () => {
    const double = await startTestSshServer({ nomadAddr: sim.url, token: TOKEN });
    const ssh = withMake({ ...sshEnvOf(double, '~/.nomad-token', '/', double.sftpRoot), double });
    const nomad = ssh.make();
    let dropped = 0;
    double.dropAfterRun = (command) => command.includes('job run') && dropped++ === 0;
    const jobId = 'uservm-dropped';
    const result = await nomad.submitJob(jobHcl(jobId, { requestId: 'req-drop' }).hcl);
    expect(result.jobId).toBe(jobId);
    expect(dropped).toBe(2); // the first run's answer was lost, the second came through
    expect(sim.control.registrations(jobId)).toBe(2); // it really ran twice…
    expect(sim.control.jobs().filter((j) => j.id === jobId)).toHaveLength(1); // …and there is one job
    expect(await nomad.listAllocations(jobId)).toHaveLength(1); // with one allocation
    await nomad.close();
    await double.close();
  });

  it('never runs alloc restart twice when the connection drops mid-command (it would reboot twice)', async () => {
    const double = await startTestSshServer({ nomadAddr: sim.url, token: TOKEN });
    const nomad = withMake({ ...sshEnvOf(double, '~/.nomad-token', '/', double.sftpRoot), double }).make();
    try {
      const jobId = 'uservm-reboot-drop';
      await nomad.submitJob(jobHcl(jobId).hcl);
      const alloc = await until('a running allocation', async () => (await nomad.listAllocations(jobId)).find((a) => a.clientStatus === 'running'));
      double.dropAfterRun = (command) => command.includes('alloc restart');
      const err = await nomad.restartAllocation(alloc.id, VM_TASK_NAME).catch((e: unknown) => e);
      double.dropAfterRun = undefined;
      expect((err as NomadError).code).toBe('unreachable');
      expect(double.commands.filter((c) => c.includes('alloc restart'))).toHaveLength(1);
      const signaled = sim.control.allocations(jobId)[0]!.TaskStates.vm!.Events.filter((e) => e.Type === 'Restart Signaled');
      expect(signaled).toHaveLength(1); // it did run once: the member is told to check, not rebooted again
    } finally {
      await nomad.close();
      await double.close();
    }
  });

  it('trusts a first-seen host key only when told to, records it, and pins it from then on', async () => {
    const double = await startTestSshServer({ nomadAddr: sim.url, token: TOKEN });
    const tmp = await makeTempDir('tofu');
    const knownHostsPath = join(tmp.dir, 'data', 'known_hosts');
    const env = withMake({ ...sshEnvOf(double, '~/.nomad-token', '/', double.sftpRoot), double });
    try {
      const strict = env.make({ hostKeyFingerprint: undefined, knownHostsPath, connectAttempts: 1 });
      const refused = await strict.getJob('uservm-x').catch((e: unknown) => e);
      await strict.close();
      expect((refused as Error).message).toContain(`set hostKeyFingerprint to ${double.hostKey.fingerprint}`);

      const tofu = env.make({ hostKeyFingerprint: undefined, trustOnFirstUse: true, knownHostsPath });
      expect(await tofu.getJob('uservm-x')).toBeNull();
      await tofu.close();
      expect(readFileSync(knownHostsPath, 'utf8')).toContain(`[127.0.0.1]:${double.port} ssh-ed25519 `);

      // Another key now answers on that host:port: refused, naming the recorded key.
      writeFileSync(knownHostsPath, `[127.0.0.1]:${double.port} ${generateKeyPair().publicKey.split(' ').slice(0, 2).join(' ')}\n`);
      const pinned = env.make({ hostKeyFingerprint: undefined, trustOnFirstUse: true, knownHostsPath, connectAttempts: 1 });
      const mismatch = await pinned.getJob('uservm-x').catch((e: unknown) => e);
      await pinned.close();
      expect((mismatch as NomadError).code).toBe('unreachable');
      expect((mismatch as Error).message).toContain('recorded on first use');
      expect((mismatch as Error).message).toContain(double.hostKey.fingerprint);
    } finally {
      await double.close();
      await tmp.cleanup();
    }
  });

  it('refuses IDs that are not RFC 1123 names or UUIDs before anything runs', async () => {
    const double = await startTestSshServer({ nomadAddr: sim.url, token: TOKEN });
    const nomad = withMake({ ...sshEnvOf(double, '~/.nomad-token', '/', double.sftpRoot), double }).make();
    try {
      const uuid = '0b8e4c52-8a43-4c0e-9b1e-6f0a4ad0d2a1';
      for (const call of [
        () => nomad.getJob("x'; touch /tmp/pwned; '"),
        () => nomad.stopJob('UserVM $(id)'),
        () => nomad.stopJob('UserVM $(id)', { purge: false }),
        () => nomad.readLogs('not-a-uuid; id', VM_TASK_NAME, 0),
        () => nomad.restartAllocation('not-a-uuid; id'),
        () => nomad.restartAllocation(uuid, "vm'; id; '"),
        () => nomad.readLogTail(`${uuid}; id`, VM_TASK_NAME, 100),
        () => nomad.readLogTail(uuid, VM_TASK_NAME, -1),
      ]) {
        const err = await call().catch((e: unknown) => e);
        expect((err as NomadError).code).toBe('rejected');
      }
      const hcl = jobHcl('uservm-ok').hcl.replace('job "uservm-ok"', 'job "bad\'name"');
      expect(((await nomad.submitJob(hcl).catch((e: unknown) => e)) as NomadError).code).toBe('rejected');
      expect(double.commands).toEqual([]);
    } finally {
      await nomad.close();
      await double.close();
    }
  });

  it('reports Nomad unreachable from the SSH host without echoing the token', async () => {
    const cut = await startTestSshServer({ nomadAddr: 'http://127.0.0.1:9', token: TOKEN });
    const nomad = withMake({ ...sshEnvOf(cut, '~/.nomad-token', '/', cut.sftpRoot), double: cut }).make();
    try {
      for (const call of [() => nomad.readLogs('0b8e4c52-8a43-4c0e-9b1e-6f0a4ad0d2a1', VM_TASK_NAME, 0), () => nomad.listJobs(), () => nomad.getJob('uservm-x')]) {
        const err = await call().catch((e: unknown) => e);
        expect((err as NomadError).code).toBe('unreachable');
        expect((err as Error).message).toContain('connection refused');
        expect((err as Error).message).not.toContain(TOKEN);
      }
    } finally {
      await nomad.close();
      await cut.close();
    }
  });

  it('createPublisher builds the SFTP publisher from cloudInit.sftp', async () => {
    const double = await startTestSshServer({ nomadAddr: sim.url, token: TOKEN });
    const tmp = await makeTempDir('sftp-config');
    const keyPath = join(tmp.dir, 'id_ed25519');
    writeFileSync(keyPath, double.clientKey.privateKey, { mode: 0o600 });
    const config = parseConfig({
      nomad: { adapter: 'http' },
      cloudInit: {
        publish: 'sftp',
        sftp: { host: double.host, port: double.port, user: double.user, privateKeyPath: keyPath, hostKeyFingerprint: double.hostKey.fingerprint, dir: '/storage/nomad/vm-resources', publicUrl: 'http://vm-resources.service.consul:8000/res' },
      },
    });
    const publisher = await createPublisher(config, silentLogger);
    try {
      const vm = { requestId: 'r', vmName: 'cfg-vm', seedToken: 't'.repeat(32) };
      expect(publisher.seedUrl(vm)).toBe('http://vm-resources.service.consul:8000/res/cfg-vm/');
      await publisher.publish(vm, { metaData: 'instance-id: cfg-vm\n', userData: '#cloud-config\n' });
      expect(readFileSync(join(double.sftpRoot, 'storage/nomad/vm-resources/cfg-vm/user-data'), 'utf8')).toBe('#cloud-config\n');
      // A name that would leave the folder never reaches the server.
      await expect(publisher.publish({ ...vm, vmName: '../etc' }, { metaData: '', userData: '' })).rejects.toMatchObject({ code: 'publish_failed' });
    } finally {
      await publisher.close();
      await double.close();
      await tmp.cleanup();
    }
  });

  it('waits and retries when the server refuses a channel (OpenSSH frees slots late)', async () => {
    const double = await startTestSshServer({ nomadAddr: sim.url, token: TOKEN, maxSessions: 2, slotFreeDelayMs: 150 });
    const nomad = withMake({ ...sshEnvOf(double, '~/.nomad-token', '/', double.sftpRoot), double }).make({ maxChannels: 2 });
    const answers = await Promise.all(Array.from({ length: 6 }, (_, i) => nomad.getJob(`uservm-slot-${i}`)));
    expect(answers.every((a) => a === null)).toBe(true);
    expect(double.refusedChannels).toBeGreaterThan(0);
    expect(nomad.stats().channelRetries).toBe(double.refusedChannels);
    expect(double.maxActiveChannels).toBeLessThanOrEqual(2);
    await nomad.close();
    await double.close();
  }, 60_000);

  it('reads logs through operator api with stdin closed (else it would POST)', async () => {
    const double = await startTestSshServer({ nomadAddr: sim.url, token: TOKEN });
    const nomad = withMake({ ...sshEnvOf(double, '~/.nomad-token', '/', double.sftpRoot), double }).make();
    const jobId = 'uservm-logs-get';
    await nomad.submitJob(jobHcl(jobId).hcl);
    const alloc = await until('an allocation', async () => (await nomad.listAllocations(jobId))[0]);
    // Without -X GET the CLI would POST the (empty) stdin and Nomad would answer 405.
    const posted = await nomad.connection.exec(`exec nomad operator api -verbose ${nomad.commands.logsPath(alloc.id, VM_TASK_NAME, 0).replace(/^/, "'").replace(/$/, "'")}`, {});
    expect(posted.stderr).toContain('> POST');
    const chunk = await until('console output', async () => {
      const c = await nomad.readLogs(alloc.id, VM_TASK_NAME, 0).catch((e: NomadError) => (e.code === 'task_not_started' ? undefined : Promise.reject(e)));
      return c && c.data.length > 0 ? c : undefined;
    });
    expect(chunk.data.length).toBeGreaterThan(0);
    expect(double.commands.filter((c) => c.includes('operator api -verbose -X GET')).length).toBeGreaterThan(0);
    await nomad.close();
    await double.close();
  }, 60_000);
});
