// Pool sync against the simulated cluster through the SSH adapter (listJobs = `operator api
// /v1/jobs` + `job inspect -json` per job) and a real SQLite store.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addPoolSyncSubcommand } from '../../../src/commands/pool-sync.js';
import { createHttpNomad } from '../../../src/nomad/http/adapter.js';
import type { NomadPort } from '../../../src/nomad/port.js';
import { startSimCluster, type SimCluster } from '../../../src/nomad/sim/index.js';
import { createSshNomad, type SshNomadPort } from '../../../src/nomad/ssh/adapter.js';
import { openStore, type Store } from '../../../src/store/index.js';
import { formatPoolSyncReport, macsInArgs, syncPool } from '../../../src/workflow/pool-sync.js';
import { startTestSshServer, type TestSshServer } from '../../support/ssh-server.js';
import { makeTempDir } from '../../support/tmp.js';

const TOKEN = '5ec2e7aa-0000-4000-8000-000000000001';

function jobHcl(jobId: string, mac: string, requestId?: string): string {
  const meta = requestId ? `meta {\n    vmbot_request = "${requestId}"\n  }` : '';
  return `job "${jobId}" {
  datacenters = ["dc1"]
  ${meta}
  group "${jobId}" {
    task "vm" {
      driver = "qemu"
      config {
        image_path = "local/${jobId}.qcow2"
        args = ["-netdev", "bridge,id=hn0", "-device", "virtio-net-pci,netdev=hn0,id=nic1,mac=${mac}", "-smbios", "type=1,serial=ds=nocloud-net;s=http://10.10.0.5:8000/res/${jobId}/"]
      }
      resources {
        cpu    = 2000
        memory = 2048
      }
    }
  }
}
`;
}

describe('macsInArgs', () => {
  it('finds mac= in -device arguments, lower-cased, and nothing else', () => {
    expect(macsInArgs(['-device', 'virtio-net-pci,netdev=hn0,id=nic1,mac=52:54:84:BA:49:22', '-smbios', 'type=1,serial=ds=nocloud-net;s=http://h/res/x/'])).toEqual(['52:54:84:ba:49:22']);
    expect(macsInArgs(['-device', 'e1000,mac=52:54:84:ba:49:01,id=a', 'mac=52:54:84:ba:49:02'])).toEqual(['52:54:84:ba:49:01', '52:54:84:ba:49:02']);
    expect(macsInArgs(['-device', 'virtio-net-pci,macaddr=52:54:84:ba:49:03', 'mac=52:54:84:ba:49:0'])).toEqual([]);
  });
});

describe('pool sync', () => {
  let sim: SimCluster;
  let server: TestSshServer;
  let nomad: SshNomadPort;
  /** The admins' side: hand-made jobs go straight to the cluster (setup, not under test). */
  let admin: NomadPort;
  let store: Store;
  let tmp: Awaited<ReturnType<typeof makeTempDir>>;

  beforeAll(async () => {
    sim = await startSimCluster({ acl: { token: TOKEN }, startDelayMs: 20, bootDelayMs: 50, chunkDelayMs: 5, stopDelayMs: 10, gcDelayMs: 10 });
    server = await startTestSshServer({ nomadAddr: sim.url, token: TOKEN });
    nomad = createSshNomad({ host: server.host, port: server.port, user: server.user, privateKey: server.clientKey.privateKey, hostKeyFingerprint: server.hostKey.fingerprint, tokenFile: '~/.nomad-token' });
    admin = createHttpNomad({ address: sim.url, token: TOKEN });
    tmp = await makeTempDir('pool-sync');
    store = await openStore({ path: join(tmp.dir, 'vmbot.sqlite'), pool: { ranges: ['52:54:84:ba:49:00-52:54:84:ba:49:ff'], reserved: [{ mac: '52:54:84:ba:49:01', note: 'distro-vm' }] } });
  });
  afterAll(async () => {
    await nomad?.close();
    await admin?.close();
    await store?.close();
    await server?.close();
    await sim?.close();
    await tmp?.cleanup();
  });

  it('marks hand-made jobs\' MACs external, reports conflicts, and frees MACs whose job is gone', async () => {
    // vmbot's own VM holds the lowest free MAC (:00).
    const request = await store.requests.create(
      { name: 'alice-vm', distro: 'debian-12', size: 'small', login: 'alice', sshKeys: [], reason: 'coursework', requester: { platform: 'slack', userId: 'U1' } },
      { actor: { platform: 'slack', userId: 'U1' }, action: 'request' },
    );
    const ownMac = await store.macs.allocate(request.id);
    expect(ownMac).toBe('52:54:84:ba:49:00');

    await admin.submitJob(jobHcl('uservm-alice-vm', ownMac, request.id)); // vmbot's: ignored
    await admin.submitJob(jobHcl('distro-vm', '52:54:84:ba:49:01')); // reserved already: stays reserved
    await admin.submitJob(jobHcl('wheatley-web', '52:54:84:ba:49:20'));
    await admin.submitJob(jobHcl('old-vm', '52:54:84:BA:49:22'));
    await admin.submitJob(jobHcl('copy-of-alice', ownMac)); // a hand-made copy reusing vmbot's MAC

    const first = await syncPool(nomad, store.macs);
    expect(first.jobs).toBe(5);
    expect(first.ownJobs).toBe(1);
    expect(first.external.map((e) => e.jobId)).toEqual(['copy-of-alice', 'distro-vm', 'old-vm', 'wheatley-web']);
    expect(first.added).toEqual(['52:54:84:ba:49:20', '52:54:84:ba:49:22']);
    expect(first.conflicts).toEqual([{ mac: ownMac, jobId: 'copy-of-alice', requestId: request.id }]);
    expect(first.freed).toEqual([]);
    expect(formatPoolSyncReport(first)).toContain(`CONFLICT: ${ownMac} is held by vmbot request ${request.id} but the hand-made job "copy-of-alice" also uses it`);

    // The next MAC handed out skips the external ones.
    const usage = await store.macs.usage();
    expect(usage.holders).toContainEqual({ mac: '52:54:84:ba:49:20', holder: { kind: 'external', jobId: 'wheatley-web' } });

    // old-vm is purged by hand: its MAC comes back to the pool on the next sync.
    await admin.stopJob('old-vm');
    const second = await syncPool(nomad, store.macs);
    expect(second.freed).toEqual(['52:54:84:ba:49:22']);
    expect(second.added).toEqual([]);
    expect(formatPoolSyncReport(second)).toContain('Freed (their job is gone): 52:54:84:ba:49:22');
  });

  it('`vmbot pool sync` wires the configured ssh adapter and the store, and prints the report', async () => {
    await admin.submitJob(jobHcl('lab-router', '52:54:84:ba:49:30'));
    const keyPath = join(tmp.dir, 'id_ed25519');
    writeFileSync(keyPath, server.clientKey.privateKey, { mode: 0o600 });
    const configPath = join(tmp.dir, 'vmbot.config.yaml');
    writeFileSync(
      configPath,
      [
        `database: { path: ${JSON.stringify(join(tmp.dir, 'cli.sqlite'))} }`,
        'nomad:',
        '  adapter: ssh',
        '  ssh:',
        `    host: ${server.host}`,
        `    port: ${server.port}`,
        `    user: ${server.user}`,
        `    privateKeyPath: ${JSON.stringify(keyPath)}`,
        `    hostKeyFingerprint: ${JSON.stringify(server.hostKey.fingerprint)}`,
        '    tokenFile: ~/.nomad-token',
      ].join('\n') + '\n',
    );
    const out: string[] = [];
    const program = new Command('vmbot').option('-c, --config <path>').exitOverride();
    addPoolSyncSubcommand(program.command('pool'), { out: (t) => out.push(t), err: (t) => out.push(`ERR ${t}`) });
    const before = process.exitCode;
    try {
      await program.parseAsync(['node', 'vmbot', '-c', configPath, 'pool', 'sync']);
      expect(process.exitCode ?? 0).toBe(0);
    } finally {
      process.exitCode = before;
    }
    const text = out.join('\n');
    expect(text).toContain('lab-router: 52:54:84:ba:49:30');
    expect(text).toMatch(/Marked external: .*52:54:84:ba:49:30/);
  });
});
