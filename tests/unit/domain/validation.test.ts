import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RequestInput } from '../../../src/domain/request.js';
import { MAX_REASON, validateLogin, validateReason, validateRequest, validateVmName, type Catalog } from '../../../src/domain/validation.js';

const ED25519 = readFileSync(join(import.meta.dirname, '../../fixtures/keys/ed25519.pub'), 'utf8').trim();

const catalog: Catalog = {
  distros: [{ name: 'debian-12' }, { name: 'ubuntu-24-04' }],
  sizes: [{ name: 'small' }, { name: 'large' }],
  jobPrefix: 'uservm-',
};

const good: RequestInput = { name: 'my-project', distro: 'debian-12', size: 'small', login: 'alice', sshKeys: ED25519, reason: 'Course project: a small web server.' };

describe('validateVmName', () => {
  it.each(['a', 'web1', 'my-project', '0day', 'a'.repeat(56)])('accepts %s', (name) => {
    expect(validateVmName(name, 'uservm-')).toBeNull();
  });

  it.each([
    ['', /Give your VM a name/],
    ['-web', /start and end with a letter or digit/],
    ['web-', /start and end/],
    ['web_1', /only lower-case letters/],
    ['web.1', /only lower-case letters/],
    ['web 1', /only lower-case letters/],
    ['wéb', /only lower-case letters/],
    ['MyVM', /Try "myvm"/],
    ['a'.repeat(57), /57 characters long; at most 56 fit/],
  ])('refuses %j', (name, message) => {
    const p = validateVmName(name, 'uservm-');
    expect(p).toMatchObject({ code: 'invalid_name', field: 'name' });
    expect(p!.message).toMatch(message);
  });

  it('lets the name use all 63 characters when there is no prefix', () => {
    expect(validateVmName('a'.repeat(63), '')).toBeNull();
    expect(validateVmName('a'.repeat(64), '')).not.toBeNull();
  });
});

describe('validateLogin', () => {
  it.each(['alice', 'bob_smith', 'c3po', 'a-b', '_x'.slice(1), 'a'.repeat(32)])('accepts %j', (login) => {
    expect(validateLogin(login)).toBeNull();
  });

  it.each([
    ['', /Choose a login name/],
    ['Alice', /Try "alice"/],
    ['1alice', /must start with a lower-case letter/],
    ['al ice', /must start/],
    ['alice$', /must start/],
    ['a'.repeat(33), /at most 32/],
    ['root', /system account/],
    ['www-data', /system account/],
    ['nobody', /system account/],
    ['systemd-network', /system account/],
    ['_apt', /system account/],
    ['sshd', /system account/],
    ['sudo', /system account/],
    ['debian', /system account/],
    ['ubuntu', /system account/],
    ['admin', /system account/],
    ['cloud-user', /system account/],
  ])('refuses %j', (login, message) => {
    const p = validateLogin(login);
    expect(p).toMatchObject({ code: 'invalid_login', field: 'login' });
    expect(p!.message).toMatch(message);
  });

  // Issue 11: every system user or group of common cloud images is refused, by one clear message.
  it.each([
    'root', 'daemon', 'bin', 'sys', 'sync', 'games', 'man', 'lp', 'mail', 'news', 'uucp', 'proxy', 'www-data', 'backup',
    'list', 'irc', 'gnats', 'nobody', 'nogroup', '_apt', 'adm', 'sudo', 'wheel', 'staff', 'users', 'ssl-cert', 'rdma',
    'libvirt', 'kvm', 'lxd', 'docker', 'ftp', 'halt', 'shutdown', 'operator', 'messagebus', 'polkitd', 'syslog', 'tss',
    'uuidd', 'tcpdump', 'sshd', 'systemd-network', 'systemd-timesync', 'systemd-resolve', 'debian', 'ubuntu', 'admin',
    'cloud-user', 'ec2-user', 'centos', 'fedora', 'rocky', 'almalinux', 'alpine', 'arch',
  ])('refuses the system name %j with a message that says so', (login) => {
    expect(validateLogin(login)).toEqual({
      code: 'invalid_login',
      field: 'login',
      message: `"${login}" is a system account or group on common cloud images; pick another name, e.g. your own.`,
    });
  });

  it('does not suggest a reserved name when the login is only upper-cased ("Root")', () => {
    const p = validateLogin('Root');
    expect(p).toMatchObject({ code: 'invalid_login', field: 'login' });
    expect(p!.message).not.toMatch(/Try/);
    expect(validateLogin('root')!.message).toMatch(/system account or group/);
  });

  it('accepts ordinary names that merely start like a system one', () => {
    for (const login of ['rooter', 'binh', 'sysadmin-jo', 'mailer1', 'adminton', 'dockerfan', 'systemd']) expect(validateLogin(login)).toBeNull();
  });

  it('refuses a system name in a whole request, after trimming', () => {
    const result = validateRequest({ ...good, login: ' sudo\n' }, catalog);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.problems).toContainEqual(expect.objectContaining({ field: 'login', message: expect.stringContaining('"sudo" is a system account or group on common cloud images; pick another name') }));
  });
});

describe('validateReason', () => {
  it('keeps newlines, normalises CRLF and trims', () => {
    expect(validateReason('  line one\r\nline two  ')).toEqual({ ok: true, value: 'line one\nline two' });
  });

  it('counts characters, not UTF-16 units', () => {
    expect(validateReason('😀'.repeat(MAX_REASON)).ok).toBe(true);
    expect(validateReason('😀'.repeat(MAX_REASON + 1)).ok).toBe(false);
  });

  it.each([
    ['', /Say briefly/],
    ['   \n ', /Say briefly/],
    ['x'.repeat(MAX_REASON + 1), /501 characters long; keep it to 500/],
    ['tab\there', /control characters/],
    ['esc\u001b[31m', /control characters/],
    ['nul\u0000', /control characters/],
    ['c1\u0085', /control characters/],
    ['bidi\u202e', /control characters/],
  ])('refuses %j', (reason, message) => {
    const result = validateReason(reason);
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.problems[0]).toMatchObject({ code: 'invalid_reason', field: 'reason' });
      expect(result.problems[0]!.message).toMatch(message);
    }
  });
});

describe('validateRequest', () => {
  it('returns the normalised request', () => {
    const result = validateRequest({ ...good, name: ' my-project ', login: 'alice\n', sshKeys: `\n${ED25519}\n` }, catalog);
    expect(result).toEqual({ ok: true, value: { name: 'my-project', distro: 'debian-12', size: 'small', login: 'alice', sshKeys: [ED25519], reason: good.reason } });
  });

  it('reports every problem at once, each with its code and field', () => {
    const result = validateRequest({ name: 'Bad Name', distro: 'windows', size: 'huge', login: 'root', sshKeys: 'ssh-dss AAAA', reason: '' }, catalog);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problems.map((p) => [p.field, p.code])).toEqual([
      ['name', 'invalid_name'],
      ['distro', 'unknown_distro'],
      ['size', 'unknown_size'],
      ['login', 'invalid_login'],
      ['sshKeys', 'invalid_ssh_key'],
      ['reason', 'invalid_reason'],
    ]);
    const distro = result.problems.find((p) => p.field === 'distro')!;
    expect(distro.message).toBe('"windows" is not an available distro; choose one of: debian-12, ubuntu-24-04.');
    expect(result.problems.find((p) => p.field === 'size')!.message).toMatch(/choose one of: small, large/);
  });

  it('reports a pasted private key under sshKeys', () => {
    const result = validateRequest({ ...good, sshKeys: '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----\n' }, catalog);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.problems).toEqual([expect.objectContaining({ code: 'private_key_pasted', field: 'sshKeys' })]);
  });

  it('checks the name length against the configured job prefix', () => {
    const long = 'a'.repeat(60);
    expect(validateRequest({ ...good, name: long }, { ...catalog, jobPrefix: '' }).ok).toBe(true);
    expect(validateRequest({ ...good, name: long }, { ...catalog, jobPrefix: 'vm-' }).ok).toBe(true);
    expect(validateRequest({ ...good, name: long }, { ...catalog, jobPrefix: 'uservm-' }).ok).toBe(false);
  });
});
