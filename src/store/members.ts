// Members' saved profile (login name and SSH keys), per platform + user id, so the
// request form can be prefilled with what they used last time.
import type { Db, SqlValue } from './db.js';
import type { MemberStore } from './types.js';

interface MemberRecord {
  [column: string]: SqlValue;
  login: string;
  ssh_keys: string;
}

export function createMemberStore(db: Db, now: () => Date): MemberStore {
  return {
    getProfile: (member) =>
      db.read(async (sql) => {
        const row = await sql.get<MemberRecord>('SELECT login, ssh_keys FROM members WHERE platform = ? AND user_id = ?', [member.platform, member.userId]);
        return row && { login: row.login, sshKeys: JSON.parse(row.ssh_keys) as string[] };
      }),

    saveProfile: (member, profile) =>
      db.transaction(async (sql) => {
        await sql.run(
          `INSERT INTO members (platform, user_id, login, ssh_keys, updated_at) VALUES (?, ?, ?, ?, ?)
           ON CONFLICT (platform, user_id) DO UPDATE SET login = excluded.login, ssh_keys = excluded.ssh_keys, updated_at = excluded.updated_at`,
          [member.platform, member.userId, profile.login, JSON.stringify(profile.sshKeys), now().toISOString()],
        );
      }),
  };
}
