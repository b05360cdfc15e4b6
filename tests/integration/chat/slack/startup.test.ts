// Start-up against the double: wrong or misplaced tokens fail fast with the variable's name.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSlackAdapter } from '../../../../src/chat/slack/index.js';
import { silentLogger } from '../../../../src/log.js';
import type { VmWorkflow } from '../../../../src/workflow/api.js';
import { SlackDouble } from '../../../support/slack-double.js';

// Start-up never calls the workflow; handlers are only registered.
const unusedWorkflow = {} as VmWorkflow;

describe('Slack adapter start-up', () => {
  let double: SlackDouble;
  beforeAll(async () => {
    double = await SlackDouble.start();
  });
  afterAll(async () => {
    await double.close();
  });

  const config = (mode: 'socket' | 'http') => ({ mode, apiUrl: double.apiUrl, listen: { host: '127.0.0.1', port: 0 }, adminChannel: 'CADMINS', admins: [] });
  const common = { workflow: unusedWorkflow, logger: silentLogger, clientOptions: { retryConfig: { retries: 0 } }, socketModeOptions: { autoReconnectEnabled: false } };

  it('connects in Socket Mode with both tokens, and stops cleanly', async () => {
    const adapter = createSlackAdapter({ ...common, config: config('socket'), botToken: double.botToken, appToken: double.appToken });
    await adapter.start();
    await double.socketConnected();
    expect(double.callsTo('auth.test').at(-1)!.response['ok']).toBe(true);
    await adapter.stop();
  });

  it('refuses tokens in the wrong variable by their prefix', () => {
    expect(() => createSlackAdapter({ ...common, config: config('socket'), botToken: double.appToken, appToken: double.appToken })).toThrow(/SLACK_BOT_TOKEN .*xoxb-/);
    expect(() => createSlackAdapter({ ...common, config: config('socket'), botToken: double.botToken, appToken: double.botToken })).toThrow(/SLACK_APP_TOKEN .*xapp-/);
    expect(() => createSlackAdapter({ ...common, config: config('socket'), botToken: double.botToken })).toThrow(/SLACK_APP_TOKEN/);
    expect(() => createSlackAdapter({ ...common, config: config('http'), botToken: double.botToken })).toThrow(/SLACK_SIGNING_SECRET/);
  });

  it('fails start() when Slack refuses the bot token, naming the variable', async () => {
    const adapter = createSlackAdapter({ ...common, config: config('http'), botToken: 'xoxb-revoked', signingSecret: 's' });
    await expect(adapter.start()).rejects.toThrow(/SLACK_BOT_TOKEN \(auth\.test: invalid_auth\)/);
  });

  it('fails start() when Slack refuses the app-level token', async () => {
    const adapter = createSlackAdapter({ ...common, config: config('socket'), botToken: double.botToken, appToken: 'xapp-1-revoked' });
    await expect(adapter.start()).rejects.toMatchObject({ data: { error: 'invalid_auth' } });
  });
});
