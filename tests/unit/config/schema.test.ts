import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, parseConfig, resolveConfigPath } from '../../../src/config/load.js';
import { makeTempDir } from '../../support/tmp.js';

function problems(raw: unknown): string[] {
  try {
    parseConfig(raw, 'test.yaml');
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).issues;
  }
  throw new Error('expected the configuration to be refused');
}

const SIM = { nomad: { adapter: 'sim' } };

describe('the config schema', () => {
  it('lists every problem at once, each by key path with what is expected', () => {
    const issues = problems({
      macPool: { ranges: ['52:54:84:ba:49:00-52:54:84:ba:49:zz'], reserved: [{ mac: 'nope' }] },
      nomad: { adapter: 'ssh', jobPrefix: 'User_VM', ipTimeout: 'soon', ssh: { host: 'h', user: 'u', privateKeyPath: '/k' } },
      distros: [{ name: 'Debian', label: 'Debian', image: 'ftp://x/d.qcow2' }],
      sizes: [{ name: 'small', label: 'S', cpu: '2000', memory: 2048 }],
      slack: { adminChannel: 'C1', mode: 'websocket' },
      discord: { applicationId: 'abc', guildId: '100000000000000002', adminChannel: '100000000000000003' },
      web: { listen: 'localhost' },
      databse: { path: 'x' },
    });
    expect(issues).toEqual([
      'macPool.ranges[0]: "52:54:84:ba:49:zz" is not a MAC address (expected six hex pairs like 52:54:84:ba:49:00)',
      'macPool.reserved[0].mac: "nope" is not a MAC address (expected six hex pairs like 52:54:84:ba:49:00)',
      'distros[0].name: expected lower-case letters, digits and dashes',
      'distros[0].image: "ftp://x/d.qcow2" is not an http(s) URL',
      expect.stringMatching(/^sizes\[0\]\.cpu: .*expected number, received string/),
      'nomad.jobPrefix: expected at most 20 lower-case letters, digits or dashes',
      'nomad.ipTimeout: "soon" is not a duration (expected e.g. 30s, 10m, 1h)',
      expect.stringMatching(/^slack\.mode: .*"socket"\|"http"/),
      'discord.applicationId: expected a Discord snowflake ID (digits)',
      'web.listen: "localhost" is not host:port (e.g. 127.0.0.1:8080)',
      '(top level): unknown key(s) "databse" (did you mean "database"?)',
      // Cross-key rules are reported along with the rest, not after a second run.
      'nomad.ssh.hostKeyFingerprint: required: pin the Nomad host key (ssh-keygen -lf on its host key), or set trustOnFirstUse: true',
    ]);
  });

  it('reports unknown keys inside sections (typos are not silently ignored)', () => {
    expect(problems({ ...SIM, nomad: { adapter: 'sim', jobprefix: 'x-' } })).toEqual([
      'nomad: unknown key(s) "jobprefix" (did you mean "jobPrefix"?)',
    ]);
  });

  it('normalises MACs and ranges to lower case, and takes a single MAC as a range of one', () => {
    const config = parseConfig({ ...SIM, macPool: { ranges: ['52:54:84:BA:49:00-52:54:84:BA:49:0F', '52:54:84:ba:4a:05'], reserved: [{ mac: '52:54:84:BA:49:01' }] } });
    expect(config.macPool.ranges).toEqual(['52:54:84:ba:49:00-52:54:84:ba:49:0f', '52:54:84:ba:4a:05-52:54:84:ba:4a:05']);
    expect(config.macPool.reserved).toEqual([{ mac: '52:54:84:ba:49:01', note: '' }]);
  });

  it('refuses a reversed range, a reserved MAC outside the pool and one reserved twice', () => {
    expect(problems({ ...SIM, macPool: { ranges: ['52:54:84:ba:49:ff-52:54:84:ba:49:00'] } })).toEqual([
      expect.stringMatching(/^macPool\.ranges\[0\]: .*the first MAC is after the last; swap them/),
    ]);
    expect(problems({ ...SIM, macPool: { ranges: ['52:54:84:ba:49:00-52:54:84:ba:49:ff'], reserved: [{ mac: '52:54:84:ba:4a:01' }, { mac: '52:54:84:ba:49:02' }, { mac: '52:54:84:BA:49:02' }] } })).toEqual([
      'macPool.reserved[0].mac: 52:54:84:ba:4a:01 is outside every range of macPool.ranges, so reserving it changes nothing (check for a typo)',
      'macPool.reserved[2].mac: 52:54:84:ba:49:02 is reserved twice',
    ]);
  });

  it('requires the sections the chosen adapters need, and unique catalogue names', () => {
    expect(problems({ nomad: { adapter: 'ssh' }, cloudInit: { publish: 'sftp' }, sizes: [{ name: 's', label: 'S', cpu: 1, memory: 1 }, { name: 's', label: 'S2', cpu: 1, memory: 1 }] })).toEqual([
      'nomad.ssh: nomad.adapter is "ssh" (the default) but nomad.ssh (host, user, privateKeyPath, hostKeyFingerprint) is missing: add it (docs/ssh.md), or set nomad.adapter to http, or to sim to try vmbot without a cluster',
      'cloudInit.sftp: cloudInit.publish is "sftp" but cloudInit.sftp (host, user, privateKeyPath, hostKeyFingerprint) is missing',
      'sizes[1].name: duplicate size name "s"',
    ]);
  });

  it('turns durations into milliseconds and host:port into parts', () => {
    const config = parseConfig({ ...SIM, nomad: { adapter: 'sim', ipTimeout: '10m', pollInterval: 500 }, web: { listen: '[::1]:9000' } });
    expect(config.nomad.ipTimeout).toBe(600_000);
    expect(config.nomad.pollInterval).toBe(500);
    expect(config.web.listen).toEqual({ host: '::1', port: 9000 });
  });
});

describe('loadConfig', () => {
  let tmp: Awaited<ReturnType<typeof makeTempDir>>;
  beforeAll(async () => {
    tmp = await makeTempDir('config');
  });
  afterAll(() => tmp.cleanup());

  const load = async (text: string, opts = {}) => {
    const file = join(tmp.dir, `c-${Math.random().toString(36).slice(2)}.yaml`);
    await writeFile(file, text);
    return loadConfig(file, opts);
  };

  it('reports YAML syntax errors with their line', async () => {
    await expect(load('nomad:\n  adapter: sim\n   bad: [\n')).rejects.toThrowError(/YAML syntax: .* at line 2, column 12/);
  });

  it('refuses duplicate keys and a file that is not a mapping', async () => {
    await expect(load('nomad: { adapter: sim }\nnomad: { adapter: ssh }\n')).rejects.toThrowError(/YAML syntax: Map keys must be unique/);
    await expect(load('- a\n- b\n')).rejects.toThrowError(/expected a mapping of keys/);
  });

  it('takes a missing default file as the simulated cluster, but refuses a missing named file', async () => {
    const missing = join(tmp.dir, 'absent.yaml');
    const loaded = await loadConfig(missing);
    expect(loaded.found).toBe(false);
    expect(loaded.config.nomad.adapter).toBe('sim');
    await expect(loadConfig(missing, { mustExist: true })).rejects.toThrowError(/cannot read the file: ENOENT/);
  });

  it('picks --config, then VMBOT_CONFIG, then vmbot.config.yaml', () => {
    expect(resolveConfigPath('a.yaml', { VMBOT_CONFIG: 'b.yaml' })).toBe('a.yaml');
    expect(resolveConfigPath(undefined, { VMBOT_CONFIG: 'b.yaml' })).toBe('b.yaml');
    expect(resolveConfigPath(undefined, {})).toBe('vmbot.config.yaml');
  });
});
