// slack.listen: host:port like the other listen keys, loopback:3000 by default; the old
// slack.port is gone and named as an unknown key, not silently ignored.
import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../../src/config/load.js';

const BASE = { nomad: { adapter: 'sim' } };
const slack = (over: Record<string, unknown>) => parseConfig({ ...BASE, slack: { adminChannel: 'C1', mode: 'http', ...over } }, 'test.yaml').slack!;
function issues(over: Record<string, unknown>): string[] {
  try {
    slack(over);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).issues;
  }
  throw new Error('expected the configuration to be refused');
}

describe('slack.listen', () => {
  it('defaults to 127.0.0.1:3000 and takes host:port, IPv6 in brackets', () => {
    expect(slack({}).listen).toEqual({ host: '127.0.0.1', port: 3000 });
    expect(slack({ listen: '0.0.0.0:8443' }).listen).toEqual({ host: '0.0.0.0', port: 8443 });
    expect(slack({ listen: '[::1]:3001' }).listen).toEqual({ host: '::1', port: 3001 });
  });

  it('refuses a bare port, and slack.port by name', () => {
    expect(issues({ listen: '3000' })).toEqual(['slack.listen: "3000" is not host:port (e.g. 127.0.0.1:8080)']);
    expect(issues({ port: 3000 })).toEqual([expect.stringMatching(/^slack: unknown key\(s\) "port" .*allowed here: .*listen/)]);
  });
});
