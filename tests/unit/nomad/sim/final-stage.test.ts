// The sim's hold on cloud-init's final stage (holdFinalStage / releaseFinalStage): a boot
// stops right after the `modules:final` start line, before the SSH host keys, as a guest
// whose package installs or runcmd are still running; released, it prints the rest.
import { afterEach, describe, expect, it } from 'vitest';
import { parseHostKeys } from '../../../../src/domain/hostkeys.js';
import { SimClusterState, defaultDhcp } from '../../../../src/nomad/sim/cluster.js';
import { parseSubnet } from '../../../../src/nomad/sim/dhcp.js';
import type { NomadJob } from '../../../../src/nomad/sim/types.js';
import { waitFor } from '../../../support/wait.js';

function vmJob(id: string): NomadJob {
  return {
    ID: id,
    Datacenters: ['aperture'],
    TaskGroups: [{ Name: id, Count: 1, Tasks: [{ Name: 'vm', Driver: 'qemu', Config: { image_path: 'local/x.qcow2', args: ['-device', 'virtio-net-pci,netdev=hn0,id=nic1,mac=52:54:84:ba:49:22'] } }] }],
  };
}

let state: SimClusterState | undefined;
function cluster(): SimClusterState {
  const subnet = parseSubnet('10.10.0.0/24');
  state = new SimClusterState({ subnet, dhcp: defaultDhcp(subnet), startDelayMs: 5, bootDelayMs: 5, chunkDelayMs: 1, stopDelayMs: 5, gcDelayMs: 5 });
  return state;
}
afterEach(() => {
  state?.close();
  state = undefined;
});

const consoleText = (s: SimClusterState, allocId: string) => s.alloc(allocId)!.logs.get('vm')!.stdout.all().toString();
const only = (s: SimClusterState, jobId: string) => s.allocations(jobId)[0]!;
const FINAL_START = /running 'modules:final' at [^\r]*\r\n$/;

describe('holding a boot in cloud-init\'s final stage', () => {
  it('stops after the final stage\'s start line (the address printed, no keys); released, prints the keys and the rest once', async () => {
    const s = cluster();
    s.holdFinalStage('alice');
    s.register(vmJob('alice'));
    const alloc = only(s, 'alice');
    await waitFor(() => FINAL_START.test(consoleText(s, alloc.ID)), { what: 'the boot to reach the final stage' });
    const held = consoleText(s, alloc.ID);
    expect(held).toContain('52:54:84:ba:49:22 |');
    expect(held).not.toContain('SSH HOST KEY');
    expect(held).not.toContain('login: ');

    s.releaseFinalStage('alice');
    await waitFor(() => consoleText(s, alloc.ID).endsWith('login: '), { what: 'the rest of the boot' });
    const text = consoleText(s, alloc.ID);
    expect(text.startsWith(held)).toBe(true);
    expect(text.split('BEGIN SSH HOST KEY FINGERPRINTS').length - 1).toBe(1);
    expect(parseHostKeys(text)!.fingerprints.map((f) => f.fingerprint)).toEqual(s.hostKeysOf(alloc.ID, 'vm')!.map((k) => k.fingerprint));
  });

  it('a restart while held ends that boot; the next boot is still the first (keys printed once released)', async () => {
    const s = cluster();
    s.holdFinalStage(true);
    s.register(vmJob('bob'));
    const alloc = only(s, 'bob');
    await waitFor(() => FINAL_START.test(consoleText(s, alloc.ID)), { what: 'the first boot to reach the final stage' });
    const firstLength = consoleText(s, alloc.ID).length;
    expect(s.restart(alloc.ID, 'vm')).toBeUndefined();
    await waitFor(() => consoleText(s, alloc.ID).length > firstLength && FINAL_START.test(consoleText(s, alloc.ID)), { what: 'the second boot to reach the final stage' });

    s.releaseFinalStage(true);
    await waitFor(() => consoleText(s, alloc.ID).endsWith('login: '), { what: 'the rest of the second boot' });
    const text = consoleText(s, alloc.ID);
    expect(text.split('SeaBIOS').length - 1).toBe(2);
    expect(text.split('BEGIN SSH HOST KEY FINGERPRINTS').length - 1).toBe(1);
    expect(text.split('login: ').length - 1).toBe(1);
    expect(parseHostKeys(text)!.publicKeys.map((k) => k.key)).toEqual(s.hostKeysOf(alloc.ID, 'vm')!.map((k) => k.blob));
  });

  it('is strict: releasing what is not held throws, and one job cannot be released from a hold on all', () => {
    const s = cluster();
    expect(() => s.releaseFinalStage('carol')).toThrow(/job "carol" is not held/);
    expect(() => s.releaseFinalStage(true)).toThrow(/no job is held/);
    s.holdFinalStage(true);
    expect(() => s.releaseFinalStage('carol')).toThrow(/releaseFinalStage\(true\)/);
    s.releaseFinalStage(true);
    expect(() => s.releaseFinalStage(true)).toThrow(/no job is held/);
  });
});
