// The simulated cluster's state machine without HTTP: reschedules across nodes, in-place
// restarts, and the per-disk SSH host keys its consoles print.
import { createHash, createPublicKey } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { parseHostKeys } from '../../../../src/domain/hostkeys.js';
import { SIM_NODES, SimClusterState, defaultDhcp } from '../../../../src/nomad/sim/cluster.js';
import { hostKeyLines } from '../../../../src/nomad/sim/console.js';
import { parseSubnet } from '../../../../src/nomad/sim/dhcp.js';
import { generateHostKeys } from '../../../../src/nomad/sim/hostkeys.js';
import type { NomadJob } from '../../../../src/nomad/sim/types.js';
import { waitFor } from '../../../support/wait.js';

const SEED_URL = 'http://10.10.0.5:8080/nocloud/s33dT0ken/';

function vmJob(id: string, mac = '52:54:84:ba:49:22'): NomadJob {
  return {
    ID: id,
    Datacenters: ['aperture'],
    TaskGroups: [
      {
        Name: id,
        Count: 1,
        Tasks: [{ Name: 'vm', Driver: 'qemu', Config: { image_path: 'local/x.qcow2', args: ['-device', `virtio-net-pci,netdev=hn0,id=nic1,mac=${mac}`, '-smbios', `type=1,serial=ds=nocloud-net;s=${SEED_URL}`] } }],
      },
    ],
  };
}

let state: SimClusterState;
function cluster(): SimClusterState {
  const subnet = parseSubnet('10.10.0.0/24');
  state = new SimClusterState({ subnet, dhcp: defaultDhcp(subnet), startDelayMs: 5, bootDelayMs: 5, chunkDelayMs: 1, stopDelayMs: 5, gcDelayMs: 5 });
  return state;
}
afterEach(() => state?.close());

const consoleText = (s: SimClusterState, allocId: string) => s.alloc(allocId)!.logs.get('vm')!.stdout.all().toString();
const booted = (s: SimClusterState, allocId: string) => waitFor(() => consoleText(s, allocId).endsWith('login: '), { what: `the boot of ${allocId}` });
const only = (s: SimClusterState, jobId: string) => s.allocations(jobId)[0]!;

describe('simulated host keys', () => {
  it('are real ed25519/ECDSA keys and a well-formed RSA 3072 blob, fingerprinted as ssh-keygen does', () => {
    const keys = generateHostKeys();
    expect(keys.map((k) => [k.type, k.label, k.bits])).toEqual([
      ['ecdsa-sha2-nistp256', 'ECDSA', 256],
      ['ssh-ed25519', 'ED25519', 256],
      ['ssh-rsa', 'RSA', 3072],
    ]);
    for (const k of keys) expect(k.fingerprint).toBe(`SHA256:${createHash('sha256').update(Buffer.from(k.blob, 'base64')).digest('base64').replace(/=+$/, '')}`);
    const ed = Buffer.from(keys[1]!.blob, 'base64');
    expect(createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: ed.subarray(ed.length - 32).toString('base64url') }, format: 'jwk' }).asymmetricKeyType).toBe('ed25519');
    // 4+7 "ssh-rsa", 4+3 exponent, 4+1+384 modulus (a leading zero: the top bit is set)
    expect(Buffer.from(keys[2]!.blob, 'base64').length).toBe(11 + 7 + 389);
    expect(new Set(generateHostKeys().map((k) => k.fingerprint)).size).toBe(3);
    expect(generateHostKeys()[1]!.fingerprint).not.toBe(keys[1]!.fingerprint);
  });

  it('print as cloud-init 22.4 does: syslog-prefixed fingerprints between hash rows, then the keys block', () => {
    const keys = generateHostKeys();
    const lines = hostKeyLines(keys, 'alice');
    const prefix = '<14>Nov 25 14:30:13 cloud-init: ';
    expect(lines.slice(0, 2)).toEqual([prefix + '#'.repeat(61), prefix + '-----BEGIN SSH HOST KEY FINGERPRINTS-----']);
    expect(lines.slice(2, 5)).toEqual(keys.map((k) => `${prefix}${k.bits} ${k.fingerprint} root@alice (${k.label})`));
    expect(lines.slice(5, 8)).toEqual([prefix + '-----END SSH HOST KEY FINGERPRINTS-----', prefix + '#'.repeat(61), '-----BEGIN SSH HOST KEY KEYS-----']);
    expect(lines.slice(8)).toEqual([...keys.map((k) => `${k.type} ${k.blob} root@alice`), '-----END SSH HOST KEY KEYS-----']);
  });
});

describe('simulated cluster lifecycle', () => {
  it('prints the disk\'s host keys on the first boot, with the seed URL in the datasource line', async () => {
    const s = cluster();
    s.register(vmJob('alice'));
    const alloc = only(s, 'alice');
    await booted(s, alloc.ID);
    const text = consoleText(s, alloc.ID);
    const keys = s.hostKeysOf(alloc.ID, 'vm')!;
    expect(parseHostKeys(text)).toEqual({
      fingerprints: keys.map((k) => ({ type: k.label, bits: k.bits, fingerprint: k.fingerprint, comment: 'root@alice' })),
      publicKeys: keys.map((k) => ({ type: k.type, key: k.blob, comment: 'root@alice' })),
    });
    expect(text).toContain(`Datasource DataSourceNoCloudNet [seed=dmi,${SEED_URL}][dsmode=net].  Up 14.93 seconds`);
    // The keys come after the address table, before the login prompt.
    expect(text.indexOf('52:54:84:ba:49:22 |\r\n')).toBeLessThan(text.indexOf('BEGIN SSH HOST KEY FINGERPRINTS'));
  });

  it('restart: same allocation and disk, events in Nomad\'s order, a short second boot without keys', async () => {
    const s = cluster();
    s.register(vmJob('bob'));
    const alloc = only(s, 'bob');
    await booted(s, alloc.ID);
    const keys = s.hostKeysOf(alloc.ID, 'vm');
    const firstLength = consoleText(s, alloc.ID).length;
    expect(s.restart(alloc.ID, 'vm')).toBeUndefined();
    await waitFor(() => only(s, 'bob').TaskStates.vm!.Restarts === 1 && only(s, 'bob').ClientStatus === 'running' && consoleText(s, alloc.ID).length > firstLength && consoleText(s, alloc.ID).endsWith('login: '), { what: 'the second boot' });
    const after = only(s, 'bob');
    expect(after.ID).toBe(alloc.ID);
    expect(after.TaskStates.vm!.Events.map((e) => e.Type)).toEqual(['Received', 'Task Setup', 'Started', 'Restart Signaled', 'Terminated', 'Restarting', 'Started']);
    const second = consoleText(s, alloc.ID).slice(firstLength);
    expect(second.startsWith('SeaBIOS')).toBe(true);
    expect(second).toContain("running 'init' at");
    expect(second).not.toContain('SSH HOST KEY');
    expect(s.hostKeysOf(alloc.ID, 'vm')).toEqual(keys);
  });

  it('a restart interrupts a boot: the old boot\'s remaining output is never written', async () => {
    const s = cluster();
    s.setBootDelay(30);
    s.register(vmJob('carol'));
    const alloc = only(s, 'carol');
    await waitFor(() => only(s, 'carol').ClientStatus === 'running', { what: 'running' });
    expect(s.restart(alloc.ID)).toBeUndefined(); // before cloud-init printed anything
    await booted(s, alloc.ID);
    const text = consoleText(s, alloc.ID);
    expect(text.split('SeaBIOS').length - 1).toBe(2);
    expect(text.split('Linux version').length - 1).toBe(1);
    // The interrupted boot never reached cloud-init's final stage, so the next one is still the first boot.
    expect(parseHostKeys(text)!.publicKeys.map((k) => k.key)).toEqual(s.hostKeysOf(alloc.ID, 'vm')!.map((k) => k.blob));
  });

  it('refuses restarts of an unknown allocation, an unknown task, and a task that is not running', async () => {
    const s = cluster();
    s.register(vmJob('dave'));
    const alloc = only(s, 'dave');
    expect(s.restart(alloc.ID)).toMatchObject({ reason: 'not_running', message: 'Task not running' }); // still pending
    await waitFor(() => only(s, 'dave').ClientStatus === 'running', { what: 'running' });
    expect(s.restart('0b8e4c52-8a43-4c0e-9b1e-6f0a4ad0d2a1')).toMatchObject({ reason: 'unknown_allocation', message: 'Unknown allocation "0b8e4c52-8a43-4c0e-9b1e-6f0a4ad0d2a1"' });
    expect(s.restart(alloc.ID, 'web')).toMatchObject({ reason: 'unknown_task' });
    s.deregister('dave', false);
    await waitFor(() => only(s, 'dave').ClientStatus === 'complete', { what: 'complete' });
    expect(s.restart(alloc.ID, 'vm')).toMatchObject({ reason: 'not_running' });
  });

  it('rescheduleAllocation: lost, linked both ways, placed on another node with a fresh disk and a full first boot', async () => {
    const s = cluster();
    s.register(vmJob('erin'));
    const first = only(s, 'erin');
    expect(first.NodeName).toBe(SIM_NODES[0]!.name);
    await booted(s, first.ID);
    const oldKeys = s.hostKeysOf(first.ID, 'vm')!;
    const nextId = s.rescheduleAllocation(first.ID);
    const allocs = Object.fromEntries(s.allocations('erin').map((a) => [a.ID, a]));
    expect(allocs[first.ID]).toMatchObject({ ClientStatus: 'lost', DesiredStatus: 'stop', NextAllocation: nextId });
    expect(allocs[nextId]).toMatchObject({ PreviousAllocation: first.ID, JobVersion: first.JobVersion });
    expect(allocs[nextId]!.NodeID).not.toBe(first.NodeID);
    await booted(s, nextId);
    const keys = parseHostKeys(consoleText(s, nextId))!;
    expect(keys.publicKeys.map((k) => k.key)).toEqual(s.hostKeysOf(nextId, 'vm')!.map((k) => k.blob));
    expect(keys.publicKeys.map((k) => k.key)).not.toEqual(oldKeys.map((k) => k.blob));
    expect(() => s.rescheduleAllocation(first.ID)).toThrow(/not a live allocation/);
  });

  it('failNode: every live allocation on the node is replaced elsewhere; restoreNode puts it back in use', async () => {
    const s = cluster();
    s.register(vmJob('f1', '52:54:84:ba:49:31'));
    s.register(vmJob('f2', '52:54:84:ba:49:32'));
    const home = SIM_NODES[0]!.name;
    const replacements = s.failNode(home);
    expect(replacements).toHaveLength(2);
    for (const jobId of ['f1', 'f2']) {
      const live = s.allocations(jobId).find((a) => a.DesiredStatus === 'run')!;
      expect(replacements).toContain(live.ID);
      expect(live.NodeName).not.toBe(home);
    }
    s.register(vmJob('f3', '52:54:84:ba:49:33'));
    expect(only(s, 'f3').NodeName).not.toBe(home);
    s.restoreNode(home);
    s.register(vmJob('f4', '52:54:84:ba:49:34'));
    expect(only(s, 'f4').NodeName).toBe(home);
    expect(() => s.failNode('nope')).toThrow(/no node "nope"/);
  });

  it('a job stopped without purge is a new version; registering it again places a new allocation at the next one', async () => {
    const s = cluster();
    s.register(vmJob('gina'));
    const first = only(s, 'gina');
    s.deregister('gina', false);
    expect(s.getJob('gina')).toMatchObject({ Stop: true, Version: 1 });
    await waitFor(() => only(s, 'gina').ClientStatus === 'complete', { what: 'complete' });
    s.register(vmJob('gina'));
    expect(s.getJob('gina')).toMatchObject({ Stop: false, Version: 2 });
    const second = s.allocations('gina').find((a) => a.ID !== first.ID)!;
    expect(second).toMatchObject({ JobVersion: 2, DesiredStatus: 'run', PreviousAllocation: '' });
  });
});
