// `vmbot nomad check` (and `vmbot doctor`): connects the way the configured adapter does and
// says precisely which step fails, one line per step with what to do. Steps after a failed
// one are not run: they could only fail for the same reason.
import { lookup } from 'node:dns/promises';
import { readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect as netConnect, isIP } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { nomadClusterConfigs, type Config, type NomadClusterConfig } from '../config/schema.js';
import { missingTokenFix, nomadTokenSource, nomadTokenSources, type NomadTokenSource, type Secrets } from '../config/secrets.js';
import { NomadCommands, TOKEN_FILE_EXIT } from './ssh/commands.js';
import { SshConnection, SshError } from './ssh/connection.js';
import { parseVerbose } from './ssh/parse.js';

export interface CheckStep {
  name: string;
  ok: boolean;
  detail: string;
  fix?: string;
}

export interface CheckOptions {
  /** Per network step (default 10 s). */
  timeoutMs?: number;
  /** Trust-on-first-use record (default data/known_hosts). */
  knownHostsPath?: string;
}

const pass = (name: string, detail: string): CheckStep => ({ name, ok: true, detail });
const failed = (name: string, detail: string, fix: string): CheckStep => ({ name, ok: false, detail, fix });

async function checkDns(host: string, field: string): Promise<CheckStep> {
  if (isIP(host)) return pass('dns', `${host} is an IP address`);
  try {
    const { address } = await lookup(host);
    return pass('dns', `${host} → ${address}`);
  } catch (err) {
    return failed('dns', `cannot resolve ${host}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, `check ${field} (or the machine's DNS)`);
  }
}

async function checkTcp(host: string, port: number, timeoutMs: number, fix: string): Promise<CheckStep> {
  return new Promise((resolve) => {
    const socket = netConnect({ host, port });
    const done = (step: CheckStep) => {
      socket.destroy();
      resolve(step);
    };
    socket.setTimeout(timeoutMs, () => done(failed('tcp', `no answer from ${host}:${port} within ${timeoutMs} ms`, fix)));
    socket.once('connect', () => done(pass('tcp', `connected to ${host}:${port}`)));
    socket.once('error', (err: NodeJS.ErrnoException) => done(failed('tcp', `cannot connect to ${host}:${port}: ${err.code ?? err.message}`, fix)));
  });
}

/** `key`: where the cluster's settings are in the file ("nomad", "nomad.clusters[1]"), for the fixes. */
async function checkSsh(cluster: NomadClusterConfig, key: string, opts: CheckOptions): Promise<CheckStep[]> {
  const ssh = cluster.ssh;
  if (!ssh) return [failed('config', `${key}.adapter is "ssh" but ${key}.ssh is missing`, `add ${key}.ssh (host, user, privateKeyPath, hostKeyFingerprint)`)];
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const steps: CheckStep[] = [];
  const add = (step: CheckStep) => (steps.push(step), step.ok);

  if (!add(await checkDns(ssh.host, `${key}.ssh.host`))) return steps;
  if (!add(await checkTcp(ssh.host, ssh.port, timeoutMs, `check ${key}.ssh.host/port, that sshd runs there and that no firewall blocks port ${ssh.port}`))) return steps;

  const connection = new SshConnection({ ...ssh, knownHostsPath: opts.knownHostsPath, maxChannels: 1, connectAttempts: 1, readyTimeoutMs: timeoutMs });
  const commands = new NomadCommands({ nomadPath: ssh.nomadPath, tokenFile: ssh.tokenFile, namespace: cluster.namespace, region: cluster.region });
  try {
    try {
      await connection.connect();
      add(pass('ssh host key', `${connection.lastHostKey} matches ${ssh.hostKeyFingerprint ? `${key}.ssh.hostKeyFingerprint` : 'the key recorded on first use'}`));
      add(pass('ssh login', `logged in as ${ssh.user}`));
    } catch (err) {
      const e = err instanceof SshError ? err : new SshError('dropped', (err as Error).message);
      if (e.kind === 'hostkey') add(failed('ssh host key', e.message, `compare with \`ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub\` on the host, then fix ${key}.ssh.hostKeyFingerprint`));
      else if (e.kind === 'auth') {
        add(pass('ssh host key', `${connection.lastHostKey} accepted`));
        add(failed('ssh login', e.message, `add the public key of ${ssh.privateKeyPath} to ~${ssh.user}/.ssh/authorized_keys on ${ssh.host}, and check ${key}.ssh.user`));
      } else if (e.kind === 'key_file') add(failed('ssh login', e.message, `fix ${key}.ssh.privateKeyPath`));
      else add(failed('ssh', e.message, 'check that the port speaks SSH and the host is up'));
      return steps;
    }

    const which = await connection.exec(commands.which(), { timeoutMs });
    if (which.code !== 0) {
      add(failed('nomad cli', `\`${ssh.nomadPath}\` is not on the PATH of ${ssh.user}@${ssh.host}`, `install the nomad CLI there, or set ${key}.ssh.nomadPath to its full path`));
      return steps;
    }
    add(pass('nomad cli', which.stdout.toString('utf8').trim()));

    const api = await connection.exec(commands.apiGet('/v1/jobs'), { timeoutMs });
    // parseVerbose also drops the echoed request headers (the token is one of them).
    const { status, stderr } = parseVerbose(api.stderr);
    if (api.code === TOKEN_FILE_EXIT && /cannot read the Nomad token file/.test(stderr)) {
      add(pass('nomad api', 'not tried'));
      add(failed('nomad token', stderr.trim(), `create ${ssh.tokenFile} on ${ssh.host} (mode 600, readable by ${ssh.user}) holding the ACL token, or fix ${key}.ssh.tokenFile`));
      return steps;
    }
    if (status === undefined) {
      add(failed('nomad api', `Nomad is unreachable from ${ssh.host}: ${stderr.trim().slice(0, 300) || `exit ${api.code}`}`, `check NOMAD_ADDR for ${ssh.user} on ${ssh.host} and that the Nomad agent runs`));
      return steps;
    }
    add(pass('nomad api', `Nomad answered HTTP ${status} from ${ssh.host}`));
    if (status === 401 || status === 403) {
      add(failed('nomad token', `the ACL token was refused (HTTP ${status}: ${api.stdout.toString('utf8').trim().slice(0, 100)})`, ssh.tokenFile ? `put a valid token with read-job and submit-job in ${ssh.tokenFile} on ${ssh.host}` : `set ${key}.ssh.tokenFile to a file on the SSH host holding the ACL token`));
    } else if (status === 200) add(pass('nomad token', ssh.tokenFile ? `accepted (from ${ssh.tokenFile})` : 'no token needed (ACLs off)'));
    else add(failed('nomad token', `listing jobs answered HTTP ${status}`, 'check the Nomad servers (is there a leader?)'));
    return steps;
  } finally {
    await connection.close();
  }
}

interface HttpReply {
  status: number;
  body: string;
}

function httpGet(url: URL, opts: { headers?: Record<string, string>; ca?: Buffer; cert?: Buffer; key?: Buffer; timeoutMs: number }): Promise<HttpReply> {
  return new Promise((resolve, reject) => {
    const fn = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = fn(url, { method: 'GET', headers: opts.headers, ca: opts.ca, cert: opts.cert, key: opts.key, timeout: opts.timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c.length < 10_000 ? c : ''));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${opts.timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}

async function checkHttp(cluster: NomadClusterConfig, key: string, secrets: Secrets, source: NomadTokenSource, opts: CheckOptions): Promise<CheckStep[]> {
  const http = cluster.http;
  const url = new URL(http?.address ?? 'http://127.0.0.1:4646');
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
  const steps: CheckStep[] = [];
  const add = (step: CheckStep) => (steps.push(step), step.ok);
  // The cluster's own variable (http.tokenEnv), else NOMAD_TOKEN; only its name is ever shown.
  // One that http.tokenEnv names must be set (serve refuses to start without it): a
  // configuration problem, found before the network is tried, as ssh's missing section is.
  const { variable } = source;
  const token = secrets[variable];
  if (source.named && !token) return [failed('nomad token', `${variable} is not set (${source.key} names it as this cluster's token)`, missingTokenFix(source, cluster.name))];

  if (!add(await checkDns(host, `${key}.http.address`))) return steps;
  if (!add(await checkTcp(host, port, timeoutMs, `check ${key}.http.address and that the Nomad agent listens there (and no firewall blocks it)`))) return steps;

  let tlsFiles: { ca?: Buffer; cert?: Buffer; key?: Buffer } = {};
  try {
    tlsFiles = {
      ...(http?.caCert ? { ca: readFileSync(http.caCert) } : {}),
      ...(http?.clientCert ? { cert: readFileSync(http.clientCert) } : {}),
      ...(http?.clientKey ? { key: readFileSync(http.clientKey) } : {}),
    };
  } catch (err) {
    add(failed('tls', `cannot read a TLS file: ${(err as Error).message}`, `fix ${key}.http.caCert / clientCert / clientKey`));
    return steps;
  }
  if (url.protocol === 'https:') {
    const tlsStep = await new Promise<CheckStep>((resolve) => {
      const socket = tlsConnect({ host, port, servername: isIP(host) ? undefined : host, ...tlsFiles, timeout: timeoutMs }, () => {
        socket.destroy();
        resolve(pass('tls', `certificate of ${host} verified`));
      });
      socket.once('timeout', () => (socket.destroy(), resolve(failed('tls', `TLS handshake with ${host}:${port} timed out`, 'check that the port speaks TLS'))));
      socket.once('error', (err: NodeJS.ErrnoException) => {
        socket.destroy();
        resolve(failed('tls', `TLS with ${host}:${port} failed: ${err.code ?? ''} ${err.message}`.trim(), `set ${key}.http.caCert to the CA that signed Nomad's certificate (and clientCert/clientKey if Nomad requires client certificates)`));
      });
    });
    if (!add(tlsStep)) return steps;
  }

  const headers: Record<string, string> = token ? { 'X-Nomad-Token': token } : {};
  let reply: HttpReply;
  try {
    // The cluster's namespace and region, as the adapter sends them: the token must be valid there.
    const jobs = new URL('/v1/jobs', url);
    if (cluster.namespace) jobs.searchParams.set('namespace', cluster.namespace);
    if (cluster.region) jobs.searchParams.set('region', cluster.region);
    reply = await httpGet(jobs, { ...tlsFiles, headers, timeoutMs });
  } catch (err) {
    add(failed('nomad api', `GET /v1/jobs failed: ${(err as Error).message}`, `check ${key}.http.address (scheme and port)`));
    return steps;
  }
  if (reply.status >= 500) {
    add(failed('nomad api', `GET /v1/jobs answered ${reply.status}: ${reply.body.trim().slice(0, 200)}`, 'check the Nomad servers (is there a leader?)'));
    return steps;
  }
  add(pass('nomad api', `Nomad answered HTTP ${reply.status}`));
  if (reply.status === 401 || reply.status === 403) {
    add(failed('nomad token', token ? `the ACL token ${source.named ? `from ${variable} ` : ''}was refused (HTTP ${reply.status})` : `Nomad requires an ACL token (HTTP ${reply.status}) and ${variable} is not set`, `set ${variable} (or ${variable}_FILE) to a token that may read and submit jobs${source.named ? ` on Nomad cluster ${cluster.name}` : ''}`));
  } else if (reply.status === 200) add(pass('nomad token', token ? (source.named ? `accepted (from ${variable})` : 'accepted') : 'no token needed (ACLs off)'));
  else add(failed('nomad api', `GET /v1/jobs answered ${reply.status}`, `check ${key}.http.address: is it Nomad's HTTP API?`));
  return steps;
}

/**
 * One cluster's check: one step per line, in order; stops after the first failing step.
 * `tokenSource`: where an http cluster's token is read from (default: its own http.tokenEnv, else NOMAD_TOKEN).
 */
export async function checkCluster(cluster: NomadClusterConfig, secrets: Secrets, opts: CheckOptions & { key?: string; tokenSource?: NomadTokenSource } = {}): Promise<CheckStep[]> {
  const key = opts.key ?? 'nomad';
  switch (cluster.adapter) {
    case 'ssh':
      return checkSsh(cluster, key, opts);
    case 'http':
      return checkHttp(cluster, key, secrets, opts.tokenSource ?? nomadTokenSource(cluster, key), opts);
    case 'sim':
      return [pass('sim', 'simulated cluster (local mode): nothing to reach')];
  }
}

export interface ClusterCheck {
  /** The cluster's name ("default" for a nomad: section without clusters). */
  cluster: string;
  adapter: NomadClusterConfig['adapter'];
  steps: CheckStep[];
}

/** Every configured cluster, one after the other (each stops at its own first failing step). */
export async function checkNomadClusters(config: Config, secrets: Secrets, opts: CheckOptions = {}): Promise<ClusterCheck[]> {
  const results: ClusterCheck[] = [];
  const clusters = nomadClusterConfigs(config.nomad);
  const tokenSources = nomadTokenSources(config);
  for (const [i, cluster] of clusters.entries()) {
    const key = config.nomad.clusters ? `nomad.clusters[${i}]` : 'nomad';
    const tokenSource = tokenSources.find((s) => s.cluster === cluster.name);
    results.push({ cluster: cluster.name, adapter: cluster.adapter, steps: await checkCluster(cluster, secrets, { ...opts, key, ...(tokenSource ? { tokenSource } : {}) }) });
  }
  return results;
}

/**
 * Every cluster's steps in one list (doctor). With nomad.clusters, each step's name starts
 * with its cluster's ("rack2: dns"); a single nomad: section gives exactly its own steps.
 */
export async function checkNomad(config: Config, secrets: Secrets, opts: CheckOptions = {}): Promise<CheckStep[]> {
  const results = await checkNomadClusters(config, secrets, opts);
  if (!config.nomad.clusters) return results[0]!.steps;
  return results.flatMap((r) => r.steps.map((step) => ({ ...step, name: `${r.cluster}: ${step.name}` })));
}

/** `cluster`: starts every line with it (several clusters in one output). */
export function formatCheck(steps: readonly CheckStep[], cluster?: string): string {
  const lead = cluster === undefined ? '' : `${cluster}: `;
  return steps.map((s) => `${lead}${s.ok ? '✓' : '✗'} ${s.name}: ${s.detail}${s.fix ? `\n${lead}    → ${s.fix}` : ''}`).join('\n');
}
