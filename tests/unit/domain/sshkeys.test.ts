import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_KEYS, parseSshKeys, safeComment } from '../../../src/domain/sshkeys.js';
import { makeTempDir } from '../../support/tmp.js';

const run = promisify(execFile);
const KEYS = join(import.meta.dirname, '../../fixtures/keys');
const key = (file: string): string => readFileSync(join(KEYS, file), 'utf8').trim();
const parts = (file: string): [string, string] => key(file).split(' ') as [string, string];

function expectOk(text: string): string[] {
  const result = parseSshKeys(text);
  if (!result.ok) throw new Error(`expected ok, got ${JSON.stringify(result.problems)}`);
  return result.value;
}

function expectProblems(text: string): Array<{ code: string; message: string; field?: string }> {
  const result = parseSshKeys(text);
  if (result.ok) throw new Error(`expected problems, got ${JSON.stringify(result.value)}`);
  for (const p of result.problems) expect(p.field).toBe('sshKeys');
  return result.problems;
}

describe('parseSshKeys: accepted keys', () => {
  it.each([
    ['ed25519.pub', 'ssh-ed25519'],
    ['ecdsa-256.pub', 'ecdsa-sha2-nistp256'],
    ['ecdsa-384.pub', 'ecdsa-sha2-nistp384'],
    ['ecdsa-521.pub', 'ecdsa-sha2-nistp521'],
    ['rsa-2048.pub', 'ssh-rsa'],
    ['rsa-4096.pub', 'ssh-rsa'],
    ['sk-ed25519.pub', 'sk-ssh-ed25519@openssh.com'],
    ['sk-ecdsa-256.pub', 'sk-ecdsa-sha2-nistp256@openssh.com'],
  ])('%s is accepted as %s and re-serialised unchanged', (file, keyType) => {
    const keys = expectOk(key(file));
    expect(keys).toEqual([key(file)]);
    expect(keys[0]!.startsWith(`${keyType} `)).toBe(true);
  });

  it('takes several keys one per line, skipping blank and # lines, CRLF and surrounding spaces', () => {
    const text = `# my keys\r\n  ${key('ed25519.pub')}  \r\n\r\n${key('rsa-2048.pub')}\n`;
    expect(expectOk(text)).toEqual([key('ed25519.pub'), key('rsa-2048.pub')]);
  });

  it('drops a key pasted twice', () => {
    expect(expectOk(`${key('ed25519.pub')}\n${key('ed25519.pub')} other comment`)).toEqual([key('ed25519.pub')]);
  });

  it('keeps a key without a comment as "type base64"', () => {
    const [t, b] = parts('ed25519.pub');
    expect(expectOk(`${t} ${b}`)).toEqual([`${t} ${b}`]);
  });

  it('reduces the comment to safe characters', () => {
    const [t, b] = parts('ed25519.pub');
    const keys = expectOk(`${t} ${b} alice@laptop "quoted" $(rm -rf /) \`x\` ; {{y}} \${z} é #tag`);
    expect(keys).toEqual([`${t} ${b} alice@laptop quoted rm -rf x y z tag`]);
    expect(safeComment('a\tb\u0000c\nd')).toBe('a bc d');
    expect(safeComment('x'.repeat(500)).length).toBe(100);
  });
});

describe('parseSshKeys: refused keys', () => {
  it('refuses RSA 1024 with its bit count', () => {
    const [p] = expectProblems(key('rsa-1024.pub'));
    expect(p!.code).toBe('invalid_ssh_key');
    expect(p!.message).toMatch(/1024 bits; at least 2048/);
  });

  it('refuses a key whose blob names another type than its line', () => {
    const [, edBlob] = parts('ed25519.pub');
    const [p] = expectProblems(`ssh-rsa ${edBlob} x`);
    expect(p!.code).toBe('invalid_ssh_key');
    expect(p!.message).toMatch(/says ssh-rsa but the key data is "ssh-ed25519"/);
  });

  it('refuses an ECDSA key whose curve does not match', () => {
    const [, b384] = parts('ecdsa-384.pub');
    expect(expectProblems(`ecdsa-sha2-nistp256 ${b384}`)[0]!.message).toMatch(/says ecdsa-sha2-nistp256 but the key data is "ecdsa-sha2-nistp384"/);
  });

  it('refuses truncated, padded-wrong and non-base64 data', () => {
    const [t, b] = parts('ed25519.pub');
    const truncated = Buffer.from(b, 'base64').subarray(0, 30).toString('base64');
    expect(expectProblems(`${t} ${truncated}`)[0]!.message).toMatch(/not 32 bytes|truncated/);
    expect(expectProblems(`${t} ${b.slice(0, -1)}`)[0]!.message).toMatch(/base64/);
    expect(expectProblems(`${t} not*base64`)[0]!.message).toMatch(/base64/);
    expect(expectProblems(`${t}`)[0]!.message).toMatch(/missing or not valid base64/);
    const trailing = Buffer.concat([Buffer.from(b, 'base64'), Buffer.from([0, 0, 0, 0])]).toString('base64');
    expect(expectProblems(`${t} ${trailing}`)[0]!.message).toMatch(/trailing bytes/);
  });

  it('refuses DSA, certificates, options before the key, and prose', () => {
    const [t, b] = parts('ed25519.pub');
    expect(expectProblems(`ssh-dss ${b}`)[0]!.message).toMatch(/"ssh-dss" keys are not accepted/);
    expect(expectProblems(`ssh-ed25519-cert-v01@openssh.com ${b}`)[0]!.message).toMatch(/not accepted/);
    expect(expectProblems(`command="/bin/sh" ${t} ${b}`)[0]!.message).toMatch(/remove anything before the key type/);
    expect(expectProblems('hello, here is my key')[0]!.message).toMatch(/\.pub/);
  });

  it('reports every bad line with its line number, at once', () => {
    const problems = expectProblems(`${key('ed25519.pub')}\nssh-foo AAAA\n${key('rsa-1024.pub')}`);
    expect(problems.map((p) => p.message.slice(0, 7))).toEqual(['Line 2:', 'Line 3:']);
  });

  it('refuses empty input and too many keys', () => {
    expect(expectProblems('  \n# only a comment\n')[0]!.message).toMatch(/at least one SSH public key/);
    const distinct = ['ed25519.pub', 'ecdsa-256.pub', 'ecdsa-384.pub', 'ecdsa-521.pub', 'rsa-2048.pub', 'rsa-4096.pub', 'sk-ed25519.pub', 'sk-ecdsa-256.pub'].map(key);
    const rsaBlob = Buffer.from(parts('rsa-2048.pub')[1], 'base64');
    // Flip bits inside the modulus (not its top byte) to make more valid-looking distinct RSA keys.
    for (let i = 0; distinct.length <= MAX_KEYS; i++) {
      const copy = Buffer.from(rsaBlob);
      copy[copy.length - 1 - i] = copy[copy.length - 1 - i]! ^ 0xff;
      distinct.push(`ssh-rsa ${copy.toString('base64')}`);
    }
    expect(expectProblems(distinct.join('\n'))[0]!.message).toMatch(new RegExp(`At most ${MAX_KEYS}`));
  });
});

describe('parseSshKeys: private keys', () => {
  let tmp: Awaited<ReturnType<typeof makeTempDir>>;
  beforeAll(async () => {
    tmp = await makeTempDir('sshkeys');
    await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'x', '-f', join(tmp.dir, 'openssh')]);
    await run('ssh-keygen', ['-q', '-t', 'rsa', '-b', '1024', '-m', 'PEM', '-N', '', '-C', 'x', '-f', join(tmp.dir, 'pem')]);
  });
  afterAll(() => tmp.cleanup());

  it.each(['openssh', 'pem'])('refuses a pasted %s private key and says to paste the .pub file', async (file) => {
    const text = await readFile(join(tmp.dir, file), 'utf8');
    expect(text).toMatch(/PRIVATE KEY/);
    const problems = expectProblems(text);
    expect(problems).toHaveLength(1);
    expect(problems[0]!.code).toBe('private_key_pasted');
    expect(problems[0]!.message).toMatch(/\.pub/);
    // The message never echoes the key material back.
    expect(problems[0]!.message).not.toContain(text.split('\n')[1]!.slice(0, 20));
  });

  it('refuses a private key pasted along with a public one', async () => {
    const text = `${key('ed25519.pub')}\n${await readFile(join(tmp.dir, 'openssh'), 'utf8')}`;
    expect(expectProblems(text)[0]!.code).toBe('private_key_pasted');
  });

  it('refuses a PuTTY private key file', () => {
    const ppk = 'PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: none\nComment: x\nPublic-Lines: 2\nAAAA\nPrivate-Lines: 1\nAAAA\n';
    expect(expectProblems(ppk)[0]!.code).toBe('private_key_pasted');
  });

  it('refuses an RFC 4716 public key with the conversion command', async () => {
    const { stdout } = await run('ssh-keygen', ['-e', '-f', join(tmp.dir, 'openssh.pub')]);
    expect(expectProblems(stdout)[0]!.message).toMatch(/ssh-keygen -i/);
  });
});
