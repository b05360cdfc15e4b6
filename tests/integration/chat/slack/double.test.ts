// The Slack double is strict: it rejects what Slack rejects. Driven with Bolt's own WebClient,
// so the wire format (form bodies with JSON-encoded blocks, Bearer tokens) is the real one.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { webApi } from '@slack/bolt';
import { SlackDouble } from '../../../support/slack-double.js';

describe('Slack double', () => {
  let double: SlackDouble;
  let clock = Date.now();
  let bot: webApi.WebClient;
  const opts = () => ({ slackApiUrl: double.apiUrl, retryConfig: { retries: 0 } });
  const section = (text: string) => ({ type: 'section', text: { type: 'mrkdwn', text } });

  beforeAll(async () => {
    double = await SlackDouble.start({ now: () => clock });
    double.addUser('U1').addChannel('C1', { members: ['U1'] }).addChannel('CQUIET', { botMember: false });
    bot = new webApi.WebClient(double.botToken, opts());
  });
  afterAll(async () => {
    await double.close();
  });

  it('checks tokens: missing, unknown, and of the wrong kind', async () => {
    await expect(new webApi.WebClient(undefined, opts()).auth.test()).rejects.toMatchObject({ data: { error: 'not_authed' } });
    await expect(new webApi.WebClient('xoxb-nope', opts()).auth.test()).rejects.toMatchObject({ data: { error: 'invalid_auth' } });
    await expect(new webApi.WebClient(double.appToken, opts()).chat.postMessage({ channel: 'C1', text: 'x' })).rejects.toMatchObject({ data: { error: 'not_allowed_token_type' } });
    await expect(bot.apps.connections.open({})).rejects.toMatchObject({ data: { error: 'not_allowed_token_type' } });
    expect(double.calls.every((c) => !JSON.stringify(c).includes(double.botToken))).toBe(true);
  });

  it('checks channels and membership', async () => {
    await expect(bot.chat.postMessage({ channel: 'CNOPE', text: 'x' })).rejects.toMatchObject({ data: { error: 'channel_not_found' } });
    await expect(bot.chat.postMessage({ channel: 'CQUIET', text: 'x' })).rejects.toMatchObject({ data: { error: 'not_in_channel' } });
    await expect(bot.chat.update({ channel: 'C1', ts: '1.000001', text: 'x' })).rejects.toMatchObject({ data: { error: 'message_not_found' } });
    await expect(bot.conversations.open({ users: 'UNOBODY' })).rejects.toMatchObject({ data: { error: 'user_not_found' } });
    await expect(bot.usergroups.users.list({ usergroup: 'SNOPE' })).rejects.toMatchObject({ data: { error: 'no_such_subteam' } });
  });

  it('enforces Block Kit limits', async () => {
    const tooMany = Array.from({ length: 51 }, () => ({ type: 'divider' }));
    const longText = [section('x'.repeat(3001))];
    const dupActions = [{ type: 'actions', elements: [{ type: 'button', action_id: 'a', text: { type: 'plain_text', text: 'A' } }, { type: 'button', action_id: 'a', text: { type: 'plain_text', text: 'B' } }] }];
    const longButton = [{ type: 'actions', elements: [{ type: 'button', action_id: 'a', text: { type: 'plain_text', text: 'B'.repeat(76) } }] }];
    const longActionId = [{ type: 'actions', elements: [{ type: 'button', action_id: 'a'.repeat(256), text: { type: 'plain_text', text: 'B' } }] }];
    const badElement = [{ type: 'actions', elements: [{ type: 'marquee', action_id: 'a' }] }];
    const dupBlocks = [{ ...section('a'), block_id: 'b' }, { ...section('b'), block_id: 'b' }];
    for (const blocks of [tooMany, longText, dupActions, longButton, longActionId, badElement, dupBlocks]) {
      await expect(bot.chat.postMessage({ channel: 'C1', text: 'x', blocks: blocks as never })).rejects.toMatchObject({ data: { error: 'invalid_blocks' } });
    }
    await expect(bot.chat.postMessage({ channel: 'C1', text: 'y'.repeat(40_001) })).rejects.toMatchObject({ data: { error: 'msg_too_long' } });
    await expect(bot.chat.postMessage({ channel: 'C1', text: 'ok', blocks: [section('fine')] as never })).resolves.toMatchObject({ ok: true });
  });

  it('accepts a JSON body with the token in the header, as Slack does', async () => {
    const res = await fetch(`${double.apiUrl}chat.postMessage`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${double.botToken}` }, body: JSON.stringify({ channel: 'C1', text: 'json' }) });
    expect(await res.json()).toMatchObject({ ok: true, channel: 'C1' });
  });

  it('lets a trigger_id open one view within 3 s, and no more', async () => {
    const trigger = double.issueTrigger('U1');
    const view = { type: 'modal', title: { type: 'plain_text', text: 'T' }, blocks: [] };
    clock += 3_001;
    await expect(bot.views.open({ trigger_id: trigger, view: view as never })).rejects.toMatchObject({ data: { error: 'expired_trigger_id' } });
    clock -= 3_001;
    await expect(bot.views.open({ trigger_id: 'made-up', view: view as never })).rejects.toMatchObject({ data: { error: 'invalid_trigger_id' } });
    await expect(bot.views.open({ trigger_id: trigger, view: { ...view, title: { type: 'plain_text', text: 'A title longer than 24 chars' } } as never })).rejects.toMatchObject({ data: { error: 'invalid_arguments' } });
    await expect(bot.views.open({ trigger_id: trigger, view: view as never })).resolves.toMatchObject({ ok: true });
    await expect(bot.views.open({ trigger_id: trigger, view: view as never })).rejects.toMatchObject({ data: { error: 'exchanged_trigger_id' } });
  });
});
