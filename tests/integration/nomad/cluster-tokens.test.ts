// Two http clusters in ACL mode with different tokens: each cluster's requests carry its own
// (http.tokenEnv), and the simulated Nomad refuses any other with 403.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/load.js';
import { readSecrets, secretNamesFor } from '../../../src/config/secrets.js';
import { checkNomadClusters } from '../../../src/nomad/check.js';
import { createClusters } from '../../../src/nomad/clusters.js';
import { startSimCluster, type SimCluster } from '../../../src/nomad/sim/index.js';
import { silentLogger } from '../../../src/log.js';

let rack1: SimCluster;
let rack2: SimCluster;
beforeAll(async () => {
  rack1 = await startSimCluster({ acl: { token: 'tok-rack1-9f2' } });
  rack2 = await startSimCluster({ acl: { token: 'tok-rack2-c41' } });
});
afterAll(async () => {
  await rack1?.close();
  await rack2?.close();
});

const config = () =>
  parseConfig({
    nomad: {
      adapter: 'http',
      clusters: [
        { name: 'rack1', http: { address: rack1.url } },
        { name: 'rack2', jobPrefix: 'rack2-', http: { address: rack2.url, tokenEnv: 'NOMAD_TOKEN_RACK2' } },
      ],
    },
  });

describe('a token per http cluster', () => {
  it('each cluster is reached with its own token', async () => {
    const cfg = config();
    const secrets = readSecrets({ NOMAD_TOKEN: 'tok-rack1-9f2', NOMAD_TOKEN_RACK2: 'tok-rack2-c41' }, secretNamesFor(cfg));
    const clusters = await createClusters(cfg, secrets, silentLogger);
    try {
      await expect(clusters.port('rack1').listJobs()).resolves.toEqual([]);
      await expect(clusters.port('rack2').listJobs()).resolves.toEqual([]);
    } finally {
      await clusters.close();
    }
    const checks = await checkNomadClusters(cfg, secrets, { timeoutMs: 5_000 });
    expect(checks.map((c) => c.steps.at(-1))).toEqual([
      expect.objectContaining({ name: 'nomad token', ok: true, detail: 'accepted' }),
      expect.objectContaining({ name: 'nomad token', ok: true, detail: 'accepted (from NOMAD_TOKEN_RACK2)' }),
    ]);
  });

  it("the wrong token is refused (NOMAD_TOKEN on rack2 would not do), and a missing one is named with its cluster", async () => {
    const cfg = config();
    const swapped = await checkNomadClusters(cfg, { NOMAD_TOKEN: 'tok-rack1-9f2', NOMAD_TOKEN_RACK2: 'tok-rack1-9f2' }, { timeoutMs: 5_000 });
    expect(swapped[1]!.steps.at(-1)).toEqual(expect.objectContaining({ name: 'nomad token', ok: false, detail: 'the ACL token from NOMAD_TOKEN_RACK2 was refused (HTTP 403)' }));
    // The running port's refusal names the variable to check, not NOMAD_TOKEN.
    const wrong = await createClusters(cfg, readSecrets({ NOMAD_TOKEN: 'tok-rack1-9f2', NOMAD_TOKEN_RACK2: 'tok-rack1-9f2' }, secretNamesFor(cfg)), silentLogger);
    try {
      await expect(wrong.port('rack2').listJobs()).rejects.toMatchObject({ code: 'forbidden', message: expect.stringMatching(/check NOMAD_TOKEN_RACK2$/) });
      await expect(wrong.port('rack1').listJobs()).resolves.toEqual([]);
    } finally {
      await wrong.close();
    }
    const missing = await checkNomadClusters(cfg, { NOMAD_TOKEN: 'tok-rack1-9f2' }, { timeoutMs: 5_000 });
    expect(missing[1]!.steps).toEqual([expect.objectContaining({ name: 'nomad token', ok: false, detail: expect.stringContaining('NOMAD_TOKEN_RACK2 is not set') })]);
    expect(JSON.stringify(missing)).not.toContain('tok-rack1-9f2');
  });
});
