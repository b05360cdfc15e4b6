// The SSH host keys a guest prints on its console. cloud-init's keys_to_console module
// runs write-ssh-key-fingerprints on the first boot of an instance, which prints
//
//   <14>Nov 25 14:30:13 cloud-init: #############################################################
//   <14>Nov 25 14:30:13 cloud-init: -----BEGIN SSH HOST KEY FINGERPRINTS-----
//   <14>Nov 25 14:30:13 cloud-init: 256 SHA256:<base64> root@host (ED25519)
//   <14>Nov 25 14:30:13 cloud-init: -----END SSH HOST KEY FINGERPRINTS-----
//   ...
//   -----BEGIN SSH HOST KEY KEYS-----
//   ssh-ed25519 AAAA... root@host
//   -----END SSH HOST KEY KEYS-----
//
// with whatever prefix the way to the console adds (syslog's `<PRI>date tag: `, an older
// `ec2: ` tag, journald's `[ uptime] cloud-init[pid]: `). Pure: text in, keys out.

export interface HostKeyFingerprint {
  /** As ssh-keygen prints it in brackets: ED25519, ECDSA, RSA, DSA. */
  type: string;
  bits: number;
  /** `SHA256:<base64>` (or an old `MD5:aa:bb:...`). */
  fingerprint: string;
  /** Usually `root@<hostname>`; empty when the key has none. */
  comment: string;
}

export interface HostPublicKey {
  /** ssh-ed25519, ecdsa-sha2-nistp256, ssh-rsa, ... */
  type: string;
  /** The base64 key blob. */
  key: string;
  comment: string;
}

export interface HostKeys {
  fingerprints: HostKeyFingerprint[];
  publicKeys: HostPublicKey[];
}

const FP_BEGIN = '-----BEGIN SSH HOST KEY FINGERPRINTS-----';
const FP_END = '-----END SSH HOST KEY FINGERPRINTS-----';
const KEYS_BEGIN = '-----BEGIN SSH HOST KEY KEYS-----';
const KEYS_END = '-----END SSH HOST KEY KEYS-----';

// Matched after whatever prefix the line has: the content's own shape is specific enough.
const FINGERPRINT_RE = /(?:^|\s)(\d{3,5}) (SHA256:[A-Za-z0-9+/]{43}=?|MD5(?::[0-9a-f]{2}){16}) (.*?) ?\(([A-Z0-9-]+)\)$/;
const PUBLIC_KEY_RE = /(?:^|\s)(ssh-ed25519|ssh-rsa|ssh-dss|ecdsa-sha2-nistp(?:256|384|521)|sk-ssh-ed25519@openssh\.com|sk-ecdsa-sha2-nistp256@openssh\.com) (AAAA[A-Za-z0-9+/]+={0,2})(?: (\S.*))?$/;
// CSI sequences and other control characters a console may carry around the text.
const CONTROLS_RE = /\x1b\[[0-?]*[ -/]*[@-~]|[\x00-\x08\x0b-\x1f\x7f]/g;

/** The key type a blob names in its first field; undefined when it is not an SSH key blob. */
function blobType(base64: string): string | undefined {
  let bytes: string;
  try {
    bytes = atob(base64.slice(0, 64 - (64 % 4)));
  } catch {
    return undefined;
  }
  const len = ((bytes.charCodeAt(0) << 24) | (bytes.charCodeAt(1) << 16) | (bytes.charCodeAt(2) << 8) | bytes.charCodeAt(3)) >>> 0;
  if (len === 0 || len > 40 || bytes.length < 4 + len) return undefined;
  return bytes.slice(4, 4 + len);
}

type Section = 'none' | 'fingerprints' | 'keys';

/**
 * Reads host key blocks from console text fed in any pieces (lines may be split across
 * reads). The result is the last complete pair of blocks seen: a rebuilt guest that
 * printed new keys later in the same log wins over the old ones.
 */
export class HostKeyScanner {
  private partial = '';
  private section: Section = 'none';
  private fingerprints: HostKeyFingerprint[] = [];
  private publicKeys: HostPublicKey[] = [];
  private lastFingerprints: HostKeyFingerprint[] | undefined;
  private lastPublicKeys: HostPublicKey[] | undefined;

  push(text: string): void {
    const lines = (this.partial + text).split('\n');
    this.partial = lines.pop() ?? '';
    for (const line of lines) this.line(line);
  }

  /** Treats what is left as a last line (the console ended). */
  end(): void {
    if (this.partial) this.line(this.partial);
    this.partial = '';
  }

  /** Both blocks, once each was seen whole; otherwise what was seen whole, or undefined for nothing. */
  get result(): HostKeys | undefined {
    if (!this.lastFingerprints && !this.lastPublicKeys) return undefined;
    return { fingerprints: [...(this.lastFingerprints ?? [])], publicKeys: [...(this.lastPublicKeys ?? [])] };
  }

  private line(raw: string): void {
    const line = raw.replace(CONTROLS_RE, '').trimEnd();
    if (line.includes(FP_BEGIN)) return this.open('fingerprints');
    if (line.includes(KEYS_BEGIN)) return this.open('keys');
    if (line.includes(FP_END)) {
      if (this.section === 'fingerprints') this.lastFingerprints = this.fingerprints;
      return this.open('none');
    }
    if (line.includes(KEYS_END)) {
      if (this.section === 'keys') this.lastPublicKeys = this.publicKeys;
      return this.open('none');
    }
    if (this.section === 'fingerprints') {
      const m = FINGERPRINT_RE.exec(line);
      if (m) this.fingerprints.push({ bits: Number(m[1]), fingerprint: m[2]!, comment: m[3] === 'no comment' ? '' : m[3]!, type: m[4]! });
    } else if (this.section === 'keys') {
      const m = PUBLIC_KEY_RE.exec(line);
      // A blob whose own type field disagrees is a garbled line, not a key.
      if (m && blobType(m[2]!) === m[1]) this.publicKeys.push({ type: m[1]!, key: m[2]!, comment: m[3] ?? '' });
    }
  }

  private open(section: Section): void {
    this.section = section;
    if (section === 'fingerprints') this.fingerprints = [];
    if (section === 'keys') this.publicKeys = [];
  }
}

/** The host keys in a whole console text, or undefined when it has no complete block. */
export function parseHostKeys(consoleText: string): HostKeys | undefined {
  const scanner = new HostKeyScanner();
  scanner.push(consoleText);
  scanner.end();
  return scanner.result;
}

/**
 * known_hosts lines for a guest's address (`10.0.0.5 ssh-ed25519 AAAA...`); a port other
 * than 22 is written `[address]:port`, as ssh looks it up. Comments are left out: they
 * are the guest's words, not needed to verify it.
 */
export function knownHostsLines(address: string, keys: readonly HostPublicKey[], port = 22): string[] {
  if (!/^[0-9A-Za-z.:%-]+$/.test(address)) throw new RangeError(`not an address for known_hosts: ${JSON.stringify(address)}`);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new RangeError(`not a port: ${port}`);
  const host = port === 22 ? address : `[${address}]:${port}`;
  return keys.map((k) => `${host} ${k.type} ${k.key}`);
}
