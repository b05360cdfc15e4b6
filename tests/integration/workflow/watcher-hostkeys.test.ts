// The watcher and the SSH host keys (issue 12): cloud-init prints the address (init stage)
// and the host keys (modules:final) at different moments. The watcher reports the VM up
// with the keys as soon as both are in, in either order; an address whose keys do not come
// waits at most hostKeyWaitMs (an injected clock: no real waiting) and goes up without them.
import { afterEach, describe, expect, it } from 'vitest';
import type { HostKeys } from '../../../src/domain/hostkeys.js';
import { silentLogger } from '../../../src/log.js';
import type { NomadPort } from '../../../src/nomad/port.js';
import { bootText, hostKeyLines } from '../../../src/nomad/sim/console.js';
import { generateHostKeys } from '../../../src/nomad/sim/hostkeys.js';
import { HOST_KEY_WAIT_MS, Watcher } from '../../../src/workflow/watcher.js';
import { consoleNomad } from '../../support/console-nomad.js';
import { waitFor } from '../../support/wait.js';

const MAC = '52:54:84:ba:49:07';
const SPEC = { mac: MAC, ipv4: '10.10.0.7', prefixLength: 24, gateway: '10.10.0.1', hostname: 'keys-vm', printAddress: true };

let watcher: Watcher | undefined;
afterEach(async () => {
  await watcher?.close();
  watcher = undefined;
});

function start(nomad: NomadPort, now: () => number) {
  const ups: Array<{ ipv4?: string; hostKeys?: HostKeys }> = [];
  let booting = false;
  watcher = new Watcher({
    nomad,
    logger: silentLogger,
    pollIntervalMs: 5,
    ipTimeoutMs: 600_000,
    now,
    events: {
      onProgress: async (_id, patch) => {
        if (patch.progress === 'booting') booting = true;
      },
      onAddress: async (_id, address, hostKeys) => {
        ups.push({ ...(address.ipv4 ? { ipv4: address.ipv4 } : {}), ...(hostKeys ? { hostKeys } : {}) });
      },
      onFailure: async (_id, failure) => {
        throw new Error(`unexpected failure ${failure.code}`);
      },
    },
  });
  watcher.watch({ requestId: 'req-keys', jobId: 'uservm-keys', mac: MAC, allocId: null, logOffset: 0, progress: null });
  return { ups, booting: () => booting };
}

describe('the watcher and the host keys', () => {
  it('keys printed after the address: up once they are in, with them', async () => {
    const keys = generateHostKeys();
    const con = consoleNomad();
    con.append(bootText(SPEC) + '\r\n');
    const w = start(con.nomad, () => 0);
    await waitFor(() => w.booting(), { what: 'the console read' });
    // The address is there, the keys are not: several more polls, still not up.
    const reads = con.reads;
    await waitFor(() => con.reads >= reads + 3, { what: 'three more polls' });
    expect(w.ups).toEqual([]);

    con.append(hostKeyLines(keys, SPEC.hostname).join('\r\n') + '\r\n');
    await waitFor(() => w.ups.length === 1, { what: 'the up event' });
    expect(w.ups[0]!.ipv4).toBe('10.10.0.7');
    expect(w.ups[0]!.hostKeys?.fingerprints.map((f) => f.fingerprint)).toEqual(keys.map((k) => k.fingerprint));
    expect(w.ups[0]!.hostKeys?.publicKeys.map((k) => k.key)).toEqual(keys.map((k) => k.blob));
  });

  it('keys printed before the address: up at the address, with them', async () => {
    const keys = generateHostKeys();
    const con = consoleNomad();
    con.append(hostKeyLines(keys, SPEC.hostname).join('\r\n') + '\r\n' + bootText(SPEC) + '\r\n');
    const w = start(con.nomad, () => 0);
    await waitFor(() => w.ups.length === 1, { what: 'the up event' });
    expect(w.ups[0]!.hostKeys?.fingerprints).toHaveLength(keys.length);
  });

  it('keys that never come: up without them once hostKeyWaitMs has passed, not before', async () => {
    let t = 1_000;
    const con = consoleNomad();
    con.append(bootText(SPEC) + '\r\n');
    const w = start(con.nomad, () => t);
    await waitFor(() => w.booting(), { what: 'the console read' });
    t += HOST_KEY_WAIT_MS - 1;
    const reads = con.reads;
    await waitFor(() => con.reads >= reads + 3, { what: 'three more polls' });
    expect(w.ups).toEqual([]);

    t += 1;
    await waitFor(() => w.ups.length === 1, { what: 'the up event' });
    expect(w.ups[0]).toEqual({ ipv4: '10.10.0.7' });
  });
});
