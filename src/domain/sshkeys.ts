// SSH public keys as members paste them: parsed, checked and re-serialised (DESIGN §4).
// Pure: no I/O. We read the OpenSSH wire format ourselves (RFC 4253 §6.6, RFC 5656,
// PROTOCOL.u2f) because the check is small and must stay inside domain/, which imports
// no SSH library. What comes out is `type base64 [comment]` and nothing else, so a
// pasted line can never smuggle authorized_keys options or YAML into user-data.
import { fail, ok, problem, type Problem, type Result } from './problem.js';

const FIELD = 'sshKeys';

/** At most this many keys per request (authorized_keys stays readable). */
export const MAX_KEYS = 10;
/** RSA moduli shorter than this are refused (OpenSSH itself refuses < 1024; NIST wants 2048). */
export const MIN_RSA_BITS = 2048;
/** Longer moduli are refused to bound the work and the size of user-data. */
export const MAX_RSA_BITS = 16384;
const MAX_COMMENT = 100;
const MAX_TEXT = 64 * 1024;

type KeyShape =
  | { kind: 'ed25519'; sk: boolean }
  | { kind: 'ecdsa'; curve: 'nistp256' | 'nistp384' | 'nistp521'; sk: boolean }
  | { kind: 'rsa' };

/** The key types we accept, by the name that starts the line (and the wire blob). */
const KEY_TYPES: Readonly<Record<string, KeyShape>> = {
  'ssh-ed25519': { kind: 'ed25519', sk: false },
  'sk-ssh-ed25519@openssh.com': { kind: 'ed25519', sk: true },
  'ecdsa-sha2-nistp256': { kind: 'ecdsa', curve: 'nistp256', sk: false },
  'ecdsa-sha2-nistp384': { kind: 'ecdsa', curve: 'nistp384', sk: false },
  'ecdsa-sha2-nistp521': { kind: 'ecdsa', curve: 'nistp521', sk: false },
  'sk-ecdsa-sha2-nistp256@openssh.com': { kind: 'ecdsa', curve: 'nistp256', sk: true },
  'ssh-rsa': { kind: 'rsa' },
};

/** Uncompressed EC point sizes (0x04 || X || Y). */
const EC_POINT_BYTES = { nistp256: 65, nistp384: 97, nistp521: 133 } as const;

const ACCEPTED = 'ssh-ed25519, ecdsa-sha2-nistp256/384/521, ssh-rsa (2048 bits or more), sk-ssh-ed25519@openssh.com or sk-ecdsa-sha2-nistp256@openssh.com';

const LATIN1 = new TextDecoder('latin1');

/** Reads SSH wire-format fields; every read is bounds-checked and returns null past the end. */
class WireReader {
  private offset = 0;
  constructor(private readonly buf: Uint8Array) {}

  bytes(): Uint8Array | null {
    if (this.offset + 4 > this.buf.length) return null;
    const b = this.buf;
    const o = this.offset;
    const len = ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
    if (this.offset + 4 + len > this.buf.length) return null;
    const out = this.buf.subarray(this.offset + 4, this.offset + 4 + len);
    this.offset += 4 + len;
    return out;
  }

  string(): string | null {
    const b = this.bytes();
    return b === null ? null : LATIN1.decode(b);
  }

  get done(): boolean {
    return this.offset === this.buf.length;
  }
}

/** Bit length of an SSH mpint (big-endian two's complement; a leading 0x00 keeps it positive). */
function mpintBits(mpint: Uint8Array): number {
  let i = 0;
  while (i < mpint.length && mpint[i] === 0) i++;
  if (i === mpint.length) return 0;
  return (mpint.length - i - 1) * 8 + (32 - Math.clz32(mpint[i]!));
}

const BASE64_RE = /^[A-Za-z0-9+/]+={0,2}$/;

function decodeBase64(text: string): Uint8Array | null {
  if (!BASE64_RE.test(text) || text.length % 4 !== 0) return null;
  const bytes = Buffer.from(text, 'base64');
  // Round-trip: refuses non-canonical padding bits and anything Buffer silently skipped.
  return bytes.toString('base64') === text ? new Uint8Array(bytes) : null;
}

/** Why the blob is not a key of `type`, or null when it is one. */
function checkBlob(type: string, shape: KeyShape, blob: Uint8Array): string | null {
  const r = new WireReader(blob);
  const inner = r.string();
  if (inner === null) return 'the key data is truncated';
  if (inner !== type) return `the line says ${type} but the key data is ${printable(inner)}: the key was edited or two keys were mixed up`;
  switch (shape.kind) {
    case 'ed25519': {
      const pk = r.bytes();
      if (pk === null || pk.length !== 32) return 'the Ed25519 key data is not 32 bytes';
      break;
    }
    case 'ecdsa': {
      const curve = r.string();
      if (curve !== shape.curve) return `the key data names curve ${printable(curve ?? '(none)')}, not ${shape.curve}`;
      const q = r.bytes();
      if (q === null || q.length !== EC_POINT_BYTES[shape.curve] || q[0] !== 0x04) return `the ${shape.curve} point is malformed`;
      break;
    }
    case 'rsa': {
      const e = r.bytes();
      const n = r.bytes();
      if (e === null || n === null || mpintBits(e) < 2) return 'the RSA key data is truncated';
      const bits = mpintBits(n);
      if (bits < MIN_RSA_BITS) return `this RSA key has ${bits} bits; at least ${MIN_RSA_BITS} are required (make a new one with: ssh-keygen -t ed25519)`;
      if (bits > MAX_RSA_BITS) return `this RSA key has ${bits} bits; at most ${MAX_RSA_BITS} are accepted`;
      return r.done ? null : 'the key data has trailing bytes';
    }
  }
  if (shape.sk) {
    const application = r.string();
    if (application === null || application.length === 0) return 'the security-key application is missing';
  }
  return r.done ? null : 'the key data has trailing bytes';
}

/** Only characters that mean nothing to YAML, HCL, shells or chat markup survive in a comment. */
export function safeComment(comment: string): string {
  return comment
    .replace(/\s+/g, ' ')
    .replace(/[^A-Za-z0-9@._+=:,\- ]+/g, '')
    .replace(/ +/g, ' ')
    .trim()
    .slice(0, MAX_COMMENT)
    .trim();
}

function printable(s: string): string {
  return JSON.stringify(s.length > 40 ? `${s.slice(0, 40)}…` : s);
}

const PRIVATE_KEY_RE = /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----|^PuTTY-User-Key-File-|^-----BEGIN OPENSSH PRIVATE KEY/m;
const FOREIGN_PUBLIC_RE = /^---- BEGIN SSH2 PUBLIC KEY ----|^-----BEGIN (RSA )?PUBLIC KEY-----/m;

/**
 * Parses one or more OpenSSH public keys, one per line (blank lines and `#` comments are
 * skipped, duplicates dropped). Returns the normalised `type base64 [comment]` lines, or
 * every problem found, each naming its line.
 */
export function parseSshKeys(text: string): Result<string[]> {
  if (text.length > MAX_TEXT) {
    return fail(problem('invalid_ssh_key', `The SSH key text is too long (${text.length} characters). Paste only your public key(s), one per line.`, FIELD));
  }
  if (PRIVATE_KEY_RE.test(text)) {
    return fail(
      problem(
        'private_key_pasted',
        'That is a PRIVATE key: never share it. Paste the public key instead, the contents of the `.pub` file (e.g. ~/.ssh/id_ed25519.pub), and consider making a new key pair since this one has been exposed.',
        FIELD,
      ),
    );
  }
  if (FOREIGN_PUBLIC_RE.test(text)) {
    return fail(problem('invalid_ssh_key', 'That public key is in PEM/RFC 4716 format. Convert it to one OpenSSH line with `ssh-keygen -i -f KEYFILE` (or paste your `.pub` file).', FIELD));
  }

  const keys: string[] = [];
  const seen = new Set<string>();
  const problems: Problem[] = [];
  const lines = text.split(/\r?\n|\r/);
  // Problems name their line only when there is more than one to tell apart.
  const numbered = lines.filter((l) => l.trim() !== '').length > 1;
  lines.forEach((raw, index) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const where = numbered ? `Line ${index + 1}: ` : '';
    const [type = '', data, ...rest] = line.split(/\s+/);
    const shape = KEY_TYPES[type];
    if (!shape) {
      const hint = /^(ssh-dss|ssh-rsa-cert|.*-cert-v01@openssh\.com)$/.test(type)
        ? `${printable(type)} keys are not accepted`
        : line.includes(' ssh-') || line.includes(' ecdsa-') || line.includes(' sk-')
          ? 'remove anything before the key type (authorized_keys options are not accepted)'
          : `it does not start with a key type`;
      problems.push(problem('invalid_ssh_key', `${where}this is not an SSH public key we accept: ${hint}. Accepted types: ${ACCEPTED}. Paste the contents of your \`.pub\` file.`, FIELD));
      return;
    }
    const blob = data === undefined ? null : decodeBase64(data);
    if (blob === null) {
      problems.push(problem('invalid_ssh_key', `${where}the ${type} key data is missing or not valid base64; copy the whole line of your \`.pub\` file again.`, FIELD));
      return;
    }
    const why = checkBlob(type, shape, blob);
    if (why !== null) {
      problems.push(problem('invalid_ssh_key', `${where}${why}.`, FIELD));
      return;
    }
    const comment = safeComment(rest.join(' '));
    const normalised = comment ? `${type} ${data} ${comment}` : `${type} ${data}`;
    if (seen.has(`${type} ${data}`)) return;
    seen.add(`${type} ${data}`);
    keys.push(normalised);
  });

  if (problems.length > 0) return fail(...problems);
  if (keys.length === 0) {
    return fail(problem('invalid_ssh_key', 'Paste at least one SSH public key: the contents of your `.pub` file (e.g. ~/.ssh/id_ed25519.pub).', FIELD));
  }
  if (keys.length > MAX_KEYS) {
    return fail(problem('invalid_ssh_key', `At most ${MAX_KEYS} SSH keys can be added to one VM; you pasted ${keys.length}.`, FIELD));
  }
  return ok(keys);
}
