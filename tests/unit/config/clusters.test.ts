// nomad.clusters and nomad.routes: how each cluster resolves (its own keys, else the nomad:
// section's), which cluster a request goes to, and every cross-check's message.
import { describe, expect, it } from 'vitest';
import { ConfigError, forLocalMode, parseConfig } from '../../../src/config/load.js';
import { nomadClusterConfigs, routeCluster } from '../../../src/config/schema.js';
import { clustersOf } from '../../../src/nomad/clusters.js';
import type { NomadPort } from '../../../src/nomad/port.js';

const FP = `SHA256:${'A'.repeat(43)}`;
const ssh = (host: string) => ({ host, user: 'vmbot', privateKeyPath: '/etc/vmbot/id_ed25519', hostKeyFingerprint: FP });

function problems(raw: unknown): string[] {
  try {
    parseConfig(raw, 'test.yaml');
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).issues;
  }
  throw new Error('expected the configuration to be refused');
}

/** The two examples of docs/configuration.md, "Several clusters". */
const TWO_RACKS = {
  distros: [{ name: 'debian-12', label: 'Debian 12', image: 'http://x/d.qcow2' }, { name: 'ubuntu-24', label: 'Ubuntu 24.04', image: 'http://x/u.qcow2' }],
  nomad: {
    datacenters: ['aperture'],
    clusters: [
      { name: 'rack1', jobPrefix: 'uservm-', ssh: ssh('wheatley.example.org') },
      { name: 'rack2', jobPrefix: 'rack2-', datacenters: ['mesa'], pollInterval: '5s', ssh: ssh('glados.example.org') },
    ],
    routes: [{ size: 'large', cluster: 'rack2' }, { distro: 'ubuntu-24', cluster: 'rack2' }],
  },
};
const FEDERATION = {
  nomad: {
    adapter: 'http',
    http: { address: 'https://nomad.example.org:4646' },
    namespace: 'vms',
    clusters: [
      { name: 'west', region: 'west', datacenters: ['west-1'] },
      { name: 'east', region: 'east', datacenters: ['east-1', 'east-2'] },
    ],
    routes: [{ size: 'large', cluster: 'east' }],
  },
};

describe('nomad.clusters', () => {
  it('a nomad: section without clusters is one cluster named "default", with its own keys', () => {
    const config = parseConfig({ nomad: { adapter: 'http', jobPrefix: 'vm-', namespace: 'vms' } });
    const [only, ...rest] = nomadClusterConfigs(config.nomad);
    expect(rest).toEqual([]);
    expect(only).toMatchObject({ name: 'default', adapter: 'http', jobPrefix: 'vm-', namespace: 'vms', datacenters: ['dc1'], pollInterval: 2_000, ipTimeout: 600_000 });
    expect(config.nomad.routes).toEqual([]);
  });

  it('each cluster takes the keys it leaves out from the nomad: section (sections replaced whole)', () => {
    const racks = nomadClusterConfigs(parseConfig(TWO_RACKS).nomad);
    expect(racks.map((c) => [c.name, c.adapter, c.jobPrefix, c.datacenters, c.pollInterval, c.ssh?.host])).toEqual([
      ['rack1', 'ssh', 'uservm-', ['aperture'], 2_000, 'wheatley.example.org'],
      ['rack2', 'ssh', 'rack2-', ['mesa'], 5_000, 'glados.example.org'],
    ]);
    const regions = nomadClusterConfigs(parseConfig(FEDERATION).nomad);
    expect(regions.map((c) => [c.name, c.adapter, c.http?.address, c.namespace, c.region, c.jobPrefix])).toEqual([
      ['west', 'http', 'https://nomad.example.org:4646', 'vms', 'west', 'uservm-'],
      ['east', 'http', 'https://nomad.example.org:4646', 'vms', 'east', 'uservm-'],
    ]);
  });

  it('routes: the first that matches size and distro wins, else the first cluster', () => {
    const { routes } = parseConfig(TWO_RACKS).nomad;
    const names = ['rack1', 'rack2'];
    expect(routeCluster(routes, names, { size: 'large', distro: 'debian-12' })).toBe('rack2');
    expect(routeCluster(routes, names, { size: 'small', distro: 'ubuntu-24' })).toBe('rack2');
    expect(routeCluster(routes, names, { size: 'small', distro: 'debian-12' })).toBe('rack1');
    const both = [{ size: 'large', distro: 'ubuntu-24', cluster: 'rack2' }];
    expect(routeCluster(both, names, { size: 'large', distro: 'debian-12' })).toBe('rack1');
    expect(routeCluster(both, names, { size: 'large', distro: 'ubuntu-24' })).toBe('rack2');
  });

  it('NomadClusters: port and settings by name; an unknown name says what to do', async () => {
    const closed: string[] = [];
    const port = (name: string) => ({ close: async () => void closed.push(name) }) as unknown as NomadPort;
    const settings = (name: string, jobPrefix: string) => ({ name, jobPrefix, datacenters: ['dc1'], pollInterval: 10, ipTimeout: 100 });
    const clusters = clustersOf([{ port: port('a'), settings: settings('a', 'a-') }, { port: port('b'), settings: settings('b', 'b-') }], [{ size: 'large', cluster: 'b' }]);
    expect(clusters.names).toEqual(['a', 'b']);
    expect(clusters.choose({ size: 'large', distro: 'x' })).toBe('b');
    expect(clusters.settings('b').jobPrefix).toBe('b-');
    expect(() => clusters.port('gone')).toThrow(/cluster "gone", which is not configured \(the clusters are a, b\): add it back to nomad.clusters/);
    await clusters.close();
    expect(closed.sort()).toEqual(['a', 'b']);
  });

  it('names the key and what to do for each cross-check', () => {
    const issues = problems({
      nomad: {
        adapter: 'ssh',
        clusters: [
          { name: 'rack1', ssh: ssh('a') },
          { name: 'rack1', jobPrefix: 'r-', ssh: ssh('b') },
          { name: 'rack3', jobPrefix: 'uservm-', ssh: { ...ssh('c'), hostKeyFingerprint: undefined } },
          { name: 'rack4', jobPrefix: 'r4-' },
        ],
        routes: [{ cluster: 'rack1' }, { size: 'huge', cluster: 'rack9' }, { distro: 'arch', cluster: 'rack1' }],
      },
    });
    expect(issues).toEqual([
      'nomad.clusters[1].name: duplicate cluster name "rack1": requests record the name, so give each cluster its own',
      'nomad.clusters[2].ssh.hostKeyFingerprint: required: pin the Nomad host key (ssh-keygen -lf on its host key), or set trustOnFirstUse: true',
      'nomad.clusters[2].jobPrefix: nomad.clusters[2] (rack3) has the same jobPrefix "uservm-" as cluster rack1: give each cluster its own jobPrefix (e.g. "rack3-"), or a different namespace or region',
      'nomad.clusters[3].ssh: nomad.clusters[3] (rack4) uses the ssh adapter (nomad.adapter, default ssh) but has no ssh section (host, user, privateKeyPath, hostKeyFingerprint): add nomad.clusters[3].ssh (docs/ssh.md), or set its adapter to http',
      'nomad.routes[0]: a route needs a size, a distro or both (e.g. { size: large, cluster: rack2 }): add one, or remove the route',
      'nomad.routes[1].cluster: no cluster named "rack9": the clusters are "rack1", "rack3", "rack4" (nomad.clusters[].name)',
      'nomad.routes[1].size: no size named "huge": the sizes are "small", "medium", "large" (sizes[].name)',
      'nomad.routes[2].distro: no distro named "arch": the distros are "debian-12" (distros[].name)',
    ]);
  });

  it('the same prefix is fine in another namespace or region, not in the same one', () => {
    expect(() => parseConfig(FEDERATION)).not.toThrow();
    expect(problems({ nomad: { adapter: 'http', clusters: [{ name: 'a', namespace: 'x' }, { name: 'b', namespace: 'x' }] } })).toEqual([
      'nomad.clusters[1].jobPrefix: nomad.clusters[1] (b) has the same jobPrefix "uservm-" as cluster a in the same namespace and region: give each cluster its own jobPrefix (e.g. "b-"), or a different namespace or region',
    ]);
  });

  it('without clusters, a route can only name "default"; the ssh rule of nomad: is unchanged', () => {
    expect(problems({ nomad: { adapter: 'sim', routes: [{ size: 'large', cluster: 'rack2' }] } })).toEqual([
      'nomad.routes[0].cluster: no cluster named "rack2": the clusters are "default" (without nomad.clusters the nomad: section is the one cluster, "default")',
    ]);
    expect(() => parseConfig({ nomad: { adapter: 'sim', routes: [{ size: 'large', cluster: 'default' }] } })).not.toThrow();
    // With clusters that bring their own ssh sections, nomad.ssh is not needed.
    expect(() => parseConfig(TWO_RACKS)).not.toThrow();
  });

  it('refuses an empty list, and namespace/region names that could not be sent to Nomad', () => {
    expect(problems({ nomad: { adapter: 'sim', clusters: [] } })).toEqual([
      'nomad.clusters: list at least one cluster, or leave nomad.clusters out to use the nomad: section as the one cluster',
    ]);
    expect(problems({ nomad: { adapter: 'sim', namespace: "vms'; rm -rf /", clusters: [{ name: 'a', region: 'eu west' }] } })).toEqual([
      'nomad.namespace: expected 1-128 letters, digits, dashes or underscores (a Nomad namespace or region name)',
      'nomad.clusters[0].region: expected 1-128 letters, digits, dashes or underscores (a Nomad namespace or region name)',
    ]);
  });

  it('local mode runs every cluster on the simulated one (their ssh/http settings left out)', () => {
    const config = parseConfig(forLocalMode({ nomad: { clusters: [{ name: 'rack1', adapter: 'ssh' }, { name: 'rack2', adapter: 'http', jobPrefix: 'r2-' }] } }));
    expect(nomadClusterConfigs(config.nomad).map((c) => [c.name, c.adapter, c.ssh, c.http])).toEqual([
      ['rack1', 'sim', undefined, undefined],
      ['rack2', 'sim', undefined, undefined],
    ]);
  });
});
