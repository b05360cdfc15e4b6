// The app manifest asks for exactly the bot scopes the adapter's Web API calls need.
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';

const manifest = parse(readFileSync(new URL('../../../../slack/manifest.yaml', import.meta.url), 'utf8')) as {
  features: { slash_commands: Array<{ command: string }> };
  oauth_config: { scopes: { bot: string[]; user?: string[] } };
  settings: { interactivity: { is_enabled: boolean }; socket_mode_enabled: boolean };
};

describe('slack/manifest.yaml', () => {
  it('declares /vm, interactivity and Socket Mode', () => {
    expect(manifest.features.slash_commands.map((c) => c.command)).toEqual(['/vm']);
    expect(manifest.settings.interactivity.is_enabled).toBe(true);
    expect(manifest.settings.socket_mode_enabled).toBe(true);
  });

  it('asks for the bot scopes vmbot uses and nothing more (no user scopes)', () => {
    // commands: /vm; chat:write: postMessage/update/postEphemeral; im:write: conversations.open; usergroups:read: usergroups.users.list
    expect([...manifest.oauth_config.scopes.bot].sort()).toEqual(['chat:write', 'commands', 'im:write', 'usergroups:read']);
    expect(manifest.oauth_config.scopes.user).toBeUndefined();
  });
});
