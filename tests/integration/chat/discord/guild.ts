// The Discord guild the tests run in (tests/fixtures/discord/guild.json) and its well-known IDs.
import { readFileSync } from 'node:fs';
import type { DiscordDoubleOptions } from '../../../support/discord-double.js';

export const GUILD = JSON.parse(readFileSync(new URL('../../../fixtures/discord/guild.json', import.meta.url), 'utf8')) as Omit<DiscordDoubleOptions, 'token'>;
export const TOKEN = 'MTAwMDAwMDAwMDAwMDAwMDAx.double.token-not-a-secret';
export const ADMIN_CHANNEL = '100000000000000003';
export const FALLBACK_CHANNEL = '100000000000000005';
export const ADMIN_ROLE = '200000000000000010';
export const ALICE = '300000000000000011';
export const BOB_DMS_CLOSED = '300000000000000012';
export const EVE = '300000000000000013';
export const CAROL_ADMIN = '300000000000000021';
export const DAVE_ADMIN = '300000000000000022';
