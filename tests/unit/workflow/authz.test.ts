import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/load.js';
import { isAdmin, sameMember } from '../../../src/workflow/authz.js';

const config = parseConfig({
  nomad: { adapter: 'http' },
  slack: { adminChannel: 'C1', admins: ['UADMIN'], adminGroup: 'S0ADMINS' },
  discord: { applicationId: '100000000000000001', guildId: '100000000000000002', adminChannel: '100000000000000003', adminRoles: ['role-admin'], admins: ['200000000000000001'] },
  web: { admins: ['webadmin'] },
});

describe('isAdmin', () => {
  it('accepts listed users and the admin group of the actor’s own platform', () => {
    expect(isAdmin(config, { platform: 'slack', userId: 'UADMIN', groups: [] })).toBe(true);
    expect(isAdmin(config, { platform: 'slack', userId: 'U2', groups: ['S0ADMINS'] })).toBe(true);
    expect(isAdmin(config, { platform: 'discord', userId: '1', groups: ['role-admin'] })).toBe(true);
    expect(isAdmin(config, { platform: 'discord', userId: '200000000000000001', groups: [] })).toBe(true);
    expect(isAdmin(config, { platform: 'web', userId: 'webadmin', groups: [] })).toBe(true);
  });

  it('refuses members, and an admin id or group presented on another platform', () => {
    expect(isAdmin(config, { platform: 'slack', userId: 'U2', groups: ['role-admin'] })).toBe(false);
    expect(isAdmin(config, { platform: 'discord', userId: 'UADMIN', groups: ['S0ADMINS'] })).toBe(false);
    expect(isAdmin(config, { platform: 'web', userId: 'UADMIN', groups: [] })).toBe(false);
  });

  it('refuses everyone on a platform that is not configured', () => {
    const bare = parseConfig({ nomad: { adapter: 'http' } });
    expect(isAdmin(bare, { platform: 'slack', userId: 'UADMIN', groups: [] })).toBe(false);
    expect(isAdmin(bare, { platform: 'discord', userId: 'x', groups: ['role-admin'] })).toBe(false);
  });

  it('tells members apart per platform', () => {
    expect(sameMember({ platform: 'slack', userId: 'U1' }, { platform: 'slack', userId: 'U1' })).toBe(true);
    expect(sameMember({ platform: 'slack', userId: 'U1' }, { platform: 'discord', userId: 'U1' })).toBe(false);
  });
});
