import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.js';

function capture() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      done();
    },
  });
  return { lines, logger: createLogger({ level: 'info', pretty: false, destination }) };
}

const SECRETS = ['xoxb-111-secret-bot', 'xapp-1-secret-app', 'signing-secret-value', 'discord.secret.token', 'nomad-acl-secret', '-----BEGIN OPENSSH PRIVATE KEY-----', 'hunter2'];

describe('logs never carry secrets', () => {
  it('redacts token-like keys at the top level and one level down', () => {
    const { lines, logger } = capture();
    logger.info({
      token: SECRETS[3],
      botToken: SECRETS[0],
      appToken: SECRETS[1],
      signingSecret: SECRETS[2],
      password: SECRETS[6],
      privateKey: SECRETS[5],
      slack: { token: SECRETS[0], secret: SECRETS[2] },
      headers: { authorization: `Bearer ${SECRETS[4]}`, 'x-nomad-token': SECRETS[4] },
      vm: 'web1',
    }, 'starting');
    const out = lines.join('\n');
    for (const s of SECRETS) expect(out).not.toContain(s);
    const entry = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(entry.vm).toBe('web1');
    expect(entry.token).toBe('[Redacted]');
    expect(entry.headers).toEqual({ authorization: '[Redacted]', 'x-nomad-token': '[Redacted]' });
  });

  it('keeps child-logger bindings redacted too', () => {
    const { lines, logger } = capture();
    logger.child({ platform: 'discord' }).warn({ token: SECRETS[3] }, 'reconnecting');
    expect(lines.join('\n')).not.toContain(SECRETS[3]);
    expect(JSON.parse(lines[0]!)).toMatchObject({ platform: 'discord', token: '[Redacted]' });
  });
});

describe('errors from HTTP clients', () => {
  it('redacts the Authorization header an HTTP client error carries in err.config', () => {
    const { lines, logger } = capture();
    const err = Object.assign(new Error('Request failed with status code 500'), {
      config: { url: 'https://slack.com/api/auth.test', headers: { Authorization: `Bearer ${SECRETS[0]}` } },
      request: { headers: { authorization: `Bot ${SECRETS[3]}`, cookie: 'vmbot_web_token=hunter2' } },
    });
    logger.error({ err }, 'slack call failed');
    const out = lines.join('\n');
    for (const s of SECRETS) expect(out).not.toContain(s);
    expect(out).toContain('Request failed with status code 500');
  });
});
