// The one configuration schema (DESIGN §3). Everything that reads configuration
// gets a `Config` parsed by this schema; secrets never live here (see secrets.ts).
import { z } from 'zod';
import { macToBigInt, parseMacRange, poolRangeProblems, tryNormaliseMac } from '../domain/mac.js';
import { PLATFORMS, PLATFORM_SECTIONS } from '../chat/platforms.js';
import { listenSchema, urlSchema } from './fields.js';
import { HOUR_MS, formatDuration } from '../domain/lease.js';

const MAC_RE = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i;
const DURATION_RE = /^(\d+)(ms|s|m|h|d)$/;

/** A MAC address, normalised to lower case. */
export const macSchema = z
  .string()
  .regex(MAC_RE, { error: (iss) => `${JSON.stringify(iss.input)} is not a MAC address (expected six hex pairs like 52:54:84:ba:49:00)` })
  .transform((mac) => mac.toLowerCase());

/**
 * "FIRST-LAST" (inclusive), or a single MAC for a one-address range; normalised to
 * lower-case "first-last" so that everything downstream sees one form.
 */
const splitRange = (value: string): string[] => (value.includes('-') ? value.split('-').map((p) => p.trim()) : [value.trim(), value.trim()]);
// superRefine + overwrite rather than transform: the type stays "string", so the generated
// JSON Schema (scripts/config-json-schema.ts) keeps the default and the pattern hints.
const macRangeSchema = z
  .string()
  .superRefine((value, ctx) => {
    const parts = splitRange(value);
    if (parts.length !== 2) {
      ctx.addIssue({ code: 'custom', message: `${JSON.stringify(value)} is not a MAC range (expected FIRST-LAST, e.g. 52:54:84:ba:49:00-52:54:84:ba:49:ff)` });
      return;
    }
    const bad = new Set(parts.filter((part) => tryNormaliseMac(part) === undefined || part.includes('-')));
    for (const part of bad) {
      ctx.addIssue({ code: 'custom', message: `${JSON.stringify(part)} is not a MAC address (expected six hex pairs like 52:54:84:ba:49:00)` });
    }
    if (bad.size > 0) return;
    try {
      parseMacRange(parts.join('-'));
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: (err as Error).message });
    }
  })
  .overwrite((value) => splitRange(value).map((p) => tryNormaliseMac(p) ?? p).join('-'));

/** "10m", "30s", "500ms", "1h", "90d" → milliseconds. */
export const durationSchema = z
  .union([z.number().int().positive(), z.string().regex(DURATION_RE, { error: (iss) => `${JSON.stringify(iss.input)} is not a duration (expected e.g. 30s, 10m, 1h)` })])
  .transform((value) => {
    if (typeof value === 'number') return value;
    const m = DURATION_RE.exec(value)!;
    const n = Number(m[1]);
    const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 'ms' | 's' | 'm' | 'h' | 'd'];
    return n * unit;
  });

export { listenSchema } from './fields.js';
const fingerprintSchema = z
  .string()
  .regex(/^SHA256:[A-Za-z0-9+/]{43}=?$/, { error: 'expected an OpenSSH SHA256 fingerprint like SHA256:abc... (ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub)' });
const nameSchema = z.string().regex(/^[a-z0-9][a-z0-9-]{0,30}$/, { error: 'expected lower-case letters, digits and dashes' });

const sshTargetSchema = z.strictObject({
  host: z.string().min(1),
  port: z.number().int().min(1).max(65535).default(22),
  user: z.string().min(1),
  privateKeyPath: z.string().min(1),
  /** Pinned host key. Required unless trustOnFirstUse is set explicitly. */
  hostKeyFingerprint: fingerprintSchema.optional(),
  trustOnFirstUse: z.boolean().default(false),
});

// The nomad section. Its connection and job keys describe one cluster; `nomad.clusters`
// lists several, each taking every key it leaves out from the section around it.
const nomadSshSchema = sshTargetSchema.extend({ nomadPath: z.string().default('nomad'), tokenFile: z.string().optional(), maxChannels: z.number().int().min(1).max(9).default(6) });
// The environment variable holding an http cluster's ACL token (the token itself is never
// in the file). A shell identifier, so that it can be set in a unit file or a shell; not
// one of vmbot's other secrets, which would then be sent to Nomad; not *_FILE, which
// readSecrets already reads for every name (src/config/secrets.ts).
const OTHER_SECRET_NAMES = new Set([...PLATFORMS.flatMap((p) => p.secretNames), 'VMBOT_WEB_TOKEN']);
const tokenEnvSchema = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { error: (iss) => `${JSON.stringify(iss.input)} is not an environment variable name (letters, digits and underscores, not starting with a digit; e.g. NOMAD_TOKEN_RACK2)`, abort: true })
  .refine((name) => !OTHER_SECRET_NAMES.has(name), { error: (iss) => `${String(iss.input)} holds another of vmbot's secrets, which would be sent to Nomad: name a variable of its own (e.g. NOMAD_TOKEN_RACK2)` })
  .refine((name) => !name.endsWith('_FILE'), { error: (iss) => `name the variable itself (${String(iss.input).replace(/_FILE$/, '')}): vmbot also reads ${String(iss.input)} as the file holding it` });
const nomadHttpSchema = z.strictObject({
  address: urlSchema.default('http://127.0.0.1:4646'),
  /** Absent: NOMAD_TOKEN (optional: a cluster without ACLs needs none). */
  tokenEnv: tokenEnvSchema.optional(),
  caCert: z.string().optional(),
  clientCert: z.string().optional(),
  clientKey: z.string().optional(),
  timeout: durationSchema.default(30_000),
});
const nomadSimSchema = z.strictObject({
  bootDelay: durationSchema.default(3_000),
  subnet: z.string().default('10.10.0.0/24'),
});
const nomadAdapterSchema = z.enum(['ssh', 'http', 'sim']);
const datacentersSchema = z.array(z.string().min(1)).min(1);
const jobPrefixSchema = z.string().regex(/^[a-z0-9-]{0,20}$/, { error: 'expected at most 20 lower-case letters, digits or dashes' });
// Nomad's own rule for namespace names; regions follow it too. Both reach a command line
// (the ssh adapter's -namespace/-region), so nothing else may pass.
const nomadScopeSchema = z.string().regex(/^[A-Za-z0-9_-]{1,128}$/, { error: 'expected 1-128 letters, digits, dashes or underscores (a Nomad namespace or region name)' });
const nomadClusterSchema = z.strictObject({
  /** What requests record; also shown by `vmbot nomad check` and `vmbot config check`. */
  name: nameSchema,
  adapter: nomadAdapterSchema.optional(),
  datacenters: datacentersSchema.optional(),
  jobPrefix: jobPrefixSchema.optional(),
  namespace: nomadScopeSchema.optional(),
  region: nomadScopeSchema.optional(),
  ipTimeout: durationSchema.optional(),
  pollInterval: durationSchema.optional(),
  ssh: nomadSshSchema.optional(),
  http: nomadHttpSchema.optional(),
  sim: nomadSimSchema.optional(),
});
/** Sends requests of a size and/or distro to a cluster; the first route that matches wins. */
const nomadRouteSchema = z.strictObject({
  size: z.string().min(1).optional(),
  distro: z.string().min(1).optional(),
  cluster: z.string().min(1),
});

// policy.lease and policy.quota (domain/lease.ts, domain/quota.ts). Cross-key rules: checkPolicy.
const ISO_DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;
const isoDateSchema = z.string().refine(
  (value) => {
    const m = ISO_DATE_RE.exec(value);
    if (!m) return false;
    const date = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
    return date.toISOString().startsWith(value);
  },
  { error: (iss) => `${JSON.stringify(iss.input)} is not a date (expected YYYY-MM-DD, e.g. 2027-01-31)` },
);
/** A reminder offset before expiry: a duration, or 0 for the expiry itself. */
const reminderOffsetSchema = z
  .union([z.number().int().min(0), z.string().regex(DURATION_RE, { error: (iss) => `${JSON.stringify(iss.input)} is not a reminder offset (expected e.g. 7d, 12h, or 0 for the expiry itself)` })])
  .transform((value) => (typeof value === 'number' ? value : durationSchema.parse(value)));
const leaseSchema = z.strictObject({
  /** Lease length from approval, and what a renewal adds. */
  default: durationSchema.optional(),
  /** Term ends: a lease ends at the end of the next one after approval. */
  until: z.array(isoDateSchema).min(1, { error: 'list at least one date, or leave until out' }).optional(),
  reminders: z.array(reminderOffsetSchema).default([604_800_000, 259_200_000, 86_400_000, 0]),
  autoRenewals: z.number().int().min(0).default(2),
  graceDays: z.number().int().min(0).default(14),
});
const quotaLimit = z.number().int().min(0).optional();
const quotaSchema = z.strictObject({
  vms: quotaLimit,
  /** MHz, summed over the member's live VMs */
  cpu: quotaLimit,
  /** MiB */
  memory: quotaLimit,
  groups: z.array(z.strictObject({ group: z.string().min(1), vms: quotaLimit, cpu: quotaLimit, memory: quotaLimit })).default([]),
});

export const configSchema = z
  .strictObject({
    database: z.strictObject({ path: z.string().min(1).default('data/vmbot.sqlite') }).prefault({}),
    templates: z.strictObject({ dir: z.string().min(1).default('templates') }).prefault({}),
    macPool: z
      .strictObject({
        ranges: z.array(macRangeSchema).min(1).default(['52:54:84:ba:49:00-52:54:84:ba:49:ff']),
        reserved: z.array(z.strictObject({ mac: macSchema, note: z.string().default('') })).default([]),
      })
      .prefault({}),
    distros: z
      .array(z.strictObject({ name: nameSchema, label: z.string().min(1, { error: 'must not be empty: the text members see in the form' }), image: urlSchema }))
      .min(1)
      .default([{ name: 'debian-12', label: 'Debian 12', image: 'http://vm-resources.service.consul:8000/base-images/debian-12-genericcloud-amd64-30G.qcow2' }]),
    sizes: z
      .array(
        z.strictObject({
          name: nameSchema,
          label: z.string().min(1, { error: 'must not be empty: the text members see in the form' }),
          /** MHz, as Nomad's resources.cpu */
          cpu: z.number().int().positive(),
          /** MiB, as Nomad's resources.memory */
          memory: z.number().int().positive(),
        }),
      )
      .min(1)
      .default([
        { name: 'small', label: '2 CPU GHz, 2 GB', cpu: 2000, memory: 2048 },
        { name: 'medium', label: '6 CPU GHz, 4 GB', cpu: 6000, memory: 4096 },
        { name: 'large', label: '12 CPU GHz, 8 GB', cpu: 12000, memory: 8192 },
      ]),
    policy: z
      .strictObject({
        allowSelfApproval: z.boolean().default(false),
        /** How many live VMs one member may hold (0 = no limit). The older name of quota.vms. */
        maxVmsPerMember: z.number().int().min(0).default(0),
        lease: leaseSchema.optional(),
        quota: quotaSchema.prefault({}),
      })
      .prefault({}),
    nomad: z
      .strictObject({
        adapter: nomadAdapterSchema.default('ssh'),
        datacenters: datacentersSchema.default(['dc1']),
        jobPrefix: jobPrefixSchema.default('uservm-'),
        namespace: nomadScopeSchema.optional(),
        region: nomadScopeSchema.optional(),
        /** How long a guest may take to print its address. */
        ipTimeout: durationSchema.default(600_000),
        /** How often the watcher polls the console log. */
        pollInterval: durationSchema.default(2_000),
        /** How long the up notice waits for the SSH host keys once the address is in. */
        hostKeyWait: durationSchema.default(5_000),
        /** Up without its host keys: how long the console is still read for them (then one follow-up notice). */
        hostKeysTimeout: durationSchema.default(600_000),
        ssh: nomadSshSchema.optional(),
        http: nomadHttpSchema.optional(),
        sim: nomadSimSchema.prefault({}),
        /** Several clusters (absent: this section is the one cluster, named "default"). */
        clusters: z.array(nomadClusterSchema).min(1, { error: 'list at least one cluster, or leave nomad.clusters out to use the nomad: section as the one cluster' }).optional(),
        routes: z.array(nomadRouteSchema).default([]),
      })
      .prefault({}),
    cloudInit: z
      .strictObject({
        publish: z.enum(['builtin', 'sftp']).default('builtin'),
        builtin: z
          .strictObject({
            listen: listenSchema.default({ host: '0.0.0.0', port: 8000 }),
            publicUrl: urlSchema.default('http://127.0.0.1:8000'),
            dir: z.string().default('data/nocloud'),
          })
          .prefault({}),
        sftp: sshTargetSchema
          .extend({
            dir: z.string().default('/storage/nomad/vm-resources'),
            publicUrl: urlSchema.default('http://vm-resources.service.consul:8000/res'),
          })
          .optional(),
      })
      .prefault({}),
    // One optional section per chat platform (slack:, discord:, ...), declared by each platform.
    ...PLATFORM_SECTIONS,
    web: z
      .strictObject({
        enabled: z.boolean().default(false),
        listen: listenSchema.default({ host: '127.0.0.1', port: 8080 }),
        /** Admins of the web console in production (read-only there); in local mode everyone may switch views. */
        admins: z.array(z.string()).default([]),
      })
      .prefault({}),
    log: z
      .strictObject({
        level: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
      })
      .prefault({}),
  })
  .strict()
  // `when`: run even when other keys have problems, so one pass lists them all. The value
  // may then be partly unparsed, hence the defensive reads in crossChecks.
  .superRefine((cfg, ctx) => crossChecks(cfg, ctx), { when: () => true });

type Ctx = { addIssue(issue: { code: 'custom'; path: PropertyKey[]; message: string }): void };

const obj = (v: unknown): Record<string, unknown> | undefined => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined);
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

/** Rules that span several keys. */
function crossChecks(raw: unknown, ctx: Ctx): void {
  const cfg = obj(raw) ?? {};
  const nomad = obj(cfg.nomad) ?? {};
  const ssh = obj(nomad.ssh);
  // With nomad.clusters, the section's own adapter and ssh are only defaults for them.
  if (nomad.adapter === 'ssh' && !ssh && nomad.clusters === undefined) {
    ctx.addIssue({ code: 'custom', path: ['nomad', 'ssh'], message: 'nomad.adapter is "ssh" (the default) but nomad.ssh (host, user, privateKeyPath, hostKeyFingerprint) is missing: add it (docs/ssh.md), or set nomad.adapter to http, or to sim to try vmbot without a cluster' });
  }
  if (ssh && ssh.hostKeyFingerprint === undefined && ssh.trustOnFirstUse !== true) {
    ctx.addIssue({ code: 'custom', path: ['nomad', 'ssh', 'hostKeyFingerprint'], message: 'required: pin the Nomad host key (ssh-keygen -lf on its host key), or set trustOnFirstUse: true' });
  }
  checkClusters(nomad, cfg, ctx);
  const cloudInit = obj(cfg.cloudInit) ?? {};
  const sftp = obj(cloudInit.sftp);
  if (cloudInit.publish === 'sftp' && !sftp) {
    ctx.addIssue({ code: 'custom', path: ['cloudInit', 'sftp'], message: 'cloudInit.publish is "sftp" but cloudInit.sftp (host, user, privateKeyPath, hostKeyFingerprint) is missing' });
  }
  if (sftp && sftp.hostKeyFingerprint === undefined && sftp.trustOnFirstUse !== true) {
    ctx.addIssue({ code: 'custom', path: ['cloudInit', 'sftp', 'hostKeyFingerprint'], message: 'required: pin the SFTP host key, or set trustOnFirstUse: true' });
  }
  for (const key of ['distros', 'sizes'] as const) {
    const seen = new Set<unknown>();
    arr(cfg[key]).forEach((entry, i) => {
      const name = obj(entry)?.name;
      if (typeof name !== 'string') return;
      if (seen.has(name)) ctx.addIssue({ code: 'custom', path: [key, i, 'name'], message: `duplicate ${key === 'distros' ? 'distro' : 'size'} name ${JSON.stringify(name)}` });
      seen.add(name);
    });
  }
  checkReserved(obj(cfg.macPool) ?? {}, ctx);
  checkPolicy(obj(cfg.policy) ?? {}, ctx);
}

/** Reserved MACs must lie in the pool (else reserving them means nothing) and appear once. */
function checkReserved(pool: Record<string, unknown>, ctx: Ctx): void {
  // The pool as a whole (size, unusable MACs): the same check the store makes at open.
  const texts = arr(pool.ranges).filter((r): r is string => typeof r === 'string');
  if (texts.length === arr(pool.ranges).length) {
    for (const p of poolRangeProblems(texts)) {
      // Unparseable ranges are already reported by macRangeSchema.
      if (p.index !== undefined && /is not a MAC|first MAC is after/.test(p.message)) continue;
      ctx.addIssue({ code: 'custom', path: p.index === undefined ? ['macPool', 'ranges'] : ['macPool', 'ranges', p.index], message: p.message });
    }
  }
  const ranges = arr(pool.ranges)
    .filter((r): r is string => typeof r === 'string')
    .flatMap((r) => {
      try {
        return [parseMacRange(r)];
      } catch {
        return [];
      }
    });
  const seen = new Set<string>();
  arr(pool.reserved).forEach((entry, i) => {
    const mac = obj(entry)?.mac;
    if (typeof mac !== 'string' || tryNormaliseMac(mac) === undefined) return;
    const value = macToBigInt(mac);
    if (ranges.length > 0 && !ranges.some((r) => r.first <= value && value <= r.last)) {
      ctx.addIssue({ code: 'custom', path: ['macPool', 'reserved', i, 'mac'], message: `${mac} is outside every range of macPool.ranges, so reserving it changes nothing (check for a typo)` });
    }
    const canonical = tryNormaliseMac(mac)!;
    if (seen.has(canonical)) ctx.addIssue({ code: 'custom', path: ['macPool', 'reserved', i, 'mac'], message: `${mac} is reserved twice` });
    seen.add(canonical);
  });
}

/** nomad.clusters and nomad.routes: what each cluster resolves to, and what the routes name. */
function checkClusters(nomad: Record<string, unknown>, cfg: Record<string, unknown>, ctx: Ctx): void {
  const clusters = Array.isArray(nomad.clusters) ? nomad.clusters : undefined;
  const names: string[] = clusters ? [...new Set(clusters.map((c) => obj(c)?.name).filter((n): n is string => typeof n === 'string'))] : [DEFAULT_CLUSTER];
  const scopes = new Map<string, string>();
  const seen = new Set<string>();
  (clusters ?? []).forEach((entry, i) => {
    const c = obj(entry) ?? {};
    const at = (...rest: PropertyKey[]) => ['nomad', 'clusters', i, ...rest];
    const name = typeof c.name === 'string' ? c.name : `#${i + 1}`;
    const which = `nomad.clusters[${i}] (${name})`;
    if (typeof c.name === 'string') {
      if (seen.has(c.name)) ctx.addIssue({ code: 'custom', path: at('name'), message: `duplicate cluster name ${JSON.stringify(c.name)}: requests record the name, so give each cluster its own` });
      seen.add(c.name);
    }
    const adapter = c.adapter ?? nomad.adapter;
    const ssh = obj(c.ssh);
    if (adapter === 'ssh' && !ssh && !obj(nomad.ssh)) {
      ctx.addIssue({ code: 'custom', path: at('ssh'), message: `${which} uses the ssh adapter${c.adapter === undefined ? ' (nomad.adapter, default ssh)' : ''} but has no ssh section (host, user, privateKeyPath, hostKeyFingerprint): add nomad.clusters[${i}].ssh (docs/ssh.md), or set its adapter to http` });
    }
    if (ssh && ssh.hostKeyFingerprint === undefined && ssh.trustOnFirstUse !== true) {
      ctx.addIssue({ code: 'custom', path: at('ssh', 'hostKeyFingerprint'), message: 'required: pin the Nomad host key (ssh-keygen -lf on its host key), or set trustOnFirstUse: true' });
    }
    // Two clusters may share a prefix only where Nomad keeps their jobs apart.
    const prefix = c.jobPrefix ?? nomad.jobPrefix ?? 'uservm-';
    const namespace = c.namespace ?? nomad.namespace;
    const region = c.region ?? nomad.region;
    const scope = JSON.stringify([prefix, namespace ?? null, region ?? null]);
    const earlier = scopes.get(scope);
    if (earlier !== undefined) {
      ctx.addIssue({ code: 'custom', path: at('jobPrefix'), message: `${which} has the same jobPrefix ${JSON.stringify(prefix)} as cluster ${earlier}${namespace || region ? ' in the same namespace and region' : ''}: give each cluster its own jobPrefix (e.g. "${typeof c.name === 'string' ? c.name : 'rack2'}-"), or a different namespace or region` });
    } else scopes.set(scope, name);
  });
  const known = (key: 'sizes' | 'distros'): string[] => {
    const list = cfg[key];
    return arr(list).map((e) => obj(e)?.name).filter((n): n is string => typeof n === 'string');
  };
  arr(nomad.routes).forEach((entry, i) => {
    const route = obj(entry);
    if (!route) return;
    const at = (...rest: PropertyKey[]) => ['nomad', 'routes', i, ...rest];
    if (route.size === undefined && route.distro === undefined) {
      ctx.addIssue({ code: 'custom', path: at(), message: 'a route needs a size, a distro or both (e.g. { size: large, cluster: rack2 }): add one, or remove the route' });
    }
    if (typeof route.cluster === 'string' && !names.includes(route.cluster)) {
      ctx.addIssue({ code: 'custom', path: at('cluster'), message: `no cluster named ${JSON.stringify(route.cluster)}: the clusters are ${names.map((n) => JSON.stringify(n)).join(', ')}${clusters ? ' (nomad.clusters[].name)' : ' (without nomad.clusters the nomad: section is the one cluster, "default")'}` });
    }
    for (const [field, key] of [['size', 'sizes'], ['distro', 'distros']] as const) {
      const value = route[field];
      const list = known(key);
      if (typeof value === 'string' && list.length > 0 && !list.includes(value)) {
        ctx.addIssue({ code: 'custom', path: at(field), message: `no ${field} named ${JSON.stringify(value)}: the ${key} are ${list.map((n) => JSON.stringify(n)).join(', ')} (${key}[].name)` });
      }
    }
  });
}

/** The name of the one cluster a `nomad:` section without `clusters` describes. */
export const DEFAULT_CLUSTER = 'default';

export type Config = z.output<typeof configSchema>;
export type NomadConfig = Config['nomad'];
/** One cluster with every key resolved (its own, else the nomad: section's). */
export type NomadClusterConfig = Omit<NomadConfig, 'clusters' | 'routes'> & { name: string };
export type NomadRoute = NomadConfig['routes'][number];

/** The clusters in configuration order (the first is the default); one "default" cluster without nomad.clusters. */
export function nomadClusterConfigs(nomad: NomadConfig): NomadClusterConfig[] {
  const { clusters, routes: _routes, ...section } = nomad;
  if (!clusters) return [{ ...section, name: DEFAULT_CLUSTER }];
  return clusters.map((cluster) => {
    const own = Object.fromEntries(Object.entries(cluster).filter(([, v]) => v !== undefined)) as Partial<NomadClusterConfig>;
    return { ...section, ...own, name: cluster.name };
  });
}

/** The cluster a request of this distro and size goes to: the first route that matches, else the first cluster. */
export function routeCluster(routes: readonly NomadRoute[], names: readonly string[], request: { distro: string; size: string }): string {
  const route = routes.find((r) => (r.size === undefined || r.size === request.size) && (r.distro === undefined || r.distro === request.distro) && names.includes(r.cluster));
  return route?.cluster ?? names[0]!;
}
export type ConfigInput = z.input<typeof configSchema>;
export type DistroConfig = Config['distros'][number];
export type SizeConfig = Config['sizes'][number];

/** policy.lease and policy.quota: rules that span keys (single values are checked above). */
function checkPolicy(policy: Record<string, unknown>, ctx: Ctx): void {
  const lease = obj(policy.lease);
  if (lease) {
    const path = ['policy', 'lease'];
    const length = typeof lease.default === 'number' ? lease.default : undefined;
    // Only the dates that parsed are compared: the others are reported by isoDateSchema.
    const until = arr(lease.until).flatMap((d, i) => (typeof d === 'string' && isoDateSchema.safeParse(d).success ? [{ d, i }] : []));
    if (length === undefined && lease.until === undefined) {
      ctx.addIssue({ code: 'custom', path, message: 'set policy.lease.default (e.g. 90d) or policy.lease.until (term-end dates), or leave policy.lease out so that VMs never expire' });
    }
    if (length !== undefined && length < HOUR_MS) {
      ctx.addIssue({ code: 'custom', path: [...path, 'default'], message: `${formatDuration(length)} is too short for a lease: give at least 1h (e.g. 90d)` });
    }
    for (let k = 1; k < until.length; k++) {
      const [before, date] = [until[k - 1]!, until[k]!];
      if (date.d <= before.d) ctx.addIssue({ code: 'custom', path: [...path, 'until', date.i], message: `${date.d} is not after ${before.d}: list the dates in order, each once` });
    }
    if (length !== undefined) {
      arr(lease.reminders).forEach((offset, i) => {
        if (typeof offset === 'number' && offset >= length) {
          ctx.addIssue({ code: 'custom', path: [...path, 'reminders', i], message: `${formatDuration(offset)} before expiry is not within the lease (policy.lease.default is ${formatDuration(length)}): make the reminder shorter or the lease longer` });
        }
      });
    }
  }
  const quota = obj(policy.quota) ?? {};
  if (quota.vms !== undefined && typeof policy.maxVmsPerMember === 'number' && policy.maxVmsPerMember > 0) {
    ctx.addIssue({ code: 'custom', path: ['policy', 'maxVmsPerMember'], message: 'policy.maxVmsPerMember and policy.quota.vms are both set: they mean the same; keep policy.quota.vms and remove policy.maxVmsPerMember' });
  }
  const seen = new Set<string>();
  arr(quota.groups).forEach((entry, i) => {
    const override = obj(entry) ?? {};
    if (typeof override.group === 'string') {
      if (seen.has(override.group)) ctx.addIssue({ code: 'custom', path: ['policy', 'quota', 'groups', i, 'group'], message: `${JSON.stringify(override.group)} has two overrides: merge them into one entry` });
      seen.add(override.group);
    }
    if (override.vms === undefined && override.cpu === undefined && override.memory === undefined) {
      ctx.addIssue({ code: 'custom', path: ['policy', 'quota', 'groups', i], message: 'this override sets none of vms, cpu, memory: add the limits this group gets, or remove the entry' });
    }
  });
}
