// `vmbot config check`: validates the configuration file and the templates it names, and
// says in a few lines what is configured. Offline on purpose (`vmbot doctor` reaches the
// services); secrets are reported as set or missing, never shown.
import type { Command } from 'commander';
import { ConfigError } from '../config/load.js';
import { nomadClusterConfigs, type Config, type NomadClusterConfig } from '../config/schema.js';
import { PLATFORMS } from '../chat/platforms.js';
import { configuredPlatforms, planPlatforms, secretPurpose } from '../config/platforms.js';
import { nomadTokenNeeds, readSecrets, SecretError, secretNamesFor, type SecretName, type Secrets } from '../config/secrets.js';
import { countMacs, mergeRanges, parseMacRange } from '../domain/mac.js';
import { VmbotError } from '../domain/problem.js';
import { loadRenderer } from '../render/index.js';
import { resolveTemplatesDir } from '../render/renderer.js';
import { loadConfigFor } from './context.js';

export interface SecretNeed {
  name: SecretName;
  required: boolean;
  /** Why vmbot wants it with this configuration. */
  for: string;
}

/** Which secrets this configuration uses, and which of them it cannot run without. */
export function secretNeeds(config: Config): SecretNeed[] {
  const needs: SecretNeed[] = [];
  // Each configured chat platform names its own (src/chat/<platform>/platform.ts).
  for (const { platform, section } of configuredPlatforms(planPlatforms(config, {}, PLATFORMS))) {
    for (const need of platform.secretNeeds(section)) needs.push({ name: need.name, required: need.required, for: secretPurpose(platform, need) });
  }
  // Each http cluster's token variable: NOMAD_TOKEN, or the one its http.tokenEnv names.
  needs.push(...nomadTokenNeeds(config));
  if (config.web.enabled) needs.push({ name: 'VMBOT_WEB_TOKEN', required: true, for: 'the web console (web.enabled)' });
  return needs;
}

function describeNomad(nomad: NomadClusterConfig): string {
  switch (nomad.adapter) {
    case 'ssh': {
      const ssh = nomad.ssh!;
      const pin = ssh.hostKeyFingerprint ? 'host key pinned' : 'host key trusted on first use';
      return `ssh (${ssh.user}@${ssh.host}:${ssh.port}, ${pin}, token ${ssh.tokenFile ? `read from ${ssh.tokenFile} on the host` : 'none'})`;
    }
    case 'http':
      return `http (${nomad.http?.address ?? 'http://127.0.0.1:4646'}${nomad.http?.caCert ? ', TLS CA set' : ''}${nomad.http?.clientCert ? ', client certificate set' : ''})`;
    case 'sim':
      return 'sim (a SIMULATED cluster: no real VM is created)';
  }
}

/** Where a cluster's jobs go within Nomad: namespace and region, when set. */
function describeScope(nomad: NomadClusterConfig): string {
  const scope = [nomad.namespace ? `namespace ${nomad.namespace}` : '', nomad.region ? `region ${nomad.region}` : ''].filter(Boolean).join(', ');
  return scope ? ` (${scope})` : '';
}

/** The single nomad: section as two lines (as before clusters existed); nomad.clusters one line each, then the routes. */
function describeClusters(config: Config): string[] {
  const clusters = nomadClusterConfigs(config.nomad);
  if (!config.nomad.clusters) {
    const only = clusters[0]!;
    return [`  Nomad adapter:  ${describeNomad(only)}`, `  Jobs:           ${only.jobPrefix}<name> in ${only.datacenters.join(', ')}${describeScope(only)}`];
  }
  const lines = [`  Nomad clusters: ${clusters.length} (the first is the default; one MAC pool for all)`];
  for (const c of clusters) lines.push(`    ${c.name}: ${describeNomad(c)}; jobs ${c.jobPrefix}<name> in ${c.datacenters.join(', ')}${describeScope(c)}`);
  const routes = config.nomad.routes.map((r) => `${[r.size ? `size ${r.size}` : '', r.distro ? `distro ${r.distro}` : ''].filter(Boolean).join(' + ')} → ${r.cluster}`);
  lines.push(`  Routes:         ${routes.length > 0 ? `${routes.join('; ')}; anything else → ${clusters[0]!.name}` : `none (every request → ${clusters[0]!.name})`}`);
  return lines;
}

function describePublisher(config: Config): string {
  const { cloudInit } = config;
  if (cloudInit.publish === 'sftp') {
    const sftp = cloudInit.sftp!;
    return `sftp (${sftp.user}@${sftp.host}:${sftp.dir}, served as ${sftp.publicUrl}/<vm>/)`;
  }
  const { listen, publicUrl } = cloudInit.builtin;
  return `builtin (listens on ${listen.host}:${listen.port}, guests fetch ${publicUrl}/nocloud/<token>/)`;
}

function describeChat(config: Config): string {
  const platforms = configuredPlatforms(planPlatforms(config, {}, PLATFORMS)).map(({ platform, section }) => platform.describe(section));
  return platforms.length > 0 ? platforms.join('; ') : 'none (vmbot serve runs local mode: web console on a simulated cluster)';
}

/** Which folder the templates were read from: the default falls back to vmbot's own outside a clone. */
function describeTemplates(configured: string): string {
  const used = resolveTemplatesDir(configured);
  return used === configured ? `${configured} (checked)` : `${used} (checked; vmbot's own, as there is no ./${configured}/ here)`;
}

/** The short summary `config check` prints for a valid configuration. */
export function summarizeConfig(config: Config, secrets: Secrets, source: string): string[] {
  const pool = countMacs(mergeRanges(config.macPool.ranges.map((r) => parseMacRange(r))));
  const lines = [
    `${source}: valid`,
    ...describeClusters(config),
    `  Publisher:      ${describePublisher(config)}`,
    `  Chat platforms: ${describeChat(config)}`,
    `  Web console:    ${config.web.enabled ? `enabled on ${config.web.listen.host}:${config.web.listen.port}` : 'disabled'}`,
    `  Catalogue:      ${config.distros.length} distro(s) (${config.distros.map((d) => d.name).join(', ')}), ${config.sizes.length} size(s) (${config.sizes.map((s) => s.name).join(', ')})`,
    `  MAC pool:       ${pool} address(es), ${config.macPool.reserved.length} reserved`,
    `  Templates:      ${describeTemplates(config.templates.dir)}`,
    `  Database:       ${config.database.path}`,
  ];
  const needs = secretNeeds(config);
  const named = new Set(needs.map((n) => n.name));
  const secretLines = needs.map((n) => `    ${n.name.padEnd(21)}${secrets[n.name] ? 'set' : n.required ? 'MISSING' : 'not set'} (${n.required ? 'required' : 'optional'} for ${n.for})`);
  // A secret that is set but unused is worth knowing about too (a leftover, or a typo'd config).
  for (const [name, value] of Object.entries(secrets) as Array<[SecretName, string | undefined]>) {
    if (value && !named.has(name)) secretLines.push(`    ${name.padEnd(21)}set (not used by this configuration)`);
  }
  lines.push(`  Secrets:${secretLines.length === 0 ? '        none needed' : ''}`, ...secretLines);
  const missing = needs.filter((n) => n.required && !secrets[n.name]);
  if (missing.length > 0) {
    lines.push(`  Warning: ${missing.map((n) => n.name).join(', ')} missing: set each in the environment, or name a file holding it in <NAME>_FILE, before vmbot serve.`);
  }
  return lines;
}

async function check(cmd: Command): Promise<number> {
  let loaded;
  try {
    loaded = await loadConfigFor(cmd);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      return 1;
    }
    throw err;
  }
  const { config, path, found } = loaded;
  const problems: string[] = [];
  try {
    await loadRenderer(config.templates.dir);
  } catch (err) {
    if (!(err instanceof VmbotError)) throw err;
    problems.push(`templates.dir: ${err.message}`);
  }
  let secrets: Secrets = {};
  try {
    secrets = readSecrets(process.env, secretNamesFor(config));
  } catch (err) {
    if (!(err instanceof SecretError)) throw err;
    problems.push(`${err.variable}: ${err.message}`);
  }
  if (problems.length > 0) {
    process.stderr.write(`${path}: the configuration is invalid:\n${problems.map((p) => `  - ${p}`).join('\n')}\n`);
    return 1;
  }
  const source = found ? path : `${path} not found, so the defaults (simulated cluster)`;
  process.stdout.write(`${summarizeConfig(config, secrets, source).join('\n')}\n`);
  return 0;
}

export function registerConfigCommands(program: Command): void {
  const config = program.command('config').description('inspect the configuration');
  config
    .command('check')
    .description('validate the config file and its templates, list every problem by key, or summarise what is configured (secrets: set/missing, never values)')
    .action(async (_opts: unknown, cmd: Command) => {
      process.exitCode = await check(cmd);
    });
}
