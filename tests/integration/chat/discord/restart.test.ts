// A card's buttons work after vmbot restarts: the custom_id holds the request id and the
// state lives in SQLite, so a new adapter + core on the same database handle an old card.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buttonIds, messageText, startDiscordDouble, type DiscordDouble } from '../../../support/discord-double.js';
import { makeTempDir } from '../../../support/tmp.js';
import { startSimCluster, type SimCluster } from '../../../../src/nomad/sim/index.js';
import { ALICE, CAROL_ADMIN, GUILD, TOKEN } from './guild.js';
import { startWorld, type World } from './world.js';

describe('discord: a button pressed after a restart', () => {
  let double: DiscordDouble;
  let sim: SimCluster;
  let temp: { dir: string; cleanup(): Promise<void> };
  let worlds: World[] = [];

  beforeAll(async () => {
    double = await startDiscordDouble({ ...GUILD, token: TOKEN });
    sim = await startSimCluster({ bootDelayMs: 50, startDelayMs: 20, chunkDelayMs: 5 });
    temp = await makeTempDir('discord-restart');
  });
  afterAll(async () => {
    for (const w of worlds) await w.stop();
    await sim?.close();
    await double?.close();
    await temp?.cleanup();
  });

  it('approves from a card drawn by the previous process', async () => {
    const first = await startWorld({ double, harness: { dir: temp.dir, simCluster: sim } });
    worlds.push(first);
    const { requestId, where } = await first.request(ALICE, 'survivor');
    await first.stop();
    expect(double.identifies).toHaveLength(1);

    const second = await startWorld({ double, harness: { dir: temp.dir, simCluster: sim } });
    worlds.push(second);
    await double.waitFor(() => double.identifies.length === 2, { what: 'the new process on the gateway' });
    const press = double.pressButton(CAROL_ADMIN, where, `vm:approve:${requestId}`);
    expect((await press.response()).type).toBe(6);
    // An approval slower than the adapter's deferral window (1.5 s, a loaded machine) is
    // acknowledged before it is done: wait for the decision rather than read it at once.
    await second.h.waitFor(async () => (await second.h.core.store.requests.get(requestId))?.state !== 'pending' || undefined, { what: 'the approval decided' });

    // The new process edits the very same message (ref from the store), not a new card.
    const card = await double.waitFor(() => {
      const m = double.message(where.channelId, where.messageId)!;
      return messageText(m).includes('Approved by') && m;
    }, { what: 'the old card edited by the new process' });
    expect(buttonIds(card)).not.toContain(`vm:approve:${requestId}`);
    expect(double.messages(where.channelId).filter((m) => messageText(m).includes('VM survivor'))).toHaveLength(1);
  });
});
