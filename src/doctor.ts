// `vmbot doctor`: checks everything vmbot needs before it is trusted with members' requests,
// one line per check (✓/✗, what, and what to fix). Checks only read, except the two that must
// write to prove they can: one audit row in the database, one test file published and removed.
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { REST, Routes, DiscordAPIError } from 'discord.js';
import { webApi } from '@slack/bolt';
import { ConfigError, loadConfig } from './config/load.js';
import type { Config } from './config/schema.js';
import { SecretError, readSecrets, type Secrets } from './config/secrets.js';
import { silentLogger, type Logger } from './log.js';
import { planPlatforms } from './config/platforms.js';
import { checkNomad } from './nomad/check.js';
import { openStore } from './store/index.js';
import { createPublisher, newSeedToken, nocloudServerComponent } from './cloudinit/index.js';
import type { Component } from './components.js';
import { createBuiltinPublisher } from './cloudinit/builtin.js';
import type { Publisher } from './cloudinit/port.js';

export type CheckStatus = 'ok' | 'fail' | 'skip';

export interface CheckResult {
  status: CheckStatus;
  /** What was checked, e.g. "database", "slack: admin channel". */
  what: string;
  /** What was found. */
  detail: string;
  /** What to do about a failure. */
  fix?: string;
}

export interface DoctorOptions {
  configPath: string;
  /** The path was given explicitly (a missing file is then an error). */
  mustExist: boolean;
  env?: NodeJS.ProcessEnv;
  logger?: Logger;
  /** Per network call (default 10 s). */
  timeoutMs?: number;
}

/** Slack scopes vmbot's calls need (chat.postMessage/update/postEphemeral, conversations.open, slash commands). */
export const SLACK_SCOPES = ['commands', 'chat:write', 'im:write'] as const;

const ok = (what: string, detail: string): CheckResult => ({ status: 'ok', what, detail });
const fail = (what: string, detail: string, fix: string): CheckResult => ({ status: 'fail', what, detail, fix });
const skip = (what: string, detail: string): CheckResult => ({ status: 'skip', what, detail });

export async function runDoctor(opts: DoctorOptions): Promise<CheckResult[]> {
  const logger = opts.logger ?? silentLogger;
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const results: CheckResult[] = [];

  let config: Config;
  try {
    const loaded = await loadConfig(opts.configPath, { mustExist: opts.mustExist });
    config = loaded.config;
    results.push(ok('config', loaded.found ? `${loaded.path} is valid` : `no ${loaded.path}: using the defaults`));
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    results.push(fail('config', err.issues.join('; '), `fix ${err.source} (every problem above names its key); vmbot.config.schema.json gives editors completion`));
    return results; // everything else depends on the configuration
  }

  let secrets: Secrets = {};
  try {
    secrets = readSecrets(opts.env ?? process.env);
    results.push(...checkSecrets(config, secrets));
  } catch (err) {
    if (!(err instanceof SecretError)) throw err;
    results.push(fail('secrets', err.message, `fix ${err.variable} in the environment (or the file it names)`));
  }

  results.push(await checkDatabase(config));
  results.push(...(await checkNomadAdapter(config, secrets, timeoutMs)));
  results.push(await checkPublishing(config, logger, timeoutMs));
  if (config.slack) results.push(...(await checkSlack(config.slack, secrets.SLACK_BOT_TOKEN, timeoutMs)));
  if (config.discord) results.push(...(await checkDiscord(config.discord, secrets.DISCORD_TOKEN, timeoutMs)));
  return results;
}

/** One line per result: `✓ what: detail`, `✗ what: detail → fix`, `- what: detail` (not checked). */
export function formatResults(results: readonly CheckResult[]): string {
  const mark = { ok: '✓', fail: '✗', skip: '-' } as const;
  return results.map((r) => `${mark[r.status]} ${r.what}: ${r.detail}${r.fix ? ` → ${r.fix}` : ''}`).join('\n');
}

export function checkSecrets(config: Config, secrets: Secrets): CheckResult[] {
  const plan = planPlatforms(config, secrets);
  const out: CheckResult[] = [];
  if (!config.slack && !config.discord) out.push(ok('chat platforms', 'none configured: `vmbot serve` runs local mode (web console + simulated cluster)'));
  if (config.slack) {
    out.push(plan.slack.ready ? ok('slack: secrets', `set for ${config.slack.mode} mode`) : fail('slack: secrets', `missing ${plan.slack.missing.join(', ')}`, 'set them in the environment or through *_FILE (the file holds the value)'));
  }
  if (config.discord) {
    out.push(plan.discord.ready ? ok('discord: secrets', 'DISCORD_TOKEN set') : fail('discord: secrets', `missing ${plan.discord.missing.join(', ')}`, 'set DISCORD_TOKEN or DISCORD_TOKEN_FILE'));
  }
  if (config.web.enabled) {
    out.push(secrets.VMBOT_WEB_TOKEN ? ok('web console: token', 'VMBOT_WEB_TOKEN set') : fail('web console: token', 'web.enabled is true but VMBOT_WEB_TOKEN is not set', 'set VMBOT_WEB_TOKEN (e.g. `openssl rand -hex 32`), or set web.enabled: false'));
  }
  return out;
}

export async function checkDatabase(config: Config): Promise<CheckResult> {
  const path = config.database.path;
  const existed = existsSync(path);
  try {
    const store = await openStore({ path, pool: config.macPool });
    try {
      const marker = `doctor ${randomBytes(6).toString('hex')}`;
      await store.audit.append({ actor: { platform: 'cli', userId: 'doctor' }, action: 'doctor', detail: marker });
      const rows = await store.audit.list({ limit: 20 });
      if (!rows.some((r) => r.detail === marker)) return fail('database', `${path}: a row written was not read back`, 'check that no other program rewrites the file, and the disk is healthy');
      const usage = await store.macs.usage();
      return ok('database', `${path} ${existed ? 'opened' : 'created'}, migrations applied, write+read ok; MAC pool ${usage.free} free of ${usage.total}`);
    } finally {
      await store.close();
    }
  } catch (err) {
    return fail('database', `${path}: ${(err as Error).message}`, 'check database.path and that its folder is writable by the user vmbot runs as');
  }
}

/** Reuses the Nomad adapter's own check (src/nomad/check.ts, also `vmbot nomad check`): one line per step. */
export async function checkNomadAdapter(config: Config, secrets: Secrets, timeoutMs = 10_000): Promise<CheckResult[]> {
  const what = `nomad (${config.nomad.adapter})`;
  if (config.nomad.adapter === 'sim') return [ok(what, 'simulated cluster (local mode): nothing to reach')];
  try {
    // One line per step (dns, tcp, tls/ssh, auth, …); steps after a failure are not run.
    const steps = await checkNomad(config, secrets, { timeoutMs });
    return steps.map((step) => (step.ok ? ok(`${what}: ${step.name}`, step.detail) : fail(`${what}: ${step.name}`, step.detail, step.fix ?? 'check nomad.* in the config and NOMAD_TOKEN')));
  } catch (err) {
    return [fail(what, (err as Error).message, 'check nomad.* in the config and NOMAD_TOKEN')];
  }
}

/** Publishes a test file through the configured publisher and fetches it back from the public URL. */
export async function checkPublishing(config: Config, logger: Logger, timeoutMs: number): Promise<CheckResult> {
  const what = `cloud-init publishing (${config.cloudInit.publish})`;
  const publicUrl = config.cloudInit.publish === 'builtin' ? config.cloudInit.builtin.publicUrl : config.cloudInit.sftp?.publicUrl;
  const target = { requestId: 'doctor', vmName: 'vmbot-doctor', seedToken: newSeedToken() };
  const metaData = `instance-id: vmbot-doctor-${target.seedToken}\nlocal-hostname: vmbot-doctor\n`;
  let publisher: Publisher;
  let servedBy = 'this check';
  let server: Component | undefined;
  try {
    publisher = await createPublisher(config, logger);
  } catch (err) {
    return fail(what, (err as Error).message, 'check cloudInit.* in the config');
  }
  if (config.cloudInit.publish === 'builtin') {
    const { listen, dir, publicUrl: builtinUrl } = config.cloudInit.builtin;
    const candidate = nocloudServerComponent({ dir, host: listen.host, port: listen.port, publicUrl: builtinUrl, logger });
    try {
      await candidate.start();
      server = candidate;
    } catch (err) {
      // `vmbot serve` holds the NoCloud port: publish into its folder and fetch through it.
      if (((err as Error).cause as NodeJS.ErrnoException | undefined)?.code !== 'EADDRINUSE') return fail(what, (err as Error).message, 'check cloudInit.builtin.listen');
      servedBy = 'the running vmbot';
    }
  }
  try {
    await publisher.publish(target, { metaData, userData: '#cloud-config\n' });
    const url = `${publisher.seedUrl(target)}meta-data`;
    let res: Response;
    try {
      res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    } catch (err) {
      const hint = config.cloudInit.publish === 'builtin' ? 'is `vmbot serve` running (it serves the files), and does cloudInit.builtin.publicUrl reach it?' : 'does cloudInit.sftp.publicUrl point at the web server that publishes cloudInit.sftp.dir?';
      return fail(what, `published, but ${url} cannot be fetched: ${(err as Error).cause instanceof Error ? ((err as Error).cause as Error).message : (err as Error).message}`, hint);
    }
    const body = await res.text();
    if (res.status !== 200 || body !== metaData) {
      return fail(what, `published, but ${url} answered ${res.status}${res.status === 200 ? ' with other content' : ''}`, `make ${publicUrl ?? 'the public URL'} serve the published folder`);
    }
    return ok(what, `a test file was published and fetched back from ${publicUrl} (served by ${servedBy})`);
  } catch (err) {
    return fail(what, `publishing a test file failed: ${(err as Error).message}`, 'check the folder/SFTP settings under cloudInit');
  } finally {
    await publisher.unpublish(target).catch(() => undefined);
    await publisher.close().catch(() => undefined);
    await server?.stop().catch(() => undefined);
  }
}

export async function checkSlack(slack: NonNullable<Config['slack']>, token: string | undefined, timeoutMs: number): Promise<CheckResult[]> {
  if (!token) return [skip('slack: API', 'not checked: SLACK_BOT_TOKEN is not set')];
  const client = new webApi.WebClient(token, { slackApiUrl: slack.apiUrl, retryConfig: { retries: 0 }, timeout: timeoutMs, logLevel: webApi.LogLevel.ERROR });
  const out: CheckResult[] = [];
  let botName = 'vmbot';
  try {
    const auth = await client.auth.test();
    botName = auth.user ?? botName;
    out.push(ok('slack: bot token', `authenticated as ${auth.user ?? auth.user_id ?? '?'} in ${auth.team ?? auth.team_id ?? '?'}`));
    // @slack/web-api reads the x-oauth-scopes response header into response_metadata.scopes.
    const scopes = auth.response_metadata?.scopes;
    const needed = [...SLACK_SCOPES, ...(slack.adminGroup ? ['usergroups:read'] : [])];
    if (scopes === undefined) out.push(skip('slack: scopes', 'Slack did not report the token\'s scopes'));
    else {
      const missing = needed.filter((s) => !scopes.includes(s));
      out.push(missing.length === 0 ? ok('slack: scopes', needed.join(', ')) : fail('slack: scopes', `missing ${missing.join(', ')}`, 'add them under OAuth & Permissions in the Slack app settings, then reinstall the app'));
    }
  } catch (err) {
    return [fail('slack: bot token', `auth.test failed: ${slackError(err)}`, 'check SLACK_BOT_TOKEN (a bot token, xoxb-…) and slack.apiUrl')];
  }
  if (slack.adminGroup) {
    try {
      const group = await client.usergroups.users.list({ usergroup: slack.adminGroup });
      const n = group.users?.length ?? 0;
      out.push(n > 0 ? ok('slack: admin group', `${slack.adminGroup}: ${n} member${n > 1 ? 's' : ''}`) : fail('slack: admin group', `${slack.adminGroup} has no members`, 'add the admins to the user group, or list their user IDs in slack.admins'));
    } catch (err) {
      out.push(fail('slack: admin group', `${slack.adminGroup}: ${slackError(err)}`, 'set slack.adminGroup to the user group ID (S…), and give the app usergroups:read'));
    }
  } else if (slack.admins.length === 0) {
    out.push(fail('slack: admins', 'no slack.admins and no slack.adminGroup: nobody can approve', 'list admin user IDs (U…) in slack.admins, or a user group in slack.adminGroup'));
  }
  try {
    const info = await client.conversations.info({ channel: slack.adminChannel });
    const member = info.channel?.is_member;
    out.push(member === false
      ? fail('slack: admin channel', `${slack.adminChannel} (#${info.channel?.name ?? '?'}) exists but the bot is not in it`, `invite the bot: /invite @${botName} in #${info.channel?.name ?? slack.adminChannel}`)
      : ok('slack: admin channel', `${slack.adminChannel} (#${info.channel?.name ?? '?'})`));
  } catch (err) {
    const code = slackError(err);
    // vmbot itself never reads channel info, so its manifest does not ask for channels:read.
    if (code === 'missing_scope') out.push(skip('slack: admin channel', `${slack.adminChannel} not checked: conversations.info needs the channels:read (or groups:read) scope, which vmbot itself does not use`));
    else out.push(fail('slack: admin channel', `${slack.adminChannel}: ${code}`, 'set slack.adminChannel to the channel ID (C…, from the channel\'s details) and invite the bot to it'));
  }
  return out;
}

function slackError(err: unknown): string {
  const data = (err as { data?: { error?: string } }).data;
  return data?.error ?? (err as Error).message;
}

export async function checkDiscord(discord: NonNullable<Config['discord']>, token: string | undefined, timeoutMs: number): Promise<CheckResult[]> {
  if (!token) return [skip('discord: API', 'not checked: DISCORD_TOKEN is not set')];
  // No retries and no sweeper timers: a doctor asks once and exits.
  const rest = new REST({ api: discord.apiUrl, version: '10', retries: 0, timeout: timeoutMs, hashSweepInterval: 0, handlerSweepInterval: 0 }).setToken(token);
  const out: CheckResult[] = [];
  try {
    const me = (await rest.get(Routes.user())) as { id: string; username: string };
    out.push(ok('discord: bot token', `authenticated as ${me.username} (${me.id})`));
  } catch (err) {
    return [fail('discord: bot token', `GET /users/@me failed: ${discordError(err)}`, 'check DISCORD_TOKEN (the bot token from the Developer Portal) and discord.apiUrl')];
  }
  try {
    const guild = (await rest.get(Routes.guild(discord.guildId))) as { name: string };
    out.push(ok('discord: guild', `${discord.guildId} (${guild.name})`));
  } catch (err) {
    out.push(fail('discord: guild', `${discord.guildId}: ${discordError(err)}`, 'set discord.guildId to your server\'s ID and invite the bot to it'));
    return out;
  }
  try {
    const channel = (await rest.get(Routes.channel(discord.adminChannel))) as { name?: string; guild_id?: string };
    out.push(channel.guild_id === discord.guildId
      ? ok('discord: admin channel', `${discord.adminChannel} (#${channel.name ?? '?'})`)
      : fail('discord: admin channel', `${discord.adminChannel} is not a channel of guild ${discord.guildId}`, 'set discord.adminChannel to a text channel of that server'));
  } catch (err) {
    out.push(fail('discord: admin channel', `${discord.adminChannel}: ${discordError(err)}`, 'set discord.adminChannel to a channel ID the bot can see'));
  }
  try {
    const roles = (await rest.get(Routes.guildRoles(discord.guildId))) as Array<{ id: string; name: string }>;
    const missing = discord.adminRoles.filter((id) => !roles.some((r) => r.id === id));
    if (discord.adminRoles.length === 0 && discord.admins.length === 0) out.push(fail('discord: admin roles', 'no adminRoles and no admins: nobody can approve', 'list role IDs in discord.adminRoles (or user IDs in discord.admins)'));
    else if (missing.length > 0) out.push(fail('discord: admin roles', `unknown role(s) ${missing.join(', ')}`, 'copy the role IDs from Server Settings → Roles (Developer Mode on)'));
    else out.push(ok('discord: admin roles', discord.adminRoles.map((id) => `${roles.find((r) => r.id === id)!.name} (${id})`).join(', ') || `admins: ${discord.admins.join(', ')}`));
  } catch (err) {
    out.push(fail('discord: admin roles', discordError(err), 'give the bot access to the server'));
  }
  return out;
}

function discordError(err: unknown): string {
  if (err instanceof DiscordAPIError) return `${err.status} ${err.message}${err.code ? ` (code ${err.code})` : ''}`;
  return (err as Error).message;
}
