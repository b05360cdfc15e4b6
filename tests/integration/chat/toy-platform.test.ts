// A fourth chat platform, defined in the test folder and registered through the platform list
// alone ([...PLATFORMS, toy]): the production composition (main.ts) creates and starts its
// adapter, the workflow asks the toy's own admin rule, and the member gets the "up" notice
// with the ssh line, on the simulated cluster.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PLATFORMS } from '../../../src/chat/platforms.js';
import { startComponents, type Started } from '../../../src/components.js';
import { parseConfig } from '../../../src/config/load.js';
import type { Config } from '../../../src/config/schema.js';
import { silentLogger } from '../../../src/log.js';
import { processComponents, productionComponents } from '../../../src/main.js';
import { startSimCluster, type SimCluster } from '../../../src/nomad/sim/index.js';
import { harnessConfigInput, TEST_SSH_KEY } from '../../support/harness.js';
import { makeTempDir } from '../../support/tmp.js';
import { createToyPlatform, type ToyPlatform } from '../../support/toy-platform.js';
import { waitFor } from '../../support/wait.js';

let sim: SimCluster;
let temp: Awaited<ReturnType<typeof makeTempDir>>;
let toy: ToyPlatform;
let config: Config;
let running: Started;
const secrets = { TOY_TOKEN: 'toy-token-for-tests' };

beforeAll(async () => {
  sim = await startSimCluster({ bootDelayMs: 50 });
  temp = await makeTempDir('toy-platform');
  toy = createToyPlatform();
  const parsed = parseConfig(
    // The harness's Slack and Discord sections stay: without their tokens they do not start.
    harnessConfigInput({ dir: temp.dir, simUrl: sim.url, nocloudUrl: 'http://127.0.0.1:8000', config: { cloudInit: { builtin: { listen: '127.0.0.1:0' } } } }),
    'toy platform test',
  );
  // A platform outside PLATFORMS has no key in the config file's schema: its parsed section
  // goes on the config object under its name, where every reader of the list looks.
  config = { ...parsed, toy: toy.platform.section.parse({ admins: ['TADMIN'] }) } as Config;
  running = await startComponents(await productionComponents({ config, secrets, logger: silentLogger, platforms: [...PLATFORMS, toy.platform] }), silentLogger);
});

afterAll(async () => {
  await running?.stop();
  await sim?.close();
  await temp?.cleanup();
});

describe('a chat platform registered through the list alone', () => {
  it('is created and started by the production composition, and says what it is', () => {
    expect(toy.adapter().started).toBe(true);
    expect(running.describe).toContain('toy (admin channel toy-admins, 1 admin(s))');
  });

  it('drives request → approve (by the toy’s own admin; others refused) → the member’s "up" notice with the ssh line', async () => {
    const adapter = toy.adapter();
    const submitted = await adapter.request('U1', { name: 'toy-vm', distro: 'debian-12', size: 'small', login: 'alice', sshKeys: TEST_SSH_KEY, reason: 'toy platform' });
    if (!submitted.ok) throw new Error(JSON.stringify(submitted.problems));
    const id = submitted.value.requestId;
    const card = await waitFor(() => adapter.cards.get(id), { what: 'the admin card on the toy platform' });
    expect(card.actions.map((a) => a.kind)).toContain('approve');
    expect(adapter.notices.find((n) => n.notice.kind === 'requested' && n.member.userId === 'U1')).toBeDefined();

    // A toy member, and a Slack admin's ID presented on the toy platform, are not toy admins.
    for (const who of ['U2', 'UADMIN1']) {
      const refused = await adapter.press(who, 'approve', id);
      expect(refused.ok).toBe(false);
      if (!refused.ok) expect(refused.problems[0]!.code).toBe('forbidden');
    }
    const approved = await adapter.press('TADMIN', 'approve', id);
    expect(approved.ok).toBe(true);

    const up = await waitFor(() => adapter.notices.find((n) => n.notice.kind === 'up' && n.notice.requestId === id), { what: 'the "up" notice', timeoutMs: 20_000 });
    expect(up.member).toMatchObject({ platform: 'toy', userId: 'U1' });
    if (up.notice.kind !== 'up') throw new Error('not an up notice');
    expect(up.notice.ipv4).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    expect(up.notice.ssh).toContain(`alice@${up.notice.ipv4}`);
    await waitFor(() => adapter.cards.get(id)?.state === 'running', { what: 'the card to show running' });
  });

  it('is checked by vmbot doctor’s component list, with its own lines', async () => {
    const components = await processComponents({ config, secrets, logger: silentLogger, platforms: [...PLATFORMS, toy.platform], chat: 'configured' });
    const check = components.find((c) => c.name === 'toy')?.check;
    expect(await check!(1000)).toEqual([{ status: 'ok', what: 'toy: admin channel', detail: 'toy-admins (1 admin(s))' }]);
    // The harness's Slack and Discord sections are configured too: listed for their checks although their tokens are missing.
    expect(components.map((c) => c.name)).toEqual(['nocloud server', 'core', 'slack', 'discord', 'toy', 'resume']);
  });
});
