// Host key pinning for every SSH connection vmbot makes (the Nomad adapter and the SFTP
// publisher share it). A key is identified the way `ssh-keygen -l` shows it:
// "SHA256:" + base64 (no padding) of the SHA-256 of the raw public key blob.
import { createHash } from 'node:crypto';
import { appendFileSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';

/** `SHA256:...` of a raw SSH public key blob (as ssh2's hostVerifier receives it). */
export function fingerprintOf(rawKey: Buffer): string {
  return 'SHA256:' + createHash('sha256').update(rawKey).digest('base64').replace(/=+$/, '');
}

/** The key type written inside the blob (first SSH string), e.g. "ssh-ed25519". */
export function keyTypeOf(rawKey: Buffer): string {
  if (rawKey.length < 4) return 'unknown';
  const len = rawKey.readUInt32BE(0);
  return rawKey.subarray(4, 4 + len).toString('ascii');
}

/** Refused on purpose: the server showed a different key than the one pinned. */
export class HostKeyMismatchError extends Error {
  constructor(
    readonly host: string,
    readonly expected: string,
    readonly actual: string,
    readonly source: 'config' | 'known-hosts',
  ) {
    super(
      `SSH host key of ${host} does not match: expected ${expected}${source === 'known-hosts' ? ' (recorded on first use)' : ''}, got ${actual}. ` +
        'If the host was reinstalled, check the new key on the host (ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub) and update hostKeyFingerprint; otherwise someone may be intercepting the connection.',
    );
    this.name = 'HostKeyMismatchError';
  }
}

export interface HostKeyPolicy {
  host: string;
  port: number;
  /** Pinned `SHA256:` fingerprint; wins over everything else. */
  fingerprint?: string | undefined;
  /** Accept an unknown key once and record it in knownHostsPath (explicit opt-in only). */
  trustOnFirstUse?: boolean | undefined;
  /** Where trust-on-first-use keys are recorded (default data/known_hosts). */
  knownHostsPath?: string | undefined;
}

export interface HostVerification {
  /** Pass as ssh2's `hostVerifier`. */
  verify(rawKey: Buffer): boolean;
  /** Set when verify() refused a key: throw this instead of ssh2's generic error. */
  readonly refusal: HostKeyMismatchError | Error | undefined;
  /** Fingerprint of the last key presented. */
  readonly lastSeen: string | undefined;
}

export const DEFAULT_KNOWN_HOSTS = 'data/known_hosts';

function hostPattern(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

/** Finds the recorded key for host:port in an OpenSSH-style known_hosts file. */
function recordedFingerprint(path: string, host: string, port: number): string | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
  const pattern = hostPattern(host, port);
  for (const line of text.split('\n')) {
    const [hosts, , key] = line.trim().split(/\s+/);
    if (!hosts || !key || hosts.startsWith('#')) continue;
    if (hosts.split(',').includes(pattern)) return fingerprintOf(Buffer.from(key, 'base64'));
  }
  return undefined;
}

export function createHostVerification(policy: HostKeyPolicy): HostVerification {
  let refusal: HostKeyMismatchError | Error | undefined;
  let lastSeen: string | undefined;
  const where = hostPattern(policy.host, policy.port);
  return {
    get refusal() {
      return refusal;
    },
    get lastSeen() {
      return lastSeen;
    },
    verify(rawKey: Buffer): boolean {
      const actual = fingerprintOf(rawKey);
      lastSeen = actual;
      refusal = undefined;
      if (policy.fingerprint) {
        if (actual === policy.fingerprint.replace(/=+$/, '')) return true;
        refusal = new HostKeyMismatchError(where, policy.fingerprint, actual, 'config');
        return false;
      }
      if (!policy.trustOnFirstUse) {
        refusal = new Error(`no host key pinned for ${where}: set hostKeyFingerprint to ${actual} after checking it on the host (ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub)`);
        return false;
      }
      const path = policy.knownHostsPath ?? DEFAULT_KNOWN_HOSTS;
      const recorded = recordedFingerprint(path, policy.host, policy.port);
      if (recorded) {
        if (recorded === actual) return true;
        refusal = new HostKeyMismatchError(where, recorded, actual, 'known-hosts');
        return false;
      }
      // First use: record it so every later connection is pinned to this key.
      mkdirSync(dirname(path), { recursive: true });
      appendFileSync(path, `${where} ${keyTypeOf(rawKey)} ${rawKey.toString('base64')}\n`, { mode: 0o600 });
      return true;
    },
  };
}
