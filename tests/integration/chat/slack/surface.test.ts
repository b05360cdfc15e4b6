// The outbound half alone (cards and DMs) against the double, with Bolt's own WebClient.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { webApi } from '@slack/bolt';
import { createSlackSurface, type SlackSurface } from '../../../../src/chat/slack/surface.js';
import type { RequestCardView } from '../../../../src/workflow/views.js';
import { silentLogger } from '../../../../src/log.js';
import { SlackDouble } from '../../../support/slack-double.js';

const card = (version: number, stateLabel: string, over: Partial<RequestCardView> = {}): RequestCardView => ({
  requestId: 'req1',
  name: 'vm-a',
  requester: { platform: 'slack', userId: 'U1' },
  distroLabel: 'Debian 12',
  sizeLabel: 'small',
  login: 'alice',
  reason: 'r',
  state: 'provisioning',
  stateLabel,
  progress: [],
  actions: [],
  version,
  ...over,
});

describe('Slack surface', () => {
  let double: SlackDouble;
  let surface: SlackSurface;
  beforeAll(async () => {
    double = await SlackDouble.start();
    double.addUser('U1').addChannel('CADMINS', { members: ['U1'] });
    const client = new webApi.WebClient(double.botToken, { slackApiUrl: double.apiUrl, retryConfig: { retries: 0 } });
    surface = createSlackSurface({ client, adminChannel: 'CADMINS', logger: silentLogger });
  });
  afterAll(async () => {
    await double.close();
  });

  it('posts a card, returns channel:ts, and edits it in place', async () => {
    const ref = await surface.drawCard(card(1, 'Waiting'), undefined);
    const [channel, ts] = ref.split(':');
    expect(channel).toBe('CADMINS');
    const again = await surface.drawCard(card(2, 'Booting'), ref);
    expect(again).toBe(ref);
    expect(double.message('CADMINS', ts!)!.history).toHaveLength(2);
    expect(JSON.stringify(double.message('CADMINS', ts!)!.blocks)).toContain('Booting');
  });

  it('never lets an older view overwrite a newer one, even when draws race', async () => {
    const ref = await surface.drawCard(card(1, 'Waiting', { requestId: 'req2' }), undefined);
    await Promise.all([surface.drawCard(card(5, 'Running', { requestId: 'req2' }), ref), surface.drawCard(card(4, 'Booting', { requestId: 'req2' }), ref)]);
    const ts = ref.split(':')[1]!;
    expect(JSON.stringify(double.message('CADMINS', ts)!.blocks)).toContain('Running');
  });

  it('posts a new card when the old one was deleted', async () => {
    const ref = await surface.drawCard(card(1, 'Waiting', { requestId: 'req3' }), undefined);
    double.removeMessage('CADMINS', ref.split(':')[1]!);
    const fresh = await surface.drawCard(card(2, 'Booting', { requestId: 'req3' }), ref);
    expect(fresh).not.toBe(ref);
    expect(double.message('CADMINS', fresh.split(':')[1]!)).toBeDefined();
  });

  it('DMs a Slack member and refuses members of other platforms', async () => {
    await surface.notifyMember({ platform: 'slack', userId: 'U1' }, { kind: 'deleted', requestId: 'req1', name: 'vm-a' });
    expect(double.dmsTo('U1').at(-1)!.text).toContain('vm-a');
    expect(double.callsTo('conversations.open')).toHaveLength(1);
    await expect(surface.notifyMember({ platform: 'discord', userId: '1234' }, { kind: 'deleted', requestId: 'req1', name: 'vm-a' })).rejects.toThrow(/discord/);
  });

  it('surfaces Slack errors (an unknown admin channel) to the caller', async () => {
    const client = new webApi.WebClient(double.botToken, { slackApiUrl: double.apiUrl, retryConfig: { retries: 0 } });
    const lost = createSlackSurface({ client, adminChannel: 'CNOPE', logger: silentLogger });
    await expect(lost.drawCard(card(1, 'Waiting'), undefined)).rejects.toMatchObject({ data: { error: 'channel_not_found' } });
  });
});
