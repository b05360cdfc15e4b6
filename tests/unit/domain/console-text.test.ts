import { describe, expect, it } from 'vitest';
import { consoleTail, REDACTED, stripTerminalControls } from '../../../src/domain/console-text.js';

const TOKEN = 'q3v9T0kenZ8xw2Lm5Pa7Rb1Cd4Ef6Gh8';
const ESC = '\x1b';

describe('stripTerminalControls', () => {
  it('removes colours, cursor moves, OSC titles and stray controls, keeping text, tabs and line ends', () => {
    const text = `[${ESC}[0;32m  OK  ${ESC}[0m] Started ssh.service\r\n${ESC}]0;title\x07${ESC}[2K${ESC}[1Gcol1\tcol2\x07\x00\r\n${ESC}(Bplain\x9b31mred`;
    expect(stripTerminalControls(text)).toBe('[  OK  ] Started ssh.service\ncol1\tcol2\nplainred');
  });

  it('shows what a carriage return overwrote the way the screen does', () => {
    expect(stripTerminalControls('Progress 10%\rProgress 99%\r\nnext')).toBe('Progress 99%\nnext');
  });
});

describe('consoleTail', () => {
  const boot = [
    'SeaBIOS (version 1.16.2-debian-1.16.2-1)',
    `[${ESC}[0;32m  OK  ${ESC}[0m] Started systemd-networkd.service`,
    `[   14.93] cloud-init[655]: Cloud-init v. 22.4.2 finished at Wed, 25 Nov 2026 14:30:13 +0000. Datasource DataSourceNoCloudNet [seed=dmi,http://10.10.0.5:8080/nocloud/${TOKEN}/][dsmode=net].  Up 14.93 seconds`,
    '<14>Nov 25 14:30:13 cloud-init: 256 SHA256:tp+wcRA21UTX0sFTqWvx+wCFkQiUTRfIXtCps9TeT9k root@alice (ED25519)',
    'Debian GNU/Linux 12 alice ttyS0',
    '',
    'alice login: ',
  ].join('\r\n');

  it('keeps the last N lines, stripped, with the seed token redacted and host key fingerprints kept', () => {
    const lines = consoleTail(boot, { lines: 5, secrets: [TOKEN] });
    expect(lines).toEqual([
      '[  OK  ] Started systemd-networkd.service',
      `[   14.93] cloud-init[655]: Cloud-init v. 22.4.2 finished at Wed, 25 Nov 2026 14:30:13 +0000. Datasource DataSourceNoCloudNet [seed=dmi,http://10.10.0.5:8080/nocloud/${REDACTED}/][dsmode=net].  Up 14.93 seconds`,
      '<14>Nov 25 14:30:13 cloud-init: 256 SHA256:tp+wcRA21UTX0sFTqWvx+wCFkQiUTRfIXtCps9TeT9k root@alice (ED25519)',
      'Debian GNU/Linux 12 alice ttyS0',
      '',
      'alice login: ',
    ].slice(-5));
    expect(lines.join('\n')).not.toContain(TOKEN);
    expect(consoleTail(boot, { lines: 100 })).toHaveLength(7);
    expect(consoleTail(boot, { lines: 0 })).toEqual([]);
  });

  it('redacts the URL-encoded form and a token cut off at the end of the read', () => {
    const secret = 'tok/en+1';
    expect(consoleTail(`a ${encodeURIComponent(secret)} b`, { lines: 1, secrets: [secret] })).toEqual([`a ${REDACTED} b`]);
    const cut = `seed=dmi,http://10.10.0.5:8080/nocloud/${TOKEN.slice(0, 9)}`;
    expect(consoleTail(cut, { lines: 1, secrets: [TOKEN] })).toEqual([`seed=dmi,http://10.10.0.5:8080/nocloud/${REDACTED}`]);
    expect(consoleTail('nothing here', { lines: 1, secrets: [''] })).toEqual(['nothing here']);
  });

  it('drops the first line of a read that started mid-line (it may be the tail of a secret)', () => {
    const read = `${TOKEN.slice(20)}/][dsmode=net].\r\nnext line\r\n`;
    expect(consoleTail(read, { lines: 40, secrets: [TOKEN], startsMidLine: true })).toEqual(['next line']);
  });

  it('removes private key blocks, also one cut by either end of the text', () => {
    const key = ['-----BEGIN OPENSSH PRIVATE KEY-----', 'b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ', 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', '-----END OPENSSH PRIVATE KEY-----'];
    const text = ['before', ...key, 'after'].join('\r\n');
    expect(consoleTail(text, { lines: 40 })).toEqual(['before', '[private key removed]', 'after']);
    // The read began inside the block: its body and END line go, what follows stays.
    expect(consoleTail([...key.slice(1), 'after'].join('\n'), { lines: 40 })).toEqual(['[private key removed]', 'after']);
    // The block is still being printed: nothing after BEGIN is shown.
    expect(consoleTail(['before', ...key.slice(0, 2)].join('\n'), { lines: 40 })).toEqual(['before', '[private key removed]']);
    for (const kind of ['RSA PRIVATE KEY', 'EC PRIVATE KEY', 'PRIVATE KEY', 'ENCRYPTED PRIVATE KEY']) {
      expect(consoleTail(`x\n-----BEGIN ${kind}-----\nMIIE\n-----END ${kind}-----\ny`, { lines: 40 })).toEqual(['x', '[private key removed]', 'y']);
    }
  });

  it('drops lines that look like user-data, keeps public host keys', () => {
    const text = [
      '#cloud-config',
      'ssh_authorized_keys: [ssh-ed25519 AAAA alice]',
      '  passwd: $6$rounds=4096$salt$hash',
      'chpasswd: { expire: false }',
      '-----BEGIN SSH HOST KEY KEYS-----',
      'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMLFjGcGTWDVJFeeSsGfOXGsjo7kf1BF1uxrFajU01ml root@alice',
      '-----END SSH HOST KEY KEYS-----',
    ].join('\n');
    expect(consoleTail(text, { lines: 40 })).toEqual(text.split('\n').slice(4));
  });

  it('refuses a negative line count', () => {
    expect(() => consoleTail('x', { lines: -1 })).toThrow(RangeError);
  });
});
