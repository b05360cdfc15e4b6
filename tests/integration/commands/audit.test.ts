import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { registerAuditCommand } from '../../../src/commands/audit.js';
import type { MemberRef } from '../../../src/domain/request.js';
import { makeCliHarness, type CliHarness } from './helpers-store.js';

const alice: MemberRef = { platform: 'slack', userId: 'U0ALICE', displayName: 'Alice' };
const admin: MemberRef = { platform: 'discord', userId: '4242' };
let h: CliHarness;
beforeEach(async () => {
  h = await makeCliHarness(registerAuditCommand);
});
afterEach(() => h.cleanup());

async function seed(): Promise<string[]> {
  const s = await h.openStore();
  const r = await s.requests.create({ name: 'web', distro: 'debian-12', size: 'small', login: 'alice', sshKeys: [], reason: 'x', requester: alice }, { actor: alice, action: 'request', detail: 'for my thesis\nline two' });
  await s.requests.transition(r.id, 'pending', 'denied', {}, { actor: admin, action: 'deny', detail: 'no budget' });
  const r2 = await s.requests.create({ name: 'db', distro: 'debian-12', size: 'small', login: 'alice', sshKeys: [], reason: 'x', requester: alice }, { actor: alice, action: 'request' });
  await s.close();
  return [r.id, r2.id];
}

describe('vmbot audit', () => {
  it('prints who, what, when and why as a table, newest last, with member text made terminal-safe', async () => {
    vi.useFakeTimers({ now: new Date('2026-03-04T05:06:07.000Z'), toFake: ['Date'] });
    let ids: string[];
    try {
      ids = await seed();
    } finally {
      vi.useRealTimers();
    }
    const { out, exitCode } = await h.run(['audit']);
    expect(exitCode).toBe(0);
    expect(out).toBe(
      [
        'WHEN                      WHO                    WHAT     VM   REQUEST     WHY',
        `2026-03-04T05:06:07.000Z  slack:U0ALICE (Alice)  request  web  ${ids[0]}  for my thesis\\nline two`,
        `2026-03-04T05:06:07.000Z  discord:4242           deny     web  ${ids[0]}  no budget`,
        `2026-03-04T05:06:07.000Z  slack:U0ALICE (Alice)  request  db   ${ids[1]}`,
        '',
      ].join('\n'),
    );
  });

  it('filters by VM, limits to the newest rows, and prints JSON lines with --json', async () => {
    const [web] = await seed();
    const byVm = await h.run(['audit', '--vm', 'web', '--json']);
    const rows = byVm.out.trim().split('\n').map((l) => JSON.parse(l) as { action: string; requestId: string; actor: MemberRef; detail: string });
    expect(rows.map((r) => r.action)).toEqual(['request', 'deny']);
    expect(rows[0]).toMatchObject({ requestId: web, actor: alice, detail: 'for my thesis\nline two' });
    const last = await h.run(['audit', '--limit', '1', '--json']);
    expect(last.out.trim().split('\n').map((l) => (JSON.parse(l) as { vmName: string }).vmName)).toEqual(['db']);
    expect((await h.run(['audit', '--vm', 'nope'])).out).toBe('No audit entries match.\n');
    expect((await h.run(['audit', '--vm', 'nope', '--json'])).out).toBe('');
  });

  it('refuses a bad --limit', async () => {
    const r = await h.run(['audit', '--limit', 'ten']);
    expect(r.exitCode).not.toBe(0);
    expect(r.err).toMatch(/--limit.*whole number/);
  });

  it('says where it looked when there is no database yet, without creating one', async () => {
    const r = await h.run(['audit']);
    expect(r.exitCode).toBe(1);
    expect(r.err).toContain(`no database at ${h.dbPath}`);
    expect(r.err).toContain('database.path');
    await expect(import('node:fs/promises').then((fs) => fs.access(h.dbPath))).rejects.toThrow();
  });
});
