// nomad.*.http.tokenEnv: which variable holds each http cluster's token (src/config/secrets.ts).
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/load.js';
import { nomadTokenNeeds, nomadTokenSources, readSecrets, secretNamesFor } from '../../../src/config/secrets.js';
import { createClusterPort, clusterPortOptions } from '../../../src/nomad/index.js';
import { nomadClusterConfigs } from '../../../src/config/schema.js';
import { silentLogger } from '../../../src/log.js';

const twoClusters = (rack2Http: Record<string, unknown>) =>
  parseConfig({
    nomad: {
      adapter: 'http',
      clusters: [
        { name: 'rack1', http: { address: 'http://127.0.0.1:1' } },
        { name: 'rack2', jobPrefix: 'rack2-', http: { address: 'http://127.0.0.1:2', ...rack2Http } },
      ],
    },
  });

describe('http.tokenEnv', () => {
  it('absent: every http cluster reads NOMAD_TOKEN, optional, as before', () => {
    const config = parseConfig({ nomad: { adapter: 'http' } });
    expect(nomadTokenSources(config)).toEqual([{ cluster: 'default', variable: 'NOMAD_TOKEN', named: false, key: 'nomad.http.tokenEnv' }]);
    expect(nomadTokenNeeds(config)).toEqual([{ name: 'NOMAD_TOKEN', required: false, for: 'a Nomad cluster with ACLs' }]);
  });

  it("named: that cluster's variable is read and required, named with its cluster", () => {
    const config = twoClusters({ tokenEnv: 'NOMAD_TOKEN_RACK2' });
    expect(secretNamesFor(config)).toContain('NOMAD_TOKEN_RACK2');
    expect(readSecrets({ NOMAD_TOKEN_RACK2: ' t2 ' }, secretNamesFor(config)).NOMAD_TOKEN_RACK2).toBe('t2');
    expect(nomadTokenNeeds(config)).toEqual([
      { name: 'NOMAD_TOKEN', required: false, for: 'Nomad cluster rack1 with ACLs' },
      { name: 'NOMAD_TOKEN_RACK2', required: true, for: 'Nomad cluster rack2 (nomad.clusters[1].http.tokenEnv)' },
    ]);
  });

  it('a named variable that is not set: the port is refused with the variable and its cluster, never a value', async () => {
    const config = twoClusters({ tokenEnv: 'NOMAD_TOKEN_RACK2' });
    const rack2 = nomadClusterConfigs(config.nomad)[1]!;
    await expect(createClusterPort(rack2, { NOMAD_TOKEN: 'secret-default-x1' }, silentLogger, clusterPortOptions(config, 'rack2'))).rejects.toThrow(
      /Nomad cluster rack2: NOMAD_TOKEN_RACK2 is not set \(nomad\.clusters\[1\]\.http\.tokenEnv names it/,
    );
  });

  it.each([
    ['1TOKEN', /not an environment variable name/],
    ['NOMAD-TOKEN', /not an environment variable name/],
    ['SLACK_BOT_TOKEN', /another of vmbot's secrets/],
    ['NOMAD_TOKEN_RACK2_FILE', /name the variable itself \(NOMAD_TOKEN_RACK2\)/],
  ])('refuses %s in the one config validation', (name, message) => {
    expect(() => twoClusters({ tokenEnv: name })).toThrow(message);
  });
});
