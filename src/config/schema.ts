// The one configuration schema (DESIGN §3). Everything that reads configuration
// gets a `Config` parsed by this schema; secrets never live here (see secrets.ts).
import { z } from 'zod';
import { macToBigInt, parseMacRange, poolRangeProblems, tryNormaliseMac } from '../domain/mac.js';

const MAC_RE = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i;
const DURATION_RE = /^(\d+)(ms|s|m|h)$/;

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

/** "10m", "30s", "500ms", "1h" → milliseconds. */
export const durationSchema = z
  .union([z.number().int().positive(), z.string().regex(DURATION_RE, { error: (iss) => `${JSON.stringify(iss.input)} is not a duration (expected e.g. 30s, 10m, 1h)` })])
  .transform((value) => {
    if (typeof value === 'number') return value;
    const m = DURATION_RE.exec(value)!;
    const n = Number(m[1]);
    const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] as 'ms' | 's' | 'm' | 'h'];
    return n * unit;
  });

/** "host:port" → { host, port }. */
export const listenSchema = z.string().transform((value, ctx) => {
  const i = value.lastIndexOf(':');
  const port = Number(value.slice(i + 1));
  const host = value.slice(0, i).replace(/^\[|\]$/g, '');
  if (i <= 0 || !Number.isInteger(port) || port < 0 || port > 65535) {
    ctx.addIssue({ code: 'custom', message: `${JSON.stringify(value)} is not host:port (e.g. 127.0.0.1:8080)` });
    return z.NEVER;
  }
  return { host, port };
});

const urlSchema = z.url({ protocol: /^https?$/, error: (iss) => `${JSON.stringify(iss.input)} is not an http(s) URL` });
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
        /** How many live VMs one member may hold (0 = no limit). */
        maxVmsPerMember: z.number().int().min(0).default(0),
      })
      .prefault({}),
    nomad: z
      .strictObject({
        adapter: z.enum(['ssh', 'http', 'sim']).default('ssh'),
        datacenters: z.array(z.string().min(1)).min(1).default(['dc1']),
        jobPrefix: z.string().regex(/^[a-z0-9-]{0,20}$/, { error: 'expected at most 20 lower-case letters, digits or dashes' }).default('uservm-'),
        /** Task name inside the job; the admins use the VM name, we use a fixed one. */
        ipTimeout: durationSchema.default(600_000),
        /** How often the watcher polls the console log. */
        pollInterval: durationSchema.default(2_000),
        ssh: sshTargetSchema.extend({ nomadPath: z.string().default('nomad'), tokenFile: z.string().optional(), maxChannels: z.number().int().min(1).max(9).default(6) }).optional(),
        http: z
          .strictObject({
            address: urlSchema.default('http://127.0.0.1:4646'),
            caCert: z.string().optional(),
            clientCert: z.string().optional(),
            clientKey: z.string().optional(),
            timeout: durationSchema.default(30_000),
          })
          .optional(),
        sim: z
          .strictObject({
            bootDelay: durationSchema.default(3_000),
            subnet: z.string().default('10.10.0.0/24'),
          })
          .prefault({}),
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
    slack: z
      .strictObject({
        mode: z.enum(['socket', 'http']).default('socket'),
        apiUrl: urlSchema.default('https://slack.com/api/'),
        /** HTTP mode: where the receiver listens (loopback by default: a reverse proxy terminates TLS in front). */
        listen: listenSchema.default({ host: '127.0.0.1', port: 3000 }),
        adminChannel: z.string().min(1),
        admins: z.array(z.string().min(1)).default([]),
        adminGroup: z.string().optional(),
      })
      .optional(),
    discord: z
      .strictObject({
        apiUrl: urlSchema.default('https://discord.com/api'),
        applicationId: z.string().regex(/^\d{15,22}$/, { error: 'expected a Discord snowflake ID (digits)' }),
        guildId: z.string().regex(/^\d{15,22}$/, { error: 'expected a Discord snowflake ID (digits)' }),
        adminChannel: z.string().regex(/^\d{15,22}$/, { error: 'expected a Discord channel ID (digits)' }),
        adminRoles: z.array(z.string()).default([]),
        admins: z.array(z.string()).default([]),
        fallbackChannel: z.string().optional(),
      })
      .optional(),
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
  if (nomad.adapter === 'ssh' && !ssh) {
    ctx.addIssue({ code: 'custom', path: ['nomad', 'ssh'], message: 'nomad.adapter is "ssh" (the default) but nomad.ssh (host, user, privateKeyPath, hostKeyFingerprint) is missing: add it (docs/ssh.md), or set nomad.adapter to http, or to sim to try vmbot without a cluster' });
  }
  if (ssh && ssh.hostKeyFingerprint === undefined && ssh.trustOnFirstUse !== true) {
    ctx.addIssue({ code: 'custom', path: ['nomad', 'ssh', 'hostKeyFingerprint'], message: 'required: pin the Nomad host key (ssh-keygen -lf on its host key), or set trustOnFirstUse: true' });
  }
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

export type Config = z.output<typeof configSchema>;
export type ConfigInput = z.input<typeof configSchema>;
export type DistroConfig = Config['distros'][number];
export type SizeConfig = Config['sizes'][number];
