// The watcher's wait for late host keys (issue 12), on a scripted console with an injected
// clock: up without keys starts it; the keys end it with one onLateHostKeys; the deadline,
// an ended allocation or a new boot watch end it without; its polls come every
// KEYS_POLL_EVERY ticks, after the booting VMs, through the same read limit.
import { afterEach, describe, expect, it } from 'vitest';
import type { HostKeys } from '../../../src/domain/hostkeys.js';
import { silentLogger } from '../../../src/log.js';
import type { NomadPort } from '../../../src/nomad/port.js';
import { bootText, hostKeyLines } from '../../../src/nomad/sim/console.js';
import { generateHostKeys } from '../../../src/nomad/sim/hostkeys.js';
import { KEYS_POLL_EVERY, Watcher } from '../../../src/workflow/watcher.js';
import { consoleNomad } from '../../support/console-nomad.js';
import { waitFor } from '../../support/wait.js';

const MAC = '52:54:84:ba:49:07';
const SPEC = { mac: MAC, ipv4: '10.10.0.7', prefixLength: 24, gateway: '10.10.0.1', hostname: 'keys-vm', printAddress: true };

let watcher: Watcher | undefined;
afterEach(async () => {
  await watcher?.close();
  watcher = undefined;
});

function start(nomad: NomadPort, now: () => number, hostKeysTimeoutMs = 60_000) {
  const ups: string[] = [];
  const late: Array<{ allocId: string; hostKeys: HostKeys }> = [];
  const missing: string[] = [];
  watcher = new Watcher({
    nomad,
    logger: silentLogger,
    pollIntervalMs: 5,
    ipTimeoutMs: 600_000,
    hostKeyWaitMs: 100,
    hostKeysTimeoutMs,
    now,
    events: {
      onProgress: async () => undefined,
      onAddress: async (id) => void ups.push(id),
      onFailure: async (_id, failure) => {
        throw new Error(`unexpected failure ${failure.code}`);
      },
      onLateHostKeys: async (_id, allocId, hostKeys) => void late.push({ allocId, hostKeys }),
      onHostKeysMissing: async (_id, why) => void missing.push(why),
    },
  });
  const target = { requestId: 'req-keys', jobId: 'uservm-keys', mac: MAC, allocId: null, logOffset: 0, progress: null };
  watcher.watch(target);
  return { ups, late, missing, target };
}

/** Up without keys: the address printed, the wait for keys run out on the injected clock. */
async function upWithoutKeys(con: ReturnType<typeof consoleNomad>, clock: { t: number }, hostKeysTimeoutMs?: number) {
  con.append(bootText(SPEC) + '\r\n');
  const w = start(con.nomad, () => clock.t, hostKeysTimeoutMs);
  // A second read starts only once the first poll (which saw the address) is over.
  await waitFor(() => con.reads >= 2, { what: 'two reads' });
  clock.t += 100;
  await waitFor(() => w.ups.length === 1, { what: 'the up event' });
  expect(watcher!.isFollowingKeys('req-keys')).toBe(true);
  return w;
}

describe('the watcher, after an up without host keys', () => {
  it('keeps reading the same allocation, every KEYS_POLL_EVERY ticks, and reports the keys once', async () => {
    const clock = { t: 1_000 };
    const con = consoleNomad();
    const w = await upWithoutKeys(con, clock);
    // Polls of the follow-up: one listing and one read each, every KEYS_POLL_EVERY ticks.
    const listings = con.listings;
    await waitFor(() => con.listings >= listings + 3, { what: 'three follow-up polls' });
    expect(w.late).toEqual([]);
    expect(KEYS_POLL_EVERY).toBeGreaterThan(1);

    const keys = generateHostKeys();
    con.append(hostKeyLines(keys, SPEC.hostname).join('\r\n') + '\r\n');
    await waitFor(() => w.late.length === 1, { what: 'the late keys' });
    expect(w.late[0]!.allocId).toBe('alloc-0001');
    expect(w.late[0]!.hostKeys.fingerprints.map((f) => f.fingerprint)).toEqual(keys.map((k) => k.fingerprint));
    expect(w.late[0]!.hostKeys.publicKeys.map((k) => k.key)).toEqual(keys.map((k) => k.blob));
    expect(watcher!.isWatching('req-keys')).toBe(false);
    expect(w.ups).toHaveLength(1);
    expect(w.missing).toEqual([]);
  });

  it('ends at the deadline with onHostKeysMissing, not before', async () => {
    const clock = { t: 1_000 };
    const con = consoleNomad();
    const w = await upWithoutKeys(con, clock, 5_000);
    clock.t += 5_000; // exactly the deadline: still waiting
    const listings = con.listings;
    await waitFor(() => con.listings >= listings + 2, { what: 'two more follow-up polls' });
    expect(watcher!.isWatching('req-keys')).toBe(true);
    clock.t += 1;
    await waitFor(() => !watcher!.isWatching('req-keys'), { what: 'the watch to end' });
    expect(w.missing).toEqual(['deadline']);
    expect(w.late).toEqual([]);
  });

  it('ends when the allocation ends, and a new boot watch replaces the wait', async () => {
    const clock = { t: 1_000 };
    const con = consoleNomad();
    const w = await upWithoutKeys(con, clock);
    // A new boot of the same request (a start or a move) is watched as a boot, not as a wait for keys.
    watcher!.watch({ ...w.target, allocId: 'alloc-0001' });
    expect(watcher!.isWatching('req-keys')).toBe(true);
    expect(watcher!.isFollowingKeys('req-keys')).toBe(false);
    const reads = con.reads;
    // Two reads of the new watch (a poll of the replaced one may still have been reading): its first poll is over.
    await waitFor(() => con.reads >= reads + 3, { what: 'the new boot watch to read the console twice' });
    clock.t += 100; // its own wait for keys runs out
    await waitFor(() => w.ups.length === 2, { what: 'the second boot up' });
    expect(watcher!.isFollowingKeys('req-keys')).toBe(true);

    con.alloc.clientStatus = 'complete';
    await waitFor(() => !watcher!.isWatching('req-keys'), { what: 'the watch to end' });
    expect(w.missing).toEqual(['allocation_ended']);
    expect(w.late).toEqual([]);
  });
});
