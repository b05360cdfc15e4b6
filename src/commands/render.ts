// `vmbot render`: a dry run, like `nomad-pack render`. Validates the input exactly as a
// request form would, renders the job and the cloud-init files with the configured
// templates, and prints them (or writes them into --out). It allocates nothing: the MAC
// shown is the one the pool would hand out next.
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Command } from 'commander';
import { ConfigError } from '../config/load.js';
import { nomadClusterConfigs, routeCluster, type Config } from '../config/schema.js';
import { enumerateMacs, mergeRanges, parseMacRange, rangeContains, tryNormaliseMac, unusableMacReason } from '../domain/mac.js';
import { problem, VmbotError, type Problem } from '../domain/problem.js';
import { validateRequest, type ValidRequest } from '../domain/validation.js';
import { loadRenderer } from '../render/index.js';
import { renderVars } from '../workflow/render-vars.js';
import type { RenderedVm } from '../render/types.js';
import { loadConfigFor } from './context.js';

interface RenderOptions {
  name?: string;
  distro?: string;
  size?: string;
  sshKey?: string[];
  user?: string;
  mac?: string;
  out?: string;
  requestId: string;
  cluster?: string;
}

/** The files `--out` writes, named as an admin would look for them. */
export const OUTPUT_FILES: Readonly<Record<keyof RenderedVm, string>> = { job: 'job.nomad.hcl', userData: 'user-data', metaData: 'meta-data' };

/** Token placeholder: the real one is random per VM and fixed at approval. */
export const PLACEHOLDER_TOKEN = '<placeholder-token>';

/** `--ssh-key` takes a key or a file holding keys (e.g. ~/.ssh/id_ed25519.pub). */
async function readKeyArgument(value: string): Promise<{ text: string } | { problem: Problem }> {
  if (/^\s*(ssh-|ecdsa-|sk-|-----BEGIN|PuTTY)/.test(value)) return { text: value };
  try {
    const text = await readFile(value, 'utf8');
    // The member-facing message ("never share it, it has been exposed") does not fit a path on the
    // admin's own disk: the key went nowhere, the wrong file was named.
    if (/^\s*(-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----|PuTTY-User-Key-File)/.test(text)) {
      const pub = existsSync(`${value}.pub`) ? ` (${value}.pub)` : '';
      return { problem: problem('invalid_ssh_key', `${JSON.stringify(value)} is a private key file: name its public key file instead${pub}, the one ending in .pub.`, 'sshKeys') };
    }
    return { text };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    return { problem: problem('invalid_ssh_key', `${JSON.stringify(value)} is neither an SSH public key nor a readable file (${code}): give the key itself or the path of your .pub file.`, 'sshKeys') };
  }
}

/** The seed URL the configured publisher would hand out (see cloudinit/builtin.ts, sftp.ts). */
export function dryRunSeedUrl(config: Config, name: string): string {
  if (config.cloudInit.publish === 'sftp' && config.cloudInit.sftp) return `${config.cloudInit.sftp.publicUrl.replace(/\/+$/, '')}/${name}/`;
  return `${config.cloudInit.builtin.publicUrl.replace(/\/+$/, '')}/nocloud/${PLACEHOLDER_TOKEN}/`;
}

/** The first MAC of the pool that is not reserved in the config (when there is no database yet). */
export function firstUnreservedMac(config: Config): string | null {
  const reserved = new Set(config.macPool.reserved.map((r) => r.mac));
  for (const mac of enumerateMacs(mergeRanges(config.macPool.ranges.map((r) => parseMacRange(r))))) {
    if (!reserved.has(mac)) return mac;
  }
  return null;
}

/** The MAC allocate() would take next, without taking it; and where that answer came from. */
async function nextMac(config: Config): Promise<{ mac: string | null; source: string }> {
  if (!existsSync(config.database.path)) {
    return { mac: firstUnreservedMac(config), source: `no database at ${config.database.path} yet: first MAC of the pool not reserved in the config` };
  }
  const { openStore } = await import('../store/index.js');
  const store = await openStore({ path: config.database.path, pool: config.macPool });
  try {
    return { mac: await store.macs.peekNext(), source: `next free MAC in ${config.database.path}` };
  } finally {
    await store.close();
  }
}

/** The command-line flag of each validation field, so a problem says what to change. */
const FLAGS: Readonly<Record<string, string>> = { name: '--name', distro: '--distro', size: '--size', login: '--user', sshKeys: '--ssh-key', mac: '--mac', requestId: '--request-id', cluster: '--cluster' };

const FIELD_ORDER = Object.keys(FLAGS);

function printProblems(problems: Problem[]): void {
  const where = (p: Problem): string => (p.field ? `${p.field}${FLAGS[p.field] ? ` (${FLAGS[p.field]})` : ''}: ` : '');
  process.stderr.write(`vmbot render: nothing rendered:\n${problems.map((p) => `  - ${where(p)}${p.message}`).join('\n')}\n`);
}

async function render(opts: RenderOptions, cmd: Command): Promise<number> {
  let config: Config;
  try {
    ({ config } = await loadConfigFor(cmd));
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      return 1;
    }
    throw err;
  }

  // The cluster approval would choose (nomad.routes), unless --cluster names one: its job
  // prefix and datacenters go into the job, as they would for a real request.
  const distroName = opts.distro ?? config.distros[0]!.name;
  const sizeName = opts.size ?? config.sizes[0]!.name;
  const clusters = nomadClusterConfigs(config.nomad);
  const clusterName = opts.cluster ?? routeCluster(config.nomad.routes, clusters.map((c) => c.name), { distro: distroName, size: sizeName });
  const cluster = clusters.find((c) => c.name === clusterName);
  if (!cluster) {
    printProblems([problem('config_invalid', `There is no cluster ${JSON.stringify(clusterName)}: name one of ${clusters.map((c) => c.name).join(', ')} (nomad.clusters).`, 'cluster')]);
    return 1;
  }
  if (clusters.length > 1) process.stderr.write(`cluster ${cluster.name}${opts.cluster ? '' : ' (chosen by nomad.routes, as approval would)'}\n`);

  const keyArgs = await Promise.all((opts.sshKey ?? []).map(readKeyArgument));
  const keys = keyArgs.flatMap((k) => ('text' in k ? [k.text] : [])).join('\n');
  const checked = validateRequest(
    {
      name: opts.name ?? '',
      // Defaults: the first entry of the catalogue, as the request form preselects it.
      distro: distroName,
      size: sizeName,
      login: opts.user ?? '',
      sshKeys: keys,
      reason: 'vmbot render (dry run)',
    },
    { distros: config.distros, sizes: config.sizes, jobPrefix: cluster.jobPrefix },
  );
  // An unreadable --ssh-key file replaces what validation says about the (missing) keys.
  const keyProblems = keyArgs.flatMap((k) => ('problem' in k ? [k.problem] : []));
  const problems: Problem[] = checked.ok ? [] : checked.problems.filter((p) => keyProblems.length === 0 || p.field !== 'sshKeys');
  problems.push(...keyProblems);
  const givenMac = opts.mac === undefined ? undefined : tryNormaliseMac(opts.mac);
  if (opts.mac !== undefined && givenMac === undefined) {
    problems.push(problem('invalid_mac', `${JSON.stringify(opts.mac)} is not a MAC address: write six hex pairs like 52:54:84:ba:49:00.`, 'mac'));
  }
  const unusable = givenMac === undefined ? undefined : unusableMacReason(givenMac);
  if (unusable) problems.push(problem('invalid_mac', `${givenMac} cannot be a VM's address: ${unusable}.`, 'mac'));
  if (!/^[a-z0-9][a-z0-9-]{0,62}$/.test(opts.requestId)) {
    problems.push(problem('invalid_name', 'The request ID may contain only lower-case letters, digits and dashes.', 'requestId'));
  }
  if (!checked.ok || problems.length > 0) {
    problems.sort((a, b) => FIELD_ORDER.indexOf(a.field ?? '') - FIELD_ORDER.indexOf(b.field ?? ''));
    printProblems(problems);
    return 1;
  }
  const request: ValidRequest = checked.value;

  let mac = givenMac;
  if (mac === undefined) {
    const next = await nextMac(config);
    if (next.mac === null) {
      printProblems([problem('pool_exhausted', 'Every MAC of macPool.ranges is taken or reserved: widen the pool, or pass --mac.', 'mac')]);
      return 1;
    }
    // The schema refuses pools with unusable MACs; this is the last guard before one is printed.
    if (unusableMacReason(next.mac) || !rangeContains(mergeRanges(config.macPool.ranges.map((r) => parseMacRange(r))), next.mac)) {
      printProblems([problem('invalid_mac', `${next.mac} (${next.source}) is not a usable MAC of macPool.ranges: run vmbot config check.`, 'mac')]);
      return 1;
    }
    mac = next.mac;
    process.stderr.write(`MAC ${mac} (${next.source}; nothing was allocated)\n`);
  }

  let rendered: RenderedVm;
  try {
    const renderer = await loadRenderer(config.templates.dir);
    rendered = renderer.render(
      renderVars(
        {
          requestId: opts.requestId,
          name: request.name,
          distro: config.distros.find((d) => d.name === request.distro)!,
          size: config.sizes.find((s) => s.name === request.size)!,
          login: request.login,
          sshKeys: request.sshKeys,
          mac,
          seedUrl: dryRunSeedUrl(config, request.name),
        },
        cluster,
      ),
    );
  } catch (err) {
    if (!(err instanceof VmbotError)) throw err;
    printProblems([err.toProblem()]);
    return 1;
  }

  if (opts.out) {
    await mkdir(opts.out, { recursive: true });
    for (const [key, file] of Object.entries(OUTPUT_FILES) as Array<[keyof RenderedVm, string]>) {
      await writeFile(join(opts.out, file), rendered[key]);
      process.stdout.write(`wrote ${join(opts.out, file)}\n`);
    }
    return 0;
  }
  for (const [key, file] of Object.entries(OUTPUT_FILES) as Array<[keyof RenderedVm, string]>) {
    process.stdout.write(`# ---- ${file} ----\n${rendered[key]}${rendered[key].endsWith('\n') ? '' : '\n'}`);
  }
  return 0;
}

const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];

export function registerRenderCommand(program: Command): void {
  program
    .command('render')
    // Every option is optional to commander: validation reports all missing ones at once.
    .description('dry run: validate a request and print the Nomad job and cloud-init files it would get (allocates nothing)')
    .option('--name <name>', 'VM name (required): lower-case letters, digits and dashes, e.g. web1')
    .option('--distro <distro>', 'distro from the config (default: the first)')
    .option('--size <size>', 'size from the config (default: the first)')
    .option('--ssh-key <key-or-file>', 'SSH public key, or a .pub file holding keys (required); repeat for more', collect)
    .option('--user <login>', 'login name created on the VM (required)')
    .option('--mac <mac>', 'MAC to render with (default: the one the pool would hand out next)')
    .option('--out <dir>', `write ${Object.values(OUTPUT_FILES).join(', ')} into this folder instead of printing them`)
    .option('--request-id <id>', 'request ID for meta vmbot_request and instance-id', 'dry-run')
    .option('--cluster <name>', 'cluster of nomad.clusters to render for (default: the one nomad.routes choose, as approval does)')
    .action(async (opts: RenderOptions, cmd: Command) => {
      process.exitCode = await render(opts, cmd);
    });
}
