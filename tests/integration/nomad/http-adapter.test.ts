// The http adapter of the Nomad port against the simulated cluster, over real HTTP.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer as createHttpsServer } from 'node:https';
import { createServer as createHttpServer, request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { ConsoleScanner } from '../../../src/domain/ciinfo.js';
import { parseHostKeys } from '../../../src/domain/hostkeys.js';
import { parseConfig } from '../../../src/config/load.js';
import { createLogger } from '../../../src/log.js';
import { createNomadPort } from '../../../src/nomad/index.js';
import { createHttpNomad, type HttpNomadOptions } from '../../../src/nomad/http/adapter.js';
import { NomadError, VM_TASK_NAME, type NomadPort } from '../../../src/nomad/port.js';
import { startSimCluster, type SimCluster, type SimOptions } from '../../../src/nomad/sim/index.js';
import { makeTempDir } from '../../support/tmp.js';
import { eventually, vmJobHcl } from './support.js';

const FAST: SimOptions = { startDelayMs: 10, bootDelayMs: 30, chunkDelayMs: 5, stopDelayMs: 20, gcDelayMs: 30 };
const MAC = '52:54:84:ba:49:22';

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (closers.length) await closers.pop()!();
});

async function setup(simOpts: SimOptions = {}, adapterOpts: Partial<HttpNomadOptions> = {}): Promise<{ sim: SimCluster; nomad: NomadPort }> {
  const sim = await startSimCluster({ ...FAST, ...simOpts });
  closers.push(() => sim.close());
  const nomad = createHttpNomad({ address: sim.url, retries: 3, backoffMs: 5, timeoutMs: 5_000, ...adapterOpts });
  closers.push(() => nomad.close());
  return { sim, nomad };
}

async function rejection(promise: Promise<unknown>): Promise<NomadError> {
  const err = await promise.then(
    () => {
      throw new Error('expected a NomadError');
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(NomadError);
  return err as NomadError;
}

/** Reads the console through the port, offset by offset, until the address shows. */
async function watchAddress(nomad: NomadPort, allocId: string, mac = MAC) {
  const scanner = new ConsoleScanner(mac);
  let offset = 0;
  return eventually(async () => {
    const chunk = await nomad.readLogs(allocId, 'vm', offset);
    scanner.push(chunk.data);
    offset = chunk.nextOffset;
    return scanner.address;
  }, 'the address');
}

describe('http adapter: the happy path', () => {
  it('submits HCL (parse then register), lists the allocation and reads the address from the console', async () => {
    const { sim, nomad } = await setup();
    const submitted = await nomad.submitJob(vmJobHcl({ id: 'uservm-alice', mac: MAC, requestId: 'r-7' }));
    expect(submitted.jobId).toBe('uservm-alice');
    expect(submitted.evalId).toMatch(/^[0-9a-f-]{36}$/);
    expect(sim.control.registrations('uservm-alice')).toBe(1);
    expect(await nomad.getJob('uservm-alice')).toMatchObject({ id: 'uservm-alice', stop: false, meta: { vmbot_request: 'r-7' } });
    const [alloc] = await nomad.listAllocations('uservm-alice');
    expect(alloc).toMatchObject({ jobId: 'uservm-alice', taskGroup: 'uservm-alice', desiredStatus: 'run', nextAllocation: null });
    expect(alloc!.createTime).toBeGreaterThan(Date.now() - 60_000);
    expect(alloc!.createTime).toBeLessThanOrEqual(Date.now());
    expect(await watchAddress(nomad, alloc!.id)).toEqual({ ipv4: '10.10.0.36', ipv6: ['2001:db8:10::36'] });
    const [running] = await nomad.listAllocations('uservm-alice');
    expect(running!.clientStatus).toBe('running');
    expect(running!.taskStates.vm).toMatchObject({ state: 'running', failed: false });
    expect(running!.taskStates.vm!.events.map((e) => e.type)).toContain('Started');
    expect(running!.taskStates.vm!.events[0]).toMatchObject({ type: 'Received', message: 'Task received by client' });
  });

  it('reads logs from offsets: the pieces add up to the whole console', async () => {
    const { sim, nomad } = await setup({ chunkDelayMs: 10 });
    await nomad.submitJob(vmJobHcl({ id: 'pieces' }));
    const [alloc] = await nomad.listAllocations('pieces');
    const pieces: Buffer[] = [];
    let offset = 0;
    await eventually(async () => {
      const chunk = await nomad.readLogs(alloc!.id, 'vm', offset);
      expect(chunk.nextOffset).toBe(offset + chunk.data.length);
      pieces.push(chunk.data);
      offset = chunk.nextOffset;
      return Buffer.concat(pieces).toString().endsWith('login: ');
    }, 'the whole console');
    expect(Buffer.concat(pieces)).toEqual(sim.control.consoleOf(alloc!.id));
    expect(pieces.filter((p) => p.length > 0).length).toBeGreaterThan(1);
    expect((await nomad.readLogs(alloc!.id, 'vm', offset)).data.length).toBe(0);
  });

  it('lists allocations newest first, with nextAllocation after a reschedule', async () => {
    const { sim, nomad } = await setup();
    await nomad.submitJob(vmJobHcl({ id: 'moving' }));
    const [first] = await nomad.listAllocations('moving');
    const second = sim.control.reschedule('moving');
    const third = sim.control.reschedule('moving');
    const list = await nomad.listAllocations('moving');
    expect(list.map((a) => a.id)).toEqual([third, second, first!.id]);
    expect(list[2]).toMatchObject({ clientStatus: 'lost', nextAllocation: second });
    expect(list[1]!.nextAllocation).toBe(third);
    expect(await watchAddress(nomad, third)).toEqual({ ipv4: '10.10.0.36', ipv6: ['2001:db8:10::36'] });
  });

  it('reports a task failure with the driver\'s message', async () => {
    const { sim, nomad } = await setup();
    sim.control.failNextTask('broken', 'failed to start task: qemu: could not open image');
    await nomad.submitJob(vmJobHcl({ id: 'broken' }));
    const failed = await eventually(async () => (await nomad.listAllocations('broken')).find((a) => a.clientStatus === 'failed'), 'failed');
    expect(failed.taskStates.vm).toMatchObject({ state: 'dead', failed: true });
    expect(failed.taskStates.vm!.events).toContainEqual(expect.objectContaining({ type: 'Driver Failure', message: 'failed to start task: qemu: could not open image' }));
    expect((await rejection(nomad.readLogs(failed.id, 'vm', 0))).code).toBe('task_not_started');
  });

  it('stopJob purges, and tolerates a job that is already gone; getJob then says null', async () => {
    const { sim, nomad } = await setup();
    await nomad.submitJob(vmJobHcl({ id: 'bye' }));
    await nomad.stopJob('bye');
    expect(await nomad.getJob('bye')).toBeNull();
    await nomad.stopJob('bye');
    await nomad.stopJob('never-existed');
    await eventually(async () => (await nomad.listAllocations('bye')).length === 0, 'allocations gone');
    expect(sim.control.jobs()).toEqual([]);
  });

  it('reads host keys through readLogTail; a reboot keeps them, a reschedule to another node changes them', async () => {
    const { sim, nomad } = await setup();
    await nomad.submitJob(vmJobHcl({ id: 'keys' }));
    const first = await eventually(async () => (await nomad.listAllocations('keys')).find((a) => a.clientStatus === 'running'), 'running');
    const keysOf = (allocId: string) =>
      eventually(async () => {
        const tail = (await nomad.readLogTail(allocId, VM_TASK_NAME, 64 * 1024)).toString('utf8');
        return tail.endsWith('login: ') && parseHostKeys(tail);
      }, `the host keys of ${allocId}`);
    const original = await keysOf(first.id);
    expect(original.publicKeys.map((k) => k.type)).toEqual(['ecdsa-sha2-nistp256', 'ssh-ed25519', 'ssh-rsa']);
    expect(original.fingerprints.map((f) => f.fingerprint)).toEqual(sim.control.hostKeysOf(first.id)!.map((k) => k.fingerprint));

    const length = sim.control.consoleOf(first.id).length;
    await nomad.restartAllocation(first.id, VM_TASK_NAME);
    await eventually(() => sim.control.consoleOf(first.id).length > length && sim.control.consoleOf(first.id).toString().endsWith('login: '), 'the reboot');
    expect(await keysOf(first.id)).toEqual(original); // the first boot's blocks are still the last ones printed

    const nextId = sim.control.reschedule('keys');
    const allocs = await nomad.listAllocations('keys');
    expect(allocs.find((a) => a.id === first.id)).toMatchObject({ clientStatus: 'lost', nextAllocation: nextId });
    expect(sim.control.allocations('keys').find((a) => a.ID === nextId)!.NodeName).not.toBe(sim.control.allocations('keys').find((a) => a.ID === first.id)!.NodeName);
    const moved = await keysOf(nextId);
    expect(moved.publicKeys).toHaveLength(3);
    for (const key of moved.publicKeys) expect(original.publicKeys.map((k) => k.key)).not.toContain(key.key);
  });

  it('listJobs reads every job, with meta and the qemu args (hand-made jobs too)', async () => {
    const { nomad } = await setup();
    await nomad.submitJob(vmJobHcl({ id: 'ours', mac: '52:54:84:ba:49:40' }));
    await nomad.submitJob(vmJobHcl({ id: 'distro-vm', mac: '52:54:84:ba:49:01' }).replace(/meta \{[^}]*\}/, ''));
    await nomad.submitJob('job "web" {\n  datacenters = ["aperture"]\n  group "web" {\n    task "nginx" {\n      driver = "docker"\n      config {\n        image = "nginx"\n      }\n    }\n  }\n}\n');
    const jobs = await nomad.listJobs();
    expect(jobs.map((j) => j.id)).toEqual(['distro-vm', 'ours', 'web']);
    expect(jobs[0]).toMatchObject({ meta: {}, qemuArgs: expect.arrayContaining(['virtio-net-pci,netdev=hn0,id=nic1,mac=52:54:84:ba:49:01']) });
    expect(jobs[1]!.meta).toEqual({ vmbot_request: 'req-1' });
    expect(jobs[2]).toMatchObject({ qemuArgs: [] });
  });
});

describe('http adapter: errors', () => {
  it('maps an invalid job to rejected with Nomad\'s message, without retrying', async () => {
    const { sim, nomad } = await setup();
    const err = await rejection(nomad.submitJob(vmJobHcl({ id: 'tiny', memory: 5 })));
    expect(err).toMatchObject({ code: 'rejected', status: 400 });
    expect(err.message).toContain('minimum MemoryMB value is 10; got 5');
    expect(sim.control.requestCount).toBe(2); // parse + register, once each
  });

  it('maps an HCL syntax error to rejected (one request)', async () => {
    const { sim, nomad } = await setup();
    const err = await rejection(nomad.submitJob('job "x" {'));
    expect(err).toMatchObject({ code: 'rejected', status: 400 });
    expect(err.message).toMatch(/^error parsing: /);
    expect(sim.control.requestCount).toBe(1);
  });

  it('task_not_started before the task runs; not_found for an unknown allocation', async () => {
    const { nomad } = await setup({ startDelayMs: 60_000 });
    await nomad.submitJob(vmJobHcl({ id: 'later' }));
    const [alloc] = await nomad.listAllocations('later');
    const early = await rejection(nomad.readLogs(alloc!.id, 'vm', 0));
    expect(early).toMatchObject({ code: 'task_not_started', status: 404 });
    const unknown = await rejection(nomad.readLogs('00000000-0000-4000-8000-000000000000', 'vm', 0));
    expect(unknown).toMatchObject({ code: 'not_found', status: 404 });
  });

  it('retries 500s with backoff and recovers', async () => {
    const { sim, nomad } = await setup();
    await nomad.submitJob(vmJobHcl({ id: 'flaky' }));
    const before = sim.control.requestCount;
    sim.control.failRequests(2);
    expect(await nomad.getJob('flaky')).toMatchObject({ id: 'flaky' });
    expect(sim.control.requestCount - before).toBe(3);
  });

  it('gives up with server_error after its retries when Nomad keeps failing', async () => {
    const { sim, nomad } = await setup({}, { retries: 2 });
    sim.control.failRequests('always');
    const err = await rejection(nomad.listAllocations('any'));
    expect(err).toMatchObject({ code: 'server_error', status: 500 });
    expect(err.message).toContain('No cluster leader');
    expect(sim.control.requestCount).toBe(3);
  });

  it('times out on a hanging server (and retries the timeout)', async () => {
    const { sim, nomad } = await setup({}, { timeoutMs: 100, retries: 1 });
    sim.control.hang(true);
    const err = await rejection(nomad.getJob('x'));
    expect(err.code).toBe('timeout');
    expect(err.message).toContain('did not answer within 100 ms');
    expect(sim.control.requestCount).toBe(2);
  });

  it('never repeats an allocation restart: a timeout or a 500 after it may have run is reported, not retried', async () => {
    // A deadline a loaded machine never reaches by accident (the 500 must not arrive as a timeout).
    const { sim, nomad } = await setup({}, { timeoutMs: 1_000, retries: 3 });
    await nomad.submitJob(vmJobHcl({ id: 'reboot-once' }));
    const alloc = await eventually(async () => (await nomad.listAllocations('reboot-once')).find((a) => a.clientStatus === 'running'), 'the allocation running');
    sim.control.hang(true);
    let before = sim.control.requestCount;
    expect((await rejection(nomad.restartAllocation(alloc.id, VM_TASK_NAME))).code).toBe('timeout');
    expect(sim.control.requestCount - before).toBe(1);
    sim.control.hang(false);
    sim.control.failRequests('always');
    before = sim.control.requestCount;
    expect((await rejection(nomad.restartAllocation(alloc.id, VM_TASK_NAME))).code).toBe('server_error');
    expect(sim.control.requestCount - before).toBe(1);
  });

  it('times out when Nomad sends headers and then stalls the body', async () => {
    const stalled = createHttpServer((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.write('[{"ID":');
    });
    await new Promise<void>((resolve) => stalled.listen(0, '127.0.0.1', resolve));
    closers.push(() => new Promise<void>((resolve) => (stalled.closeAllConnections(), stalled.close(() => resolve()))));
    const nomad = createHttpNomad({ address: `http://127.0.0.1:${(stalled.address() as { port: number }).port}`, timeoutMs: 100, retries: 0 });
    closers.push(() => nomad.close());
    expect((await rejection(nomad.listJobs())).code).toBe('timeout');
  });

  it('is unreachable when nothing listens', async () => {
    const sim = await startSimCluster(FAST);
    const address = sim.url;
    await sim.close();
    const nomad = createHttpNomad({ address, retries: 1, backoffMs: 5 });
    closers.push(() => nomad.close());
    const err = await rejection(nomad.listJobs());
    expect(err.code).toBe('unreachable');
    expect(err.message).toContain('ECONNREFUSED');
  });

  it('sends the ACL token, maps a refused token to forbidden without retrying, and never logs it', async () => {
    const lines = new PassThrough();
    let logged = '';
    lines.on('data', (c: Buffer) => (logged += c.toString()));
    const logger = createLogger({ level: 'trace', pretty: false, destination: lines });
    const { sim, nomad } = await setup({ acl: { token: 'tok-5f1c-secret' } }, { token: 'tok-5f1c-secret', logger });
    await nomad.submitJob(vmJobHcl({ id: 'acl' }));
    expect(await nomad.getJob('acl')).not.toBeNull();
    const wrong = createHttpNomad({ address: sim.url, token: 'not-the-token', retries: 3, backoffMs: 5, logger });
    closers.push(() => wrong.close());
    const before = sim.control.requestCount;
    const err = await rejection(wrong.getJob('acl'));
    expect(err).toMatchObject({ code: 'forbidden', status: 403 });
    expect(err.message).toContain('NOMAD_TOKEN');
    expect(sim.control.requestCount - before).toBe(1);
    expect(logged).toContain('nomad http'); // the adapter did log its requests...
    expect(logged).not.toContain('tok-5f1c-secret'); // ...but never the token
    expect(logged).not.toContain('not-the-token');
  });

  it('handles 50 jobs at once: every job registered once, every VM reports its own address', async () => {
    const { sim, nomad } = await setup({ bootDelayMs: 20 });
    const macs = Array.from({ length: 50 }, (_, i) => `52:54:84:ba:4a:${(i + 16).toString(16).padStart(2, '0')}`);
    const results = await Promise.all(macs.map((mac, i) => nomad.submitJob(vmJobHcl({ id: `uservm-${i}`, mac }))));
    expect(new Set(results.map((r) => r.jobId)).size).toBe(50);
    const addresses = await Promise.all(
      macs.map(async (mac, i) => {
        const [alloc] = await nomad.listAllocations(`uservm-${i}`);
        return (await watchAddress(nomad, alloc!.id, mac)).ipv4;
      }),
    );
    expect(addresses).toEqual(macs.map((_, i) => `10.10.0.${i + 18}`));
    for (let i = 0; i < 50; i++) expect(sim.control.registrations(`uservm-${i}`)).toBe(1);
    const listed = await nomad.listJobs();
    expect(listed).toHaveLength(50);
    expect(listed.every((j) => j.qemuArgs.some((a) => a.includes('mac=52:54:84:ba:4a:')))).toBe(true);
  }, 60_000);
});

describe('http adapter: TLS', () => {
  it('verifies Nomad\'s certificate against caCert and presents a client certificate', async () => {
    const tmp = await makeTempDir('nomad-tls');
    closers.push(() => tmp.cleanup());
    const file = (name: string) => join(tmp.dir, name);
    // openssl is there wherever ca-certificates is (Debian's ca-certificates depends on it; .ci/run installs it).
    const openssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'pipe' });
    // A CA, a server certificate for 127.0.0.1 and a client certificate, made for this test.
    openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', file('ca.key'), '-out', file('ca.pem'), '-subj', '/CN=test-ca', '-days', '1');
    for (const who of ['server', 'client']) {
      openssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', file(`${who}.key`), '-out', file(`${who}.csr`), '-subj', `/CN=${who}`);
      require_ext(file(`${who}.ext`), who);
      openssl('x509', '-req', '-in', file(`${who}.csr`), '-CA', file('ca.pem'), '-CAkey', file('ca.key'), '-CAcreateserial', '-out', file(`${who}.pem`), '-days', '1', '-extfile', file(`${who}.ext`));
    }
    const sim = await startSimCluster(FAST);
    closers.push(() => sim.close());
    // A TLS front for the sim that requires a client certificate from the CA, like Nomad's verify_https_client.
    const front = createHttpsServer(
      { key: readFileSync(file('server.key')), cert: readFileSync(file('server.pem')), ca: readFileSync(file('ca.pem')), requestCert: true, rejectUnauthorized: true },
      (req, res) => {
        const target = new URL(req.url ?? '/', sim.url);
        const upstream = httpRequest(target, { method: req.method, headers: req.headers }, (up) => {
          res.writeHead(up.statusCode ?? 502, up.headers);
          up.pipe(res);
        });
        req.pipe(upstream);
      },
    );
    await new Promise<void>((resolve) => front.listen(0, '127.0.0.1', resolve));
    closers.push(() => new Promise<void>((resolve) => front.close(() => resolve())));
    const { port } = front.address() as { port: number };
    const address = `https://127.0.0.1:${port}`;

    const good = createHttpNomad({ address, caCert: file('ca.pem'), clientCert: file('client.pem'), clientKey: file('client.key'), retries: 0 });
    closers.push(() => good.close());
    expect(await good.listJobs()).toEqual([]);

    const noClientCert = createHttpNomad({ address, caCert: readFileSync(file('ca.pem'), 'utf8'), retries: 0 });
    closers.push(() => noClientCert.close());
    expect((await rejection(noClientCert.listJobs())).code).toBe('unreachable');

    const unknownCa = createHttpNomad({ address, retries: 0 });
    closers.push(() => unknownCa.close());
    const err = await rejection(unknownCa.listJobs());
    expect(err.code).toBe('unreachable');
  });
});

function require_ext(path: string, who: string): void {
  const ext = who === 'server' ? 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' : 'extendedKeyUsage=clientAuth\n';
  execFileSync('sh', ['-c', 'cat > "$1"', 'sh', path], { input: ext });
}

describe('createNomadPort', () => {
  const silent = createLogger({ level: 'silent', pretty: false });

  it('"http" talks to nomad.http.address with NOMAD_TOKEN; a path prefix of the address is kept', async () => {
    const sim = await startSimCluster({ ...FAST, acl: { token: 'tok-from-env' } });
    closers.push(() => sim.close());
    // A reverse proxy that serves Nomad under /nomad.
    const proxy = createHttpServer((req, res) => {
      if (!req.url?.startsWith('/nomad/')) return void res.writeHead(404).end('no such path');
      const upstream = httpRequest(new URL(req.url.slice('/nomad'.length), sim.url), { method: req.method, headers: req.headers }, (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      });
      req.pipe(upstream);
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    closers.push(() => new Promise<void>((resolve) => proxy.close(() => resolve())));
    const { port } = proxy.address() as { port: number };
    const config = parseConfig({ nomad: { adapter: 'http', http: { address: `http://127.0.0.1:${port}/nomad/` } } });
    const nomad = await createNomadPort(config, { NOMAD_TOKEN: 'tok-from-env' }, silent);
    closers.push(() => nomad.close());
    await nomad.submitJob(vmJobHcl({ id: 'via-config' }));
    expect((await nomad.listJobs()).map((j) => j.id)).toEqual(['via-config']);
  });

  it('"sim" needs the simulated cluster\'s URL', async () => {
    const config = parseConfig({ nomad: { adapter: 'sim' } });
    await expect(createNomadPort(config, {}, silent)).rejects.toThrow(/no simulated cluster was started/);
    const sim = await startSimCluster(FAST);
    closers.push(() => sim.close());
    const nomad = await createNomadPort(config, {}, silent, sim.url);
    closers.push(() => nomad.close());
    expect(await nomad.listJobs()).toEqual([]);
  });
});
