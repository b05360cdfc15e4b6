// The simulated cluster over real HTTP: Nomad's wire format, its validation, the
// allocation lifecycle and console, and the fault controls.
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { ConsoleScanner } from '../../../src/domain/ciinfo.js';
import { startSimCluster, type NomadAllocStub, type NomadJob, type SimCluster, type SimOptions } from '../../../src/nomad/sim/index.js';
import { FrameDecoder, eventually, vmJobHcl, type Frame } from './support.js';

const FAST: SimOptions = { startDelayMs: 10, bootDelayMs: 30, chunkDelayMs: 5, stopDelayMs: 20, gcDelayMs: 30, heartbeatMs: 20 };
const MAC = '52:54:84:ba:49:22';

let sims: SimCluster[] = [];
afterEach(async () => {
  await Promise.all(sims.map((s) => s.close()));
  sims = [];
});

async function sim(opts: SimOptions = {}): Promise<SimCluster> {
  const s = await startSimCluster({ ...FAST, ...opts });
  sims.push(s);
  return s;
}

async function call(s: SimCluster, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; text: string; json: () => unknown; headers: Headers }> {
  const res = await fetch(s.url + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, text, json: () => JSON.parse(text), headers: res.headers };
}

async function parse(s: SimCluster, hcl: string): Promise<NomadJob> {
  const res = await call(s, 'POST', '/v1/jobs/parse', { JobHCL: hcl, Canonicalize: true });
  expect(res.status, res.text).toBe(200);
  return res.json() as NomadJob;
}

async function submit(s: SimCluster, hcl: string): Promise<NomadJob> {
  const job = await parse(s, hcl);
  const res = await call(s, 'POST', '/v1/jobs', { Job: job });
  expect(res.status, res.text).toBe(200);
  return job;
}

async function allocs(s: SimCluster, jobId: string): Promise<NomadAllocStub[]> {
  return (await call(s, 'GET', `/v1/job/${jobId}/allocations`)).json() as NomadAllocStub[];
}

async function plainLog(s: SimCluster, allocId: string, offset = 0, extra = ''): Promise<{ status: number; text: string }> {
  return call(s, 'GET', `/v1/client/fs/logs/${allocId}?task=vm&type=stdout&origin=start&offset=${offset}&plain=true${extra}`);
}

/** Reads the console until the scanner finds the address. */
async function addressOf(s: SimCluster, allocId: string, mac = MAC) {
  return eventually(async () => {
    const scanner = new ConsoleScanner(mac);
    const res = await plainLog(s, allocId);
    if (res.status !== 200) return null;
    scanner.push(res.text);
    return scanner.address;
  }, 'the address on the console');
}

/** Opens a log request and collects the raw body until the server ends it. */
function stream(url: string): { chunks: string[]; ended: Promise<void>; abort(): void } {
  const chunks: string[] = [];
  let req: http.ClientRequest;
  const ended = new Promise<void>((resolve, reject) => {
    req = http.get(url, (res) => {
      res.setEncoding('utf8');
      res.on('data', (c: string) => chunks.push(c));
      res.on('end', () => resolve());
      res.on('error', reject);
    });
    req.on('error', reject);
  });
  return { chunks, ended, abort: () => req.destroy() };
}

describe('POST /v1/jobs/parse', () => {
  it('turns the admins\' HCL into Nomad\'s canonical job JSON', async () => {
    const s = await sim();
    const job = await parse(s, vmJobHcl({ id: 'uservm-alice', mac: MAC }));
    expect(job).toMatchObject({
      ID: 'uservm-alice',
      Name: 'uservm-alice',
      Type: 'service',
      Priority: 50,
      Region: 'global',
      Namespace: 'default',
      Datacenters: ['aperture'],
      Meta: { vmbot_request: 'req-1' },
      TaskGroups: [
        {
          Name: 'uservm-alice',
          Count: 1,
          Networks: [{ Mode: 'host' }],
          Services: [{ Name: 'uservm-alice' }],
          Tasks: [
            {
              Name: 'vm',
              Driver: 'qemu',
              Config: { image_path: 'local/uservm-alice.qcow2', accelerator: 'kvm', drive_interface: 'virtio', args: expect.arrayContaining([`virtio-net-pci,netdev=hn0,id=nic1,mac=${MAC}`]) },
              Resources: { CPU: 2000, MemoryMB: 2048 },
              Artifacts: [{ GetterSource: expect.stringContaining('debian-12'), RelativeDest: 'local/uservm-alice.qcow2', GetterMode: 'file' }],
            },
          ],
        },
      ],
    });
  });

  it('fills Nomad\'s defaults only when asked to canonicalize', async () => {
    const s = await sim();
    const hcl = 'job "bare" {\n  group "g" {\n    task "t" {\n      driver = "exec"\n    }\n  }\n}\n';
    const raw = (await call(s, 'POST', '/v1/jobs/parse', { JobHCL: hcl })).json() as NomadJob;
    expect(raw.Type).toBeUndefined();
    expect(raw.TaskGroups![0]!.Tasks[0]!.Resources).toBeUndefined();
    const canonical = await parse(s, hcl);
    expect(canonical.TaskGroups![0]!.Tasks[0]!.Resources).toEqual({ CPU: 100, MemoryMB: 300 });
    expect(canonical.TaskGroups![0]!.Count).toBe(1);
  });

  it('answers 400 "error parsing: ..." for HCL syntax errors, with the position', async () => {
    const s = await sim();
    const res = await call(s, 'POST', '/v1/jobs/parse', { JobHCL: 'job "x" {\n  group "a" {\n', Canonicalize: true });
    expect(res.status).toBe(400);
    expect(res.text).toMatch(/^error parsing: input\.hcl:\d+,\d+-\d+: Unclosed configuration block/);
  });

  it('refuses arguments Nomad does not know, like Nomad\'s HCL decoder', async () => {
    const s = await sim();
    const res = await call(s, 'POST', '/v1/jobs/parse', { JobHCL: vmJobHcl({ id: 'x' }).replace('type = "service"', 'typo = "service"'), Canonicalize: true });
    expect(res.status).toBe(400);
    expect(res.text).toContain('An argument or block named "typo" is not expected here');
  });

  it('refuses an empty spec and more than one job', async () => {
    const s = await sim();
    expect((await call(s, 'POST', '/v1/jobs/parse', { JobHCL: '' })).status).toBe(400);
    const two = await call(s, 'POST', '/v1/jobs/parse', { JobHCL: 'job "a" {}\njob "b" {}\n' });
    expect(two.status).toBe(400);
    expect(two.text).toContain('only one job block');
  });
});

describe('POST /v1/jobs validation', () => {
  type Mutate = (job: NomadJob) => unknown;
  const task = (job: NomadJob) => job.TaskGroups![0]!.Tasks[0]!;
  const cases: [string, Mutate, string][] = [
    ['missing ID', (j) => ({ ...j, ID: '' }), 'Missing job ID'],
    ['ID with a space', (j) => ({ ...j, ID: 'my vm' }), 'Job ID contains a space'],
    ['ID over 128 characters', (j) => ({ ...j, ID: 'x'.repeat(129) }), 'Job ID must be at most 128 characters long'],
    ['no datacenters', (j) => ({ ...j, Datacenters: [] }), 'Missing job datacenters'],
    ['no task groups', (j) => ({ ...j, TaskGroups: [] }), 'Missing job task groups'],
    ['task without driver', (j) => (task(j).Driver = '', j), 'Missing task driver'],
    ['duplicate group', (j) => ({ ...j, TaskGroups: [j.TaskGroups![0], j.TaskGroups![0]] }), "Job task group 2 redefines 'g' from group 1"],
    ['duplicate task', (j) => ((j.TaskGroups![0]!.Tasks = [task(j), task(j)]), j), "Task 2 redefines 'vm' from task 1"],
    ['qemu without image_path', (j) => (delete task(j).Config!.image_path, j), 'The argument "image_path" is required'],
    ['CPU below the minimum', (j) => ((task(j).Resources = { CPU: 0, MemoryMB: 2048 }), j), 'minimum CPU value is 1; got 0'],
    ['memory below the minimum', (j) => ((task(j).Resources = { CPU: 100, MemoryMB: 5 }), j), 'minimum MemoryMB value is 10; got 5'],
    ['invalid job type', (j) => ({ ...j, Type: 'daemon' }), 'Invalid job type: "daemon"'],
  ];

  for (const [name, mutate, message] of cases) {
    it(`refuses a job with ${name}: 400 in Nomad's multierror style`, async () => {
      const s = await sim();
      const job = await parse(s, vmJobHcl({ id: 'g' }));
      const res = await call(s, 'POST', '/v1/jobs', { Job: mutate(structuredClone(job)) });
      expect(res.status).toBe(400);
      expect(res.text).toMatch(/^\d+ errors? occurred:\n\t\* /);
      expect(res.text).toContain(message);
      expect(s.control.jobs()).toEqual([]);
    });
  }

  it('refuses Meta values that are not strings, as Go\'s JSON decoder does', async () => {
    const s = await sim();
    const job = await parse(s, vmJobHcl({ id: 'meta' }));
    const res = await call(s, 'POST', '/v1/jobs', { Job: { ...job, Meta: { vmbot_request: 42 } } });
    expect(res.status).toBe(400);
    expect(res.text).toContain('cannot unmarshal number into Go struct field Job.Meta of type string');
  });

  it('refuses a body without a Job and a body that is not JSON', async () => {
    const s = await sim();
    expect((await call(s, 'POST', '/v1/jobs', {})).text).toBe('Job must be specified');
    const res = await fetch(`${s.url}/v1/jobs`, { method: 'POST', body: '{not json' });
    expect(res.status).toBe(400);
  });

  it('counts every registration attempt, refused or not', async () => {
    const s = await sim();
    const job = await parse(s, vmJobHcl({ id: 'counted' }));
    await call(s, 'POST', '/v1/jobs', { Job: { ...job, Datacenters: [] } });
    await call(s, 'POST', '/v1/jobs', { Job: job });
    expect(s.control.registrations('counted')).toBe(2);
    expect(s.control.registrations('other')).toBe(0);
  });
});

describe('allocation lifecycle and console', () => {
  it('boots an allocation whose console shows the job\'s MAC with its DHCP address', async () => {
    const s = await sim();
    const job = await submit(s, vmJobHcl({ id: 'uservm-a', mac: MAC }));
    const [alloc] = await allocs(s, job.ID);
    expect(alloc).toMatchObject({ JobID: 'uservm-a', TaskGroup: 'uservm-a', Name: 'uservm-a.uservm-a[0]', DesiredStatus: 'run', NextAllocation: '' });
    expect(alloc!.ID).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(alloc!.CreateTime).toBeGreaterThan(1e18); // nanoseconds
    // Default DHCP: a static lease by the MAC's last byte in 10.10.0.0/24 (2 + 0x22 = 36).
    expect(await addressOf(s, alloc!.ID)).toEqual({ ipv4: '10.10.0.36', ipv6: ['2001:db8:10::36'] });
    const running = await eventually(async () => (await allocs(s, job.ID)).find((a) => a.ClientStatus === 'running'), 'running');
    expect(running.TaskStates.vm!.Events.map((e) => e.Type)).toEqual(['Received', 'Task Setup', 'Downloading Artifacts', 'Started']);
    expect(running.TaskStates.vm!.State).toBe('running');
    const text = await eventually(() => {
      const console = s.control.consoleOf(alloc!.ID).toString();
      return console.endsWith('login: ') && console;
    }, 'the login prompt');
    expect(text).toContain('SeaBIOS');
    expect(text).toContain('running \'init-local\'');
    expect(text).toMatch(/uservm-a login: $/);
    expect((await call(s, 'GET', `/v1/job/${job.ID}`)).json()).toMatchObject({ ID: 'uservm-a', Status: 'running', Stop: false, Version: 0 });
  });

  it('prints its tables exactly like cloud-init 22.4.2\'s own formatter', async () => {
    const s = await sim({ dhcp: () => '10.10.0.42' });
    const job = await submit(s, vmJobHcl({ id: 'uservm-table', mac: MAC }));
    const [alloc] = await allocs(s, job.ID);
    await addressOf(s, alloc!.ID);
    const ciInfo = (text: string) => text.split('\r\n').filter((l) => l.includes('ci-info:')).map((l) => l.slice(l.indexOf('ci-info:')));
    const fixture = readFileSync(new URL('../../fixtures/nomad/console/prefixed-crlf.log', import.meta.url), 'utf8');
    const printed = await eventually(() => {
      const lines = ciInfo(s.control.consoleOf(alloc!.ID).toString());
      return lines.length === ciInfo(fixture).length && lines;
    }, 'the whole console');
    expect(printed).toEqual(ciInfo(fixture));
  });

  it('uses the dhcp option, and no lease means no IPv4 on the console', async () => {
    const s = await sim({ dhcp: (mac) => (mac.endsWith(':07') ? '192.168.7.7' : undefined), subnet: '192.168.7.0/24' });
    const a = await submit(s, vmJobHcl({ id: 'leased', mac: '52:54:84:ba:49:07' }));
    const b = await submit(s, vmJobHcl({ id: 'unleased', mac: '52:54:84:ba:49:08' }));
    const [allocA] = await allocs(s, a.ID);
    const [allocB] = await allocs(s, b.ID);
    expect((await addressOf(s, allocA!.ID, '52:54:84:ba:49:07')).ipv4).toBe('192.168.7.7');
    await eventually(() => s.control.consoleOf(allocB!.ID).toString().endsWith('login: '), 'the second console');
    const scanner = new ConsoleScanner('52:54:84:ba:49:08');
    scanner.push(s.control.consoleOf(allocB!.ID));
    expect(scanner.address).toBeNull();
  });

  it('writes the console in several chunks that split lines', async () => {
    const s = await sim({ chunkDelayMs: 15 });
    const job = await submit(s, vmJobHcl({ id: 'chunks' }));
    const [alloc] = await allocs(s, job.ID);
    const sizes = new Set<number>();
    await eventually(async () => {
      sizes.add(s.control.consoleOf(alloc!.ID).length);
      return s.control.consoleOf(alloc!.ID).toString().endsWith('login: ');
    }, 'the whole console');
    const seenCut = [...sizes].filter((n) => n > 0).map((n) => s.control.consoleOf(alloc!.ID).subarray(0, n).toString());
    expect(sizes.size).toBeGreaterThan(3);
    expect(seenCut.some((text) => !text.endsWith('\n') && !text.endsWith('login: '))).toBe(true);
  });

  it('answers 404 "task not started yet" before the task runs, and 404 for an unknown allocation', async () => {
    const s = await sim({ startDelayMs: 60_000 });
    const job = await submit(s, vmJobHcl({ id: 'slow' }));
    const [alloc] = await allocs(s, job.ID);
    expect(alloc!.ClientStatus).toBe('pending');
    const res = await plainLog(s, alloc!.ID);
    expect(res).toEqual({ status: 404, text: 'task "vm" not started yet', json: expect.any(Function), headers: expect.anything() });
    const unknown = await plainLog(s, '00000000-0000-4000-8000-000000000000');
    expect(unknown.status).toBe(404);
    expect(unknown.text).toContain('Unknown allocation');
    expect((await call(s, 'GET', `/v1/job/${job.ID}`)).json()).toMatchObject({ Status: 'pending' });
  });

  it('serves bytes from an offset (origin=start) and from the end (origin=end)', async () => {
    const s = await sim();
    const job = await submit(s, vmJobHcl({ id: 'offsets' }));
    const [alloc] = await allocs(s, job.ID);
    await eventually(() => s.control.consoleOf(alloc!.ID).toString().endsWith('login: '), 'the whole console');
    const all = s.control.consoleOf(alloc!.ID);
    const from100 = await fetch(`${s.url}/v1/client/fs/logs/${alloc!.ID}?task=vm&type=stdout&origin=start&offset=100&plain=true`);
    expect(Buffer.from(await from100.arrayBuffer())).toEqual(all.subarray(100));
    const past = await plainLog(s, alloc!.ID, all.length + 10);
    expect(past).toMatchObject({ status: 200, text: '' });
    const tail = await call(s, 'GET', `/v1/client/fs/logs/${alloc!.ID}?task=vm&type=stdout&origin=end&offset=15&plain=true`);
    expect(tail.text).toBe('offsets login: ');
    const stderr = await call(s, 'GET', `/v1/client/fs/logs/${alloc!.ID}?task=vm&type=stderr&origin=start&offset=0&plain=true`);
    expect(stderr).toMatchObject({ status: 200, text: '' });
    expect((await call(s, 'GET', `/v1/client/fs/logs/${alloc!.ID}?task=vm&type=bogus`)).status).toBe(400);
    expect((await call(s, 'GET', `/v1/client/fs/logs/${alloc!.ID}?task=nope&type=stdout`)).status).toBe(400);
  });

  it('frames logs as back-to-back JSON objects with base64 Data and end Offsets', async () => {
    const s = await sim();
    const job = await submit(s, vmJobHcl({ id: 'framed' }));
    const [alloc] = await allocs(s, job.ID);
    await eventually(() => s.control.consoleOf(alloc!.ID).toString().endsWith('login: '), 'the whole console');
    const res = await call(s, 'GET', `/v1/client/fs/logs/${alloc!.ID}?task=vm&type=stdout&origin=start&offset=7`);
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(res.text.startsWith('{"Offset":')).toBe(true);
    const frames = new FrameDecoder().push(res.text);
    const data = Buffer.concat(frames.map((f) => Buffer.from(f.Data ?? '', 'base64')));
    const all = s.control.consoleOf(alloc!.ID);
    expect(data).toEqual(all.subarray(7));
    expect(frames.at(-1)).toMatchObject({ Offset: all.length, File: 'alloc/logs/vm.stdout.0' });
  });

  it('follows: streams frames and heartbeats as the guest prints, and ends when the allocation stops', async () => {
    const s = await sim({ bootDelayMs: 60, chunkDelayMs: 20 });
    const job = await submit(s, vmJobHcl({ id: 'follow' }));
    const [alloc] = await allocs(s, job.ID);
    await eventually(async () => (await plainLog(s, alloc!.ID)).status === 200, 'the task to start');
    const follow = stream(`${s.url}/v1/client/fs/logs/${alloc!.ID}?task=vm&type=stdout&origin=start&offset=0&follow=true`);
    await eventually(() => s.control.consoleOf(alloc!.ID).toString().endsWith('login: '), 'the whole console');
    await eventually(() => follow.chunks.join('').endsWith('{}'), 'a heartbeat after the console');
    await call(s, 'DELETE', `/v1/job/${job.ID}`);
    await follow.ended;
    const frames: Frame[] = new FrameDecoder().push(follow.chunks.join(''));
    const data = Buffer.concat(frames.map((f) => Buffer.from(f.Data ?? '', 'base64')));
    expect(data).toEqual(s.control.consoleOf(alloc!.ID));
    expect(frames.filter((f) => Object.keys(f).length === 0).length).toBeGreaterThan(0);
    expect(frames.filter((f) => f.Data).length).toBeGreaterThan(1);
  });

  it('follows in plain mode too, from an offset', async () => {
    const s = await sim({ bootDelayMs: 40, chunkDelayMs: 10 });
    const job = await submit(s, vmJobHcl({ id: 'plainfollow' }));
    const [alloc] = await allocs(s, job.ID);
    await eventually(async () => (await plainLog(s, alloc!.ID)).status === 200, 'the task to start');
    const follow = stream(`${s.url}/v1/client/fs/logs/${alloc!.ID}?task=vm&type=stdout&origin=start&offset=5&follow=true&plain=true`);
    await eventually(() => follow.chunks.join('').endsWith('login: '), 'the login prompt on the stream');
    s.control.reschedule(job.ID); // the followed allocation is lost: its stream ends
    await follow.ended;
    expect(follow.chunks.join('')).toBe(s.control.consoleOf(alloc!.ID).subarray(5).toString());
  });

  it('close() ends open follow streams and pending timers', async () => {
    const s = await startSimCluster({ ...FAST, bootDelayMs: 60_000 });
    const job = await submit(s, vmJobHcl({ id: 'closing' }));
    const [alloc] = await allocs(s, job.ID);
    await eventually(async () => (await plainLog(s, alloc!.ID)).status === 200, 'the task to start');
    const follow = stream(`${s.url}/v1/client/fs/logs/${alloc!.ID}?task=vm&type=stdout&follow=true`);
    await eventually(() => follow.chunks.length > 0, 'the first frame');
    await s.close();
    await follow.ended;
    expect(follow.chunks.join('')).toContain('"Offset"');
  });

  it('lists allocations ordered by ID, like the HTTP API', async () => {
    const s = await sim();
    const job = await submit(s, vmJobHcl({ id: 'order' }));
    for (let i = 0; i < 4; i++) {
      await eventually(async () => (await allocs(s, job.ID)).some((a) => a.ClientStatus === 'running'), 'running');
      s.control.reschedule(job.ID);
    }
    const ids = (await allocs(s, job.ID)).map((a) => a.ID);
    expect(ids).toHaveLength(5);
    expect(ids).toEqual([...ids].sort());
  });
});

describe('controls', () => {
  it('reschedule: the allocation is lost with NextAllocation set; the new one boots with the same address', async () => {
    const s = await sim();
    const job = await submit(s, vmJobHcl({ id: 'moving', mac: '52:54:84:ba:49:20' }));
    const [first] = await allocs(s, job.ID);
    const before = await addressOf(s, first!.ID, '52:54:84:ba:49:20');
    const nextId = s.control.reschedule(job.ID);
    const list = await allocs(s, job.ID);
    expect(list.find((a) => a.ID === first!.ID)).toMatchObject({ ClientStatus: 'lost', DesiredStatus: 'stop', NextAllocation: nextId });
    expect(list.find((a) => a.ID === first!.ID)!.FollowupEvalID).not.toBe('');
    expect(list.find((a) => a.ID === nextId)).toMatchObject({ PreviousAllocation: first!.ID, DesiredStatus: 'run' });
    expect(await addressOf(s, nextId, '52:54:84:ba:49:20')).toEqual(before);
    expect(before.ipv4).toBe('10.10.0.34');
  });

  it('failNextTask: a Driver Failure event, the allocation failed, and no logs', async () => {
    const s = await sim();
    s.control.failNextTask('broken', 'failed to start task: qemu: could not open image');
    const other = await submit(s, vmJobHcl({ id: 'healthy', mac: '52:54:84:ba:49:30' }));
    const job = await submit(s, vmJobHcl({ id: 'broken' }));
    const failed = await eventually(async () => (await allocs(s, job.ID)).find((a) => a.ClientStatus === 'failed'), 'the failed allocation');
    const state = failed.TaskStates.vm!;
    expect(state).toMatchObject({ State: 'dead', Failed: true });
    expect(state.Events.find((e) => e.Type === 'Driver Failure')).toMatchObject({ DisplayMessage: 'failed to start task: qemu: could not open image', DriverError: 'failed to start task: qemu: could not open image' });
    expect((await plainLog(s, failed.ID)).status).toBe(404);
    expect((await call(s, 'GET', `/v1/job/${job.ID}`)).json()).toMatchObject({ Status: 'dead' });
    // Only the named job failed.
    await eventually(async () => (await allocs(s, other.ID)).some((a) => a.ClientStatus === 'running'), 'the other job running');
  });

  it('failNextTask without a job fails whichever task starts next, once', async () => {
    const s = await sim();
    s.control.failNextTask();
    const first = await submit(s, vmJobHcl({ id: 'first' }));
    await eventually(async () => (await allocs(s, first.ID)).some((a) => a.ClientStatus === 'failed'), 'the first job failed');
    const second = await submit(s, vmJobHcl({ id: 'second', mac: '52:54:84:ba:49:31' }));
    await eventually(async () => (await allocs(s, second.ID)).some((a) => a.ClientStatus === 'running'), 'the second job running');
  });

  it('neverPrintAddress: the guest boots to a login prompt without the init table', async () => {
    const s = await sim();
    s.control.neverPrintAddress('silent');
    const job = await submit(s, vmJobHcl({ id: 'silent' }));
    const [alloc] = await allocs(s, job.ID);
    await eventually(() => s.control.consoleOf(alloc!.ID).toString().endsWith('silent login: '), 'the login prompt');
    const scanner = new ConsoleScanner(MAC);
    scanner.push(s.control.consoleOf(alloc!.ID));
    expect(scanner.address).toBeNull();
    expect(s.control.consoleOf(alloc!.ID).toString()).toContain('False'); // the init-local table is there
  });

  it('failRequests: N answers of 500, then normal service; always until off', async () => {
    const s = await sim();
    s.control.failRequests(2);
    expect((await call(s, 'GET', '/v1/jobs')).status).toBe(500);
    expect((await call(s, 'GET', '/v1/jobs')).status).toBe(500);
    expect((await call(s, 'GET', '/v1/jobs')).status).toBe(200);
    s.control.failRequests('always');
    for (let i = 0; i < 3; i++) expect((await call(s, 'GET', '/v1/jobs')).status).toBe(500);
    s.control.failRequests('off');
    expect((await call(s, 'GET', '/v1/jobs')).status).toBe(200);
    expect(s.control.requestCount).toBe(7);
  });

  it('hang: accepts the connection and never answers; close() still finishes', async () => {
    const s = await startSimCluster(FAST);
    s.control.hang(true);
    // No fixed client timeout (on a loaded machine it could fire before the sim even read the
    // request): wait until the sim holds the request, check it is unanswered, then give up on it.
    const giveUp = new AbortController();
    let settled = false;
    const held = fetch(`${s.url}/v1/jobs`, { signal: giveUp.signal }).then(
      () => 'answered',
      (err: Error) => err.name,
    ).finally(() => (settled = true));
    await eventually(() => s.control.requestCount === 1, 'the sim to receive the request');
    expect(settled).toBe(false);
    giveUp.abort();
    expect(await held).toBe('AbortError');
    expect(s.control.requestCount).toBe(1);
    s.control.hang(false);
    expect((await call(s, 'GET', '/v1/jobs')).status).toBe(200);
    s.control.hang(true);
    const pending = fetch(`${s.url}/v1/jobs`).then(
      () => 'answered',
      () => 'dropped',
    );
    await eventually(() => s.control.requestCount === 3, 'the held request');
    await s.close();
    expect(await pending).toBe('dropped');
  });

  it('ACL mode: 403 "Permission denied" without the right X-Nomad-Token', async () => {
    const s = await sim({ acl: { token: 's3cret-token' } });
    expect(await call(s, 'GET', '/v1/jobs')).toMatchObject({ status: 403, text: 'Permission denied' });
    expect((await call(s, 'GET', '/v1/jobs', undefined, { 'X-Nomad-Token': 'wrong' })).status).toBe(403);
    expect((await call(s, 'GET', '/v1/jobs', undefined, { 'X-Nomad-Token': 's3cret-token' })).status).toBe(200);
  });

  it('setBootDelay applies to the next boots', async () => {
    const s = await sim({ bootDelayMs: 60_000 });
    s.control.setBootDelay(10);
    const job = await submit(s, vmJobHcl({ id: 'quick' }));
    const [alloc] = await allocs(s, job.ID);
    expect((await addressOf(s, alloc!.ID)).ipv4).toBe('10.10.0.36');
  });
});

describe('jobs: re-registration, listing, purge', () => {
  it('re-registering the same spec keeps the allocation; a changed spec makes a new version and allocation', async () => {
    const s = await sim();
    const job = await submit(s, vmJobHcl({ id: 'again' }));
    const [first] = await allocs(s, job.ID);
    const same = await call(s, 'POST', '/v1/jobs', { Job: job });
    expect(same.status).toBe(200);
    expect(await allocs(s, job.ID)).toHaveLength(1);
    expect(s.control.jobs()[0]).toMatchObject({ id: 'again', version: 0 });
    expect(s.control.registrations('again')).toBe(2);
    await submit(s, vmJobHcl({ id: 'again', memory: 4096 }));
    expect(s.control.jobs()[0]).toMatchObject({ version: 1 });
    const list = await allocs(s, job.ID);
    expect(list).toHaveLength(2);
    expect(list.find((a) => a.ID === first!.ID)!.DesiredStatus).toBe('stop');
  });

  it('GET /v1/jobs lists stubs with Meta; GET /v1/job/:id 404s for unknown jobs; X-Nomad-Index is set', async () => {
    const s = await sim();
    await submit(s, vmJobHcl({ id: 'b-job', requestId: 'r2' }));
    await submit(s, vmJobHcl({ id: 'a-job', mac: '52:54:84:ba:49:02' }));
    const res = await call(s, 'GET', '/v1/jobs?index=1&wait=5m');
    expect(Number(res.headers.get('x-nomad-index'))).toBeGreaterThan(1);
    expect(res.json()).toEqual([
      expect.objectContaining({ ID: 'a-job', Type: 'service', Stop: false, Meta: { vmbot_request: 'req-1' } }),
      expect.objectContaining({ ID: 'b-job', Meta: { vmbot_request: 'r2' } }),
    ]);
    expect(await call(s, 'GET', '/v1/job/nope')).toMatchObject({ status: 404, text: 'job not found' });
    expect(await allocs(s, 'nope')).toEqual([]);
  });

  it('DELETE ?purge=true: the job is gone at once, its allocations go complete, then vanish', async () => {
    const s = await sim({ stopDelayMs: 300, gcDelayMs: 400 });
    const job = await submit(s, vmJobHcl({ id: 'gone' }));
    const [alloc] = await allocs(s, job.ID);
    await addressOf(s, alloc!.ID);
    const res = await call(s, 'DELETE', `/v1/job/${job.ID}?purge=true`);
    expect(res.status).toBe(200);
    expect(res.json()).toMatchObject({ EvalID: expect.any(String) });
    expect((await call(s, 'GET', `/v1/job/${job.ID}`)).status).toBe(404);
    // QEMU is still shutting down for stopDelayMs: desired stop, not yet complete.
    expect((await allocs(s, job.ID))[0]).toMatchObject({ DesiredStatus: 'stop', ClientStatus: expect.stringMatching(/^(running|complete)$/) });
    await eventually(async () => (await allocs(s, job.ID))[0]?.ClientStatus === 'complete', 'complete');
    await eventually(async () => (await allocs(s, job.ID)).length === 0, 'the allocation garbage-collected');
    expect((await call(s, 'DELETE', `/v1/job/${job.ID}?purge=true`)).status).toBe(404);
  });

  it('DELETE without purge stops the job but keeps it (Stop, dead)', async () => {
    const s = await sim();
    const job = await submit(s, vmJobHcl({ id: 'stopped' }));
    await call(s, 'DELETE', `/v1/job/${job.ID}`);
    await eventually(async () => ((await call(s, 'GET', `/v1/job/${job.ID}`)).json() as NomadJob).Status === 'dead', 'dead');
    expect((await call(s, 'GET', `/v1/job/${job.ID}`)).json()).toMatchObject({ Stop: true });
  });

  it('unknown routes answer 404 and wrong methods 405', async () => {
    const s = await sim();
    expect((await call(s, 'GET', '/v1/nothing')).status).toBe(404);
    expect((await call(s, 'PATCH', '/v1/jobs')).status).toBe(405);
  });
});

describe('POST /v1/client/allocation/:id/restart', () => {
  async function running(s: SimCluster, id: string): Promise<NomadAllocStub> {
    await submit(s, vmJobHcl({ id }));
    return eventually(async () => (await allocs(s, id)).find((a) => a.ClientStatus === 'running'), 'a running allocation');
  }

  it('restarts in place with an empty body or a TaskName, over POST and PUT', async () => {
    const s = await sim();
    const alloc = await running(s, 'reboot-http');
    const first = await call(s, 'POST', `/v1/client/allocation/${alloc.ID}/restart`);
    expect([first.status, first.json()]).toEqual([200, {}]);
    await eventually(async () => {
      const vm = (await allocs(s, 'reboot-http'))[0]!.TaskStates.vm!;
      return vm.State === 'running' && vm.Restarts === 1; // one read: both from the same moment
    }, 'the first restart done');
    expect((await call(s, 'PUT', `/v1/client/allocation/${alloc.ID}/restart`, { TaskName: 'vm' })).status).toBe(200);
    await eventually(async () => (await allocs(s, 'reboot-http'))[0]!.TaskStates.vm!.Restarts === 2, 'the second restart');
    const [after] = await allocs(s, 'reboot-http');
    expect(after!.ID).toBe(alloc.ID);
    expect(after!.TaskStates.vm!.Events.filter((e) => e.Type === 'Restart Signaled').map((e) => e.DisplayMessage)).toEqual(['User requested restart', 'User requested restart']);
    expect((await call(s, 'GET', `/v1/allocation/${alloc.ID}`)).json()).toMatchObject({ ID: alloc.ID, JobID: 'reboot-http' });
  });

  it('is strict: 404 unknown allocation, 400 bad bodies, 500 unknown or stopped task, 405 other methods', async () => {
    const s = await sim();
    const alloc = await running(s, 'reboot-strict');
    const path = `/v1/client/allocation/${alloc.ID}/restart`;
    const unknown = await call(s, 'POST', '/v1/client/allocation/0b8e4c52-8a43-4c0e-9b1e-6f0a4ad0d2a1/restart', {});
    expect([unknown.status, unknown.text]).toEqual([404, 'Unknown allocation "0b8e4c52-8a43-4c0e-9b1e-6f0a4ad0d2a1"']);
    for (const body of ['{not json', '[]', '{"TaskName": 5}', '{"AllTasks": "yes"}', '{"TaskName": "vm", "AllTasks": true}']) {
      const res = await fetch(s.url + path, { method: 'POST', body });
      expect(res.status, body).toBe(400);
    }
    expect((await call(s, 'GET', path)).status).toBe(405);
    const noTask = await call(s, 'POST', path, { TaskName: 'web' });
    expect([noTask.status, noTask.text]).toEqual([500, 'Could not find task runner for task: web']);
    expect((await call(s, 'GET', '/v1/allocation/0b8e4c52-8a43-4c0e-9b1e-6f0a4ad0d2a1')).status).toBe(404);
    // Nothing was restarted by the refused requests.
    expect((await allocs(s, 'reboot-strict'))[0]!.TaskStates.vm!.Events.some((e) => e.Type === 'Restart Signaled')).toBe(false);
    await call(s, 'DELETE', '/v1/job/reboot-strict');
    await eventually(async () => (await allocs(s, 'reboot-strict'))[0]!.ClientStatus === 'complete', 'complete');
    const stopped = await call(s, 'POST', path, { TaskName: 'vm' });
    expect([stopped.status, stopped.text]).toEqual([500, 'Task not running']);
  });
});
