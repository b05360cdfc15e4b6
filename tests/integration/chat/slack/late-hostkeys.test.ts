// Host keys that come late, through Slack (HTTP mode, the double, the simulated cluster held
// in cloud-init's final stage): the up DM goes without the keys, then ONE follow-up DM,
// "Host keys of NAME", carries the fingerprints and known_hosts lines formatted as the up
// DM's host-key part is (inline code per fingerprint and per line).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConfigInput } from '../../../../src/config/schema.js';
import type { Workflow } from '../../../../src/workflow/workflow.js';
import { ADMIN1, MEMBER, buttonsOf, cardText, startSlackWorld, type SlackWorld } from './world.js';

// hostKeyWait also bounds how long fingerprints wait for the keys block after them: ample here.
const LATE_KEYS = { nomad: { hostKeyWait: 500, hostKeysTimeout: 60_000 } } as Partial<ConfigInput>;

describe('Slack: host keys printed after the up DM', () => {
  let w: SlackWorld;
  beforeAll(async () => {
    w = await startSlackWorld({ mode: 'http', harness: { config: LATE_KEYS } });
  });
  afterAll(async () => {
    await w.close();
  });

  it('the up DM says they are not there yet; the follow-up DM carries exactly the printed fingerprints and known_hosts lines', async () => {
    w.h.sim.control.holdFinalStage('uservm-late-1');
    await w.request(MEMBER, { name: 'late-1' });
    const pending = await w.card('late-1', (m) => buttonsOf(m).includes('vm:approve'));
    await w.double.pressButton({ user: ADMIN1, message: pending, actionId: 'vm:approve' });
    await w.reach('late-1', 'running');
    const up = await w.double.waitFor(() => w.double.dmsTo(MEMBER).find((m) => m.text.includes('late-1') && m.text.includes('Log in with')), 8_000, 'the "up" DM');
    expect(up.text).toContain('SSH host keys were not on the console yet');
    expect(up.text).not.toContain('SHA256:');

    w.h.sim.control.releaseFinalStage('uservm-late-1');
    const followUp = await w.double.waitFor(() => w.double.dmsTo(MEMBER).find((m) => m.text.includes('Host keys of')), 8_000, 'the host keys DM');
    const req = (await w.h.core.store.requests.get(await w.requestId('late-1')))!;
    const printed = w.h.sim.control.hostKeysOf(req.allocId!)!;
    expect(printed).toHaveLength(3);
    const address = req.address!.ipv4!;
    expect(followUp.text).toMatch(/^Host keys of \*late-1\*/);
    for (const key of printed) {
      expect(followUp.text).toContain(`\`${key.label} ${key.fingerprint}\``);
      expect(followUp.text).toContain(`\`${address} ${key.type} ${key.blob}\``);
    }
    expect(followUp.text).toContain('~/.ssh/known_hosts');
    expect(cardText(followUp)).toContain(printed[0]!.fingerprint);
    expect(req.hostKeys?.map((k) => k.fingerprint)).toEqual(printed.map((k) => k.fingerprint));

    // One follow-up only: the watch is over once it was sent.
    const id = await w.requestId('late-1');
    await w.h.waitFor(() => !(w.h.core.workflow as Workflow).lifecycle.watcher.isWatching(id), { what: 'the watch to end' });
    expect(w.double.dmsTo(MEMBER).filter((m) => m.text.includes('Host keys of'))).toHaveLength(1);
  });
});
