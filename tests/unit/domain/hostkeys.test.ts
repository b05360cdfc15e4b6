import { describe, expect, it } from 'vitest';
import { HostKeyScanner, knownHostsLines, parseHostKeys } from '../../../src/domain/hostkeys.js';

// Keys generated for this test (not taken from any real machine); fingerprints checked with `ssh-keygen -l`.
const ECDSA = 'AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBKf4BjZ3/TBpAxJdXFEmwoZvZxlifqEiwkVGDvO5RJandJvB4ZfZ4HBKkXFSmdB/H7oeHOLJw3Q6cw74I/6uPYk=';
const ECDSA_FP = 'SHA256:XnPcH2vGVnVoeGSI/ZxVzt8A3CdpNiU/7zdT6mGbHEk';
const ED25519 = 'AAAAC3NzaC1lZDI1NTE5AAAAIMLFjGcGTWDVJFeeSsGfOXGsjo7kf1BF1uxrFajU01ml';
const ED25519_FP = 'SHA256:tp+wcRA21UTX0sFTqWvx+wCFkQiUTRfIXtCps9TeT9k';

const HASHES = '#'.repeat(61);

/** The two blocks as cloud-init's write-ssh-key-fingerprints prints them, fingerprints through `logger -s`. */
function consoleWith(prefix: (i: number) => string, eol = '\r\n'): string {
  const fp = [HASHES, '-----BEGIN SSH HOST KEY FINGERPRINTS-----', `256 ${ECDSA_FP} root@alice-vm (ECDSA)`, `256 ${ED25519_FP} root@alice-vm (ED25519)`, '-----END SSH HOST KEY FINGERPRINTS-----', HASHES];
  const keys = ['-----BEGIN SSH HOST KEY KEYS-----', `ecdsa-sha2-nistp256 ${ECDSA} root@alice-vm`, `ssh-ed25519 ${ED25519} root@alice-vm`, '-----END SSH HOST KEY KEYS-----'];
  return [
    "[   14.200000] cloud-init[655]: Cloud-init v. 22.4.2 running 'modules:final' at Thu, 03 Dec 2026 10:00:00 +0000. Up 14.20 seconds.",
    ...fp.map((l, i) => prefix(i) + l),
    ...keys,
    '[   14.930000] cloud-init[655]: Cloud-init v. 22.4.2 finished at Thu, 03 Dec 2026 10:00:01 +0000. Datasource DataSourceNoCloudNet [seed=dmi,http://10.10.0.5:8080/nocloud/tok/][dsmode=net].  Up 14.93 seconds',
    'alice-vm login: ',
  ].join(eol);
}

const expected = {
  fingerprints: [
    { type: 'ECDSA', bits: 256, fingerprint: ECDSA_FP, comment: 'root@alice-vm' },
    { type: 'ED25519', bits: 256, fingerprint: ED25519_FP, comment: 'root@alice-vm' },
  ],
  publicKeys: [
    { type: 'ecdsa-sha2-nistp256', key: ECDSA, comment: 'root@alice-vm' },
    { type: 'ssh-ed25519', key: ED25519, comment: 'root@alice-vm' },
  ],
};

describe('parseHostKeys', () => {
  it.each([
    ['syslog prefix (logger -s)', () => '<14>Dec  3 10:00:00 cloud-init: '],
    ['syslog prefix whose seconds tick between lines', (i: number) => `<14>Dec  3 10:00:0${i} cloud-init: `],
    ['an older ec2: tag', () => 'ec2: '],
    ['journald on the console', (i: number) => `[   14.2${i}0000] cloud-init[655]: `],
    ['a ci-info style tag', () => 'ci-info: '],
    ['no prefix', () => ''],
  ])('reads both blocks behind %s', (_name, prefix) => {
    expect(parseHostKeys(consoleWith(prefix))).toEqual(expected);
  });

  it('reads LF-only consoles and ANSI colour around the markers', () => {
    const text = consoleWith(() => '<14>Dec  3 10:00:00 cloud-init: ', '\n').replace('-----BEGIN SSH HOST KEY KEYS-----', '\x1b[0m-----BEGIN SSH HOST KEY KEYS-----\x1b[0m');
    expect(parseHostKeys(text)).toEqual(expected);
  });

  it('gives the same answer whatever the reads split the text at', () => {
    const text = consoleWith(() => '<14>Dec  3 10:00:00 cloud-init: ');
    for (const size of [1, 2, 3, 7, 64, 333]) {
      const scanner = new HostKeyScanner();
      for (let at = 0; at < text.length; at += size) scanner.push(text.slice(at, at + size));
      scanner.end();
      expect(scanner.result, `reads of ${size}`).toEqual(expected);
    }
  });

  it('has nothing before a block is complete, and only the complete block when the other is cut', () => {
    const text = consoleWith(() => 'ec2: ');
    const cutInKeys = text.slice(0, text.indexOf(`ssh-ed25519 ${ED25519}`));
    expect(parseHostKeys(text.slice(0, text.indexOf('-----END SSH HOST KEY FINGERPRINTS-----')))).toBeUndefined();
    expect(parseHostKeys(cutInKeys)).toEqual({ fingerprints: expected.fingerprints, publicKeys: [] });
    expect(parseHostKeys('SeaBIOS\r\nalice-vm login: ')).toBeUndefined();
  });

  it('keeps the last blocks when the log holds two boots that printed keys', () => {
    const second = consoleWith(() => '')
      .replaceAll('root@alice-vm', 'root@alice-rebuilt')
      .replace(`ecdsa-sha2-nistp256 ${ECDSA} root@alice-rebuilt\r\n`, '')
      .replace(`256 ${ECDSA_FP} root@alice-rebuilt (ECDSA)\r\n`, '');
    const keys = parseHostKeys(consoleWith(() => '') + '\r\n' + second)!;
    expect(keys.publicKeys).toEqual([{ type: 'ssh-ed25519', key: ED25519, comment: 'root@alice-rebuilt' }]);
    expect(keys.fingerprints.map((f) => f.comment)).toEqual(['root@alice-rebuilt']);
  });

  it('drops a key line whose blob names another type (a garbled line is not a key)', () => {
    const text = consoleWith(() => '').replace(`ssh-ed25519 ${ED25519}`, `ssh-rsa ${ED25519}`);
    expect(parseHostKeys(text)!.publicKeys.map((k) => k.type)).toEqual(['ecdsa-sha2-nistp256']);
  });

  it('reads a key without a comment and ssh-keygen\'s "no comment"', () => {
    const text = consoleWith(() => '').replace(`ssh-ed25519 ${ED25519} root@alice-vm`, `ssh-ed25519 ${ED25519}`).replace(`${ED25519_FP} root@alice-vm`, `${ED25519_FP} no comment`);
    const keys = parseHostKeys(text)!;
    expect(keys.publicKeys[1]).toEqual({ type: 'ssh-ed25519', key: ED25519, comment: '' });
    expect(keys.fingerprints[1]).toEqual({ type: 'ED25519', bits: 256, fingerprint: ED25519_FP, comment: '' });
  });
});

describe('knownHostsLines', () => {
  it('writes one line per key for the address, without the guest\'s comment', () => {
    expect(knownHostsLines('10.0.0.5', expected.publicKeys)).toEqual([`10.0.0.5 ecdsa-sha2-nistp256 ${ECDSA}`, `10.0.0.5 ssh-ed25519 ${ED25519}`]);
  });

  it('brackets the host when the port is not 22, IPv6 included', () => {
    expect(knownHostsLines('2001:db8:10::42', expected.publicKeys.slice(1), 2222)).toEqual([`[2001:db8:10::42]:2222 ssh-ed25519 ${ED25519}`]);
  });

  it('refuses what is not an address (it would add hosts or options to known_hosts)', () => {
    for (const bad of ['10.0.0.5 evil', '10.0.0.5,*', 'host\nssh-rsa AAAA', '']) expect(() => knownHostsLines(bad, expected.publicKeys)).toThrow(RangeError);
    expect(() => knownHostsLines('10.0.0.5', expected.publicKeys, 0)).toThrow(RangeError);
  });
});
