import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { openStore } from '../../../src/store/index.js';
import { makeTempDir } from '../../support/tmp.js';
import { runCli } from '../config/run-cli.js';
import { parseJob } from './support.js';

const ROOT = join(import.meta.dirname, '../../..');
const KEY_FILE = join(ROOT, 'tests/fixtures/keys/ed25519.pub');
const ECDSA = join(ROOT, 'tests/fixtures/keys/ecdsa-256.pub');

let tmp: Awaited<ReturnType<typeof makeTempDir>>;
beforeAll(async () => {
  tmp = await makeTempDir('render-cli');
});
afterAll(() => tmp.cleanup());

async function config(extra = '', db = join(tmp.dir, `${Math.random().toString(36).slice(2)}.sqlite`)): Promise<{ file: string; db: string }> {
  const file = join(tmp.dir, `${Math.random().toString(36).slice(2)}.yaml`);
  await writeFile(
    file,
    [
      `templates: { dir: ${JSON.stringify(join(ROOT, 'templates'))} }`,
      `database: { path: ${JSON.stringify(db)} }`,
      'macPool: { ranges: ["52:54:84:ba:49:00-52:54:84:ba:49:0f"], reserved: [{ mac: "52:54:84:ba:49:00" }, { mac: "52:54:84:ba:49:01" }] }',
      'distros: [{ name: debian-12, label: Debian 12, image: "http://images.test/debian-12.qcow2" }, { name: ubuntu-24, label: Ubuntu, image: "http://images.test/ubuntu.qcow2" }]',
      'sizes: [{ name: small, label: S, cpu: 2000, memory: 2048 }, { name: large, label: L, cpu: 12000, memory: 8192 }]',
      extra,
    ].join('\n'),
  );
  return { file, db };
}

/** Splits the printed output into its three files. */
function sections(stdout: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of stdout.split(/^# ---- /m).filter(Boolean)) {
    const [header, ...body] = part.split('\n');
    out[header!.replace(/ ----$/, '')] = body.join('\n');
  }
  return out;
}

describe('vmbot render', () => {
  it('prints the job and cloud-init files for a valid request, with the first unreserved MAC when there is no database', async () => {
    const { file } = await config('nomad: { adapter: sim, datacenters: [aperture] }');
    const result = await runCli(['--config', file, 'render', '--name', 'web-1', '--distro', 'ubuntu-24', '--size', 'large', '--ssh-key', KEY_FILE, '--ssh-key', (await readFile(ECDSA, 'utf8')).trim(), '--user', 'alice']);
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(/^MAC 52:54:84:ba:49:02 \(no database at .* yet: first MAC of the pool not reserved in the config; nothing was allocated\)\n$/);
    const files = sections(result.stdout);
    expect(Object.keys(files)).toEqual(['job.nomad.hcl', 'user-data', 'meta-data']);
    const job = await parseJob(files['job.nomad.hcl']!);
    expect(job.id).toBe('uservm-web-1');
    expect(job.meta).toEqual({ vmbot_request: 'dry-run' });
    expect(job.task.artifact.source).toBe('http://images.test/ubuntu.qcow2');
    expect(job.task.resources).toEqual({ cpu: 12000, memory: 8192 });
    expect(job.task.config.args).toEqual(expect.arrayContaining(['virtio-net-pci,netdev=hn0,id=nic1,mac=52:54:84:ba:49:02', 'type=1,serial=ds=nocloud-net;s=http://127.0.0.1:8000/nocloud/<placeholder-token>/']));
    const userData = parseYaml(files['user-data']!) as { users: [string, { name: string; ssh_authorized_keys: string[] }] };
    expect(userData.users[1].name).toBe('alice');
    expect(userData.users[1].ssh_authorized_keys).toEqual([(await readFile(KEY_FILE, 'utf8')).trim(), (await readFile(ECDSA, 'utf8')).trim()]);
    expect(parseYaml(files['meta-data']!)).toEqual({ 'instance-id': 'dry-run-web-1', 'local-hostname': 'web-1' });
  });

  it('shows the MAC the store would hand out next, and takes nothing', async () => {
    const { file, db } = await config('nomad: { adapter: sim }');
    const pool = { ranges: ['52:54:84:ba:49:00-52:54:84:ba:49:0f'], reserved: [{ mac: '52:54:84:ba:49:00', note: '' }, { mac: '52:54:84:ba:49:01', note: '' }] };
    const store = await openStore({ path: db, pool });
    await store.macs.reserve('52:54:84:ba:49:02', 'hand-made');
    const before = await store.macs.usage();
    await store.close();

    const result = await runCli(['--config', file, 'render', '--name', 'web-1', '--ssh-key', KEY_FILE, '--user', 'alice']);
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(/^MAC 52:54:84:ba:49:03 \(next free MAC in .*; nothing was allocated\)/);
    expect(result.stdout).toContain('mac=52:54:84:ba:49:03');

    const after = await openStore({ path: db, pool });
    expect(await after.macs.usage()).toEqual(before);
    expect(await after.macs.peekNext()).toBe('52:54:84:ba:49:03');
    await after.close();
  });

  it('writes job.nomad.hcl, user-data and meta-data into --out, with --mac and the sftp seed URL', async () => {
    const { file } = await config(
      'nomad: { adapter: sim }\ncloudInit: { publish: sftp, sftp: { host: h, user: u, privateKeyPath: /k, trustOnFirstUse: true, publicUrl: "http://vm-resources.service.consul:8000/res/" } }',
    );
    const out = join(tmp.dir, 'out');
    const result = await runCli(['--config', file, 'render', '--name', 'db-2', '--ssh-key', KEY_FILE, '--user', 'bob', '--mac', '52:54:84:BA:49:22', '--out', out]);
    expect(result.code).toBe(0);
    expect(result.stderr).toBe('');
    expect(result.stdout.trim().split('\n')).toEqual(['job.nomad.hcl', 'user-data', 'meta-data'].map((f) => `wrote ${join(out, f)}`));
    const job = await parseJob(await readFile(join(out, 'job.nomad.hcl'), 'utf8'));
    expect(job.task.config.args).toEqual(expect.arrayContaining(['virtio-net-pci,netdev=hn0,id=nic1,mac=52:54:84:ba:49:22', 'type=1,serial=ds=nocloud-net;s=http://vm-resources.service.consul:8000/res/db-2/']));
    expect((await readFile(join(out, 'user-data'), 'utf8')).startsWith('#cloud-config\n')).toBe(true);
    expect(parseYaml(await readFile(join(out, 'meta-data'), 'utf8'))).toEqual({ 'instance-id': 'dry-run-db-2', 'local-hostname': 'db-2' });
  });

  it('prints every problem with its field and flag, exits 1 and renders nothing', async () => {
    const { file } = await config('nomad: { adapter: sim }');
    const result = await runCli(['--config', file, 'render', '--name', 'Web_1', '--distro', 'windows', '--size', 'huge', '--user', 'root', '--ssh-key', 'ssh-rsa AAAA', '--mac', '52:54:84:ba:49']);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    const lines = result.stderr.trim().split('\n');
    expect(lines[0]).toBe('vmbot render: nothing rendered:');
    expect(lines.slice(1).map((l) => /^ {2}- (\S+ \(--[a-z-]+\)):/.exec(l)?.[1])).toEqual([
      'name (--name)',
      'distro (--distro)',
      'size (--size)',
      'login (--user)',
      'sshKeys (--ssh-key)',
      'mac (--mac)',
    ]);
  });

  it('says when --ssh-key is neither a key nor a readable file', async () => {
    const { file } = await config('nomad: { adapter: sim }');
    const result = await runCli(['--config', file, 'render', '--name', 'web-1', '--user', 'alice', '--ssh-key', join(tmp.dir, 'id_ed25519.pub')]);
    expect(result.code).toBe(1);
    expect(result.stderr.trim().split('\n').slice(1)).toEqual([expect.stringMatching(/^ {2}- sshKeys \(--ssh-key\): ".*id_ed25519\.pub" is neither an SSH public key nor a readable file \(ENOENT\)/)]);
  });

  it('says when --ssh-key names a private key file', async () => {
    const { file } = await config('nomad: { adapter: sim }');
    const privateKey = join(tmp.dir, 'id_test');
    await writeFile(privateKey, '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----\n');
    const result = await runCli(['--config', file, 'render', '--name', 'web-1', '--user', 'alice', '--ssh-key', privateKey]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`sshKeys (--ssh-key): ${JSON.stringify(privateKey)} is a private key file: name its public key file instead, the one ending in .pub.`);
  });

  it('says what is missing when called without options', async () => {
    const { file } = await config('nomad: { adapter: sim }');
    const result = await runCli(['--config', file, 'render']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/name \(--name\): Give your VM a name/);
    expect(result.stderr).toMatch(/login \(--user\): Choose a login name/);
    expect(result.stderr).toMatch(/sshKeys \(--ssh-key\): Paste at least one SSH public key/);
  });
});
