import { describe, expect, it } from 'vitest';
import { sameMember } from '../../../src/workflow/authz.js';

describe('members', () => {
  it('tells members apart per platform', () => {
    expect(sameMember({ platform: 'slack', userId: 'U1' }, { platform: 'slack', userId: 'U1' })).toBe(true);
    expect(sameMember({ platform: 'slack', userId: 'U1' }, { platform: 'discord', userId: 'U1' })).toBe(false);
  });
});
