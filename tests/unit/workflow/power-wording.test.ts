// What members are told about power actions (src/workflow/notices.ts): the up notice after a
// start, a rebuild or a move says the host keys changed and how to drop the old one; a first
// boot says nothing of the kind; the moved notice says what happened to the disk.
import { describe, expect, it } from 'vitest';
import { ACTION_WORDING, helpLines, noticeWording, plainText } from '../../../src/workflow/notices.js';
import type { MemberNotice } from '../../../src/workflow/views.js';

const up = (over: Partial<Extract<MemberNotice, { kind: 'up' }>> = {}): MemberNotice => ({ kind: 'up', requestId: 'r1', name: 'web', ipv4: '10.10.0.7', ssh: 'ssh alice@10.10.0.7', ...over });

describe('power wording', () => {
  it('the up notice says why the host keys changed, with the ssh-keygen -R line for the address', () => {
    const words = (after?: 'start' | 'rebuild' | 'moved') => plainText(noticeWording(up(after ? { after } : {})));
    expect(words()).not.toContain('host key changed');
    expect(words('rebuild')).toContain('its SSH host keys changed because of the rebuild');
    expect(words('start')).toContain('started again on a fresh disk');
    expect(words('moved')).toContain('restarted on another node');
    for (const after of ['start', 'rebuild', 'moved'] as const) expect(words(after)).toContain('ssh-keygen -R 10.10.0.7');
    // IPv6 only: the first IPv6 address.
    expect(plainText(noticeWording({ kind: 'up', requestId: 'r1', name: 'web', ipv6: ['fd00::7'], ssh: 'ssh alice@fd00::7', after: 'rebuild' }))).toContain('ssh-keygen -R fd00::7');
  });

  it('the moved notice says the node changed and the disk is fresh', () => {
    const words = plainText(noticeWording({ kind: 'moved', requestId: 'r1', name: 'web' }));
    expect(words).toContain('on another node');
    expect(words).toContain('what was on its disk is lost');
  });

  it('rebuild asks for a confirmation that says the disk is lost; the help lists the four commands', () => {
    expect(plainText(ACTION_WORDING.rebuild.confirm!.question('web'))).toContain('everything on its disk is lost');
    expect(helpLines().map((l) => l.usage)).toEqual(expect.arrayContaining(['/vm stop NAME', '/vm start NAME', '/vm reboot NAME', '/vm rebuild NAME']));
  });
});
