// The commands on a configuration with two clusters (nomad.clusters): `vmbot ip --refresh`
// reads the console of the request's cluster, `vmbot pool sync` reads every cluster into the
// one MAC pool, `vmbot nomad check` checks each (its name on every line), and `config check`
// lists them with the routes. Two simulated clusters over HTTP; the VM is brought up by a
// harness core on the same database.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { registerIpCommand } from '../../../src/commands/ip.js';
import { registerNomadCommands } from '../../../src/commands/nomad.js';
import { registerRenderCommand } from '../../../src/commands/render.js';
import { addPoolSyncSubcommand } from '../../../src/commands/pool-sync.js';
import { summarizeConfig } from '../../../src/commands/config.js';
import { parseConfig } from '../../../src/config/load.js';
import { checkNomad } from '../../../src/nomad/check.js';
import { createHttpNomad } from '../../../src/nomad/http/adapter.js';
import { startSimCluster, type SimCluster } from '../../../src/nomad/sim/index.js';
import { TEST_SSH_KEY, harnessConfigInput, startHarness, type Harness } from '../../support/harness.js';
import { vmJobHcl } from '../nomad/support.js';

let rack1: SimCluster;
let rack2: SimCluster;
let h: Harness;
let configPath: string;

const twoRacks = () => ({
  nomad: {
    clusters: [
      { name: 'rack1', http: { address: rack1.url } },
      { name: 'rack2', jobPrefix: 'rack2-', http: { address: rack2.url } },
    ],
    routes: [{ size: 'large', cluster: 'rack2' }],
  },
});

beforeAll(async () => {
  [rack1, rack2] = await Promise.all([startSimCluster({ bootDelayMs: 50 }), startSimCluster({ bootDelayMs: 50, subnet: '10.20.0.0/24' })]);
  h = await startHarness({ simCluster: rack1, configuredClusters: true, config: twoRacks() });
  configPath = join(h.dir, 'vmbot.config.yaml');
  // JSON is YAML: the configuration the harness runs with.
  await writeFile(configPath, JSON.stringify(harnessConfigInput({ dir: h.dir, simUrl: rack1.url, nocloudUrl: h.nocloudUrl, config: twoRacks() })));
});
afterAll(async () => {
  await h?.close();
  await Promise.all([rack1?.close(), rack2?.close()]);
});
afterEach(() => {
  vi.restoreAllMocks();
  process.exitCode = undefined;
});

/** Runs one command line; console output and the io lines are both collected. */
async function run(args: string[]): Promise<{ out: string; err: string; exitCode: number | undefined }> {
  const out: string[] = [];
  const err: string[] = [];
  vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')));
  vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void err.push(a.join(' ')));
  const io = { out: (t: string) => void out.push(t), err: (t: string) => void err.push(t) };
  // `vmbot render` writes its files and notes straight to the streams.
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => (out.push(String(chunk)), true));
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => (err.push(String(chunk)), true));
  process.exitCode = undefined;
  const program = new Command('vmbot').option('-c, --config <path>').exitOverride();
  registerIpCommand(program);
  registerNomadCommands(program, io);
  addPoolSyncSubcommand(program.command('pool'), io);
  registerRenderCommand(program);
  await program.parseAsync(['node', 'vmbot', '-c', configPath, ...args]);
  const exitCode = process.exitCode as number | undefined;
  vi.restoreAllMocks();
  return { out: out.join('\n'), err: err.join('\n'), exitCode };
}

describe('commands on two clusters', () => {
  it('ip --refresh reads the console of the cluster the request recorded', async () => {
    const submitted = await h.core.workflow.submitRequest(h.member(), h.input({ name: 'big', size: 'large' }));
    if (!submitted.ok) throw new Error('submit refused');
    await h.core.workflow.approve(h.admin(), submitted.value.requestId);
    const running = await h.inState(submitted.value.requestId, 'running');
    expect(running.cluster).toBe('rack2');
    // A stale address in the store: only rack2's console can put the real one back.
    await h.core.store.requests.update(running.id, ['running'], { address: { ipv4: '192.0.2.1', ipv6: [], seenAt: running.address!.seenAt } });
    const refreshed = await run(['ip', 'big', '--refresh']);
    expect(refreshed.err).toBe('');
    expect(refreshed.out).toContain(running.address!.ipv4!);
    expect((await h.core.store.requests.get(running.id))?.address?.ipv4).toBe(running.address!.ipv4);
    expect(JSON.parse((await run(['ip', 'big', '--json'])).out)).toMatchObject({ name: 'big', cluster: 'rack2', jobId: 'rack2-big' });
  });

  it('pool sync reads the hand-made jobs of every cluster, named cluster/job', async () => {
    const admin1 = createHttpNomad({ address: rack1.url });
    const admin2 = createHttpNomad({ address: rack2.url });
    try {
      await admin1.submitJob(vmJobHcl({ id: 'router', requestId: null, mac: '52:54:84:ba:49:40' }));
      await admin2.submitJob(vmJobHcl({ id: 'router', requestId: null, mac: '52:54:84:ba:49:41' }));
    } finally {
      await Promise.all([admin1.close(), admin2.close()]);
    }
    const synced = await run(['pool', 'sync']);
    expect(synced.err).toBe('');
    expect(synced.out).toContain('rack1/router: 52:54:84:ba:49:40');
    expect(synced.out).toContain('rack2/router: 52:54:84:ba:49:41');
    expect(synced.out).toMatch(/Marked external: 52:54:84:ba:49:40, 52:54:84:ba:49:41/);
    const holders = (await h.core.store.macs.usage()).holders.filter((x) => x.holder.kind === 'external');
    expect(holders.map((x) => x.mac).sort()).toEqual(['52:54:84:ba:49:40', '52:54:84:ba:49:41']);
  });

  it('pool sync changes nothing when one cluster cannot be listed', async () => {
    rack2.control.failRequests('always');
    try {
      const synced = await run(['pool', 'sync']);
      expect(synced.exitCode).toBe(1);
      expect(synced.err).toMatch(/^pool sync: cannot list Nomad's jobs: Nomad cluster rack2: .*\[server_error\]/);
      // rack2's router was not freed as if its job were gone.
      const external = (await h.core.store.macs.usage()).holders.filter((x) => x.holder.kind === 'external').map((x) => x.mac);
      expect(external.sort()).toEqual(['52:54:84:ba:49:40', '52:54:84:ba:49:41']);
    } finally {
      rack2.control.failRequests('off');
    }
  });

  it('nomad check checks each cluster and names it on every line; checkNomad prefixes the step names', async () => {
    const checked = await run(['nomad', 'check', '--timeout', '5']);
    expect(checked.exitCode ?? 0).toBe(0);
    const lines = checked.out.split('\n');
    expect(lines[0]).toBe('rack1: Nomad cluster rack1 (http adapter):');
    expect(lines.filter((l) => l.startsWith('rack2: ')).length).toBeGreaterThan(2);
    expect(lines.every((l) => l.startsWith('rack1: ') || l.startsWith('rack2: '))).toBe(true);
    const steps = await checkNomad(h.config, {});
    expect(steps.map((s) => s.name)).toEqual(['rack1: dns', 'rack1: tcp', 'rack1: nomad api', 'rack1: nomad token', 'rack2: dns', 'rack2: tcp', 'rack2: nomad api', 'rack2: nomad token']);
  });

  it('render renders for the cluster the routes choose (its job prefix), or the one --cluster names', async () => {
    const args = ['render', '--name', 'web1', '--user', 'alice', '--ssh-key', TEST_SSH_KEY, '--mac', '52:54:84:ba:49:30'];
    const routed = await run([...args, '--size', 'large']);
    expect(routed.exitCode ?? 0).toBe(0);
    expect(routed.err).toContain('cluster rack2 (chosen by nomad.routes, as approval would)');
    expect(routed.out).toMatch(/job "rack2-web1"/);
    const named = await run([...args, '--size', 'large', '--cluster', 'rack1']);
    expect(named.out).toMatch(/job "uservm-web1"/);
    const unknown = await run([...args, '--cluster', 'rack9']);
    expect(unknown.exitCode).toBe(1);
    expect(unknown.err).toContain('cluster (--cluster): There is no cluster "rack9": name one of rack1, rack2');
  });

  it('config check lists the clusters and the routes', () => {
    const lines = summarizeConfig(h.config, {}, 'vmbot.config.yaml');
    expect(lines).toContain('  Nomad clusters: 2 (the first is the default; one MAC pool for all)');
    expect(lines).toContain(`    rack2: http (${rack2.url}); jobs rack2-<name> in aperture`);
    expect(lines).toContain('  Routes:         size large → rack2; anything else → rack1');
    // A single nomad: section keeps its two lines.
    const single = summarizeConfig(parseConfig({ nomad: { adapter: 'sim', namespace: 'vms' } }), {}, 'x');
    expect(single).toContain('  Jobs:           uservm-<name> in dc1 (namespace vms)');
  });
});
