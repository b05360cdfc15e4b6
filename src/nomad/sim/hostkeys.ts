// The SSH host keys a simulated guest "generates" on its first boot: one set per
// allocation's disk (a reboot keeps them; a new allocation, whose disk is fresh from the
// image, gets new ones). Public halves only: nobody logs in to a simulated VM.
//
// ed25519 and ECDSA P-256 keys are real key pairs (node:crypto, microseconds each). The
// RSA 3072 key is a well-formed `ssh-rsa` public key blob with a random odd modulus:
// generating a real one costs 0.2-2 s of CPU per VM, which 50 VMs booting at once in a
// test cannot afford, and no one verifies a signature with a simulated host key.
import { createHash, generateKeyPairSync, randomBytes } from 'node:crypto';

export interface SimHostKey {
  /** The key type as in a .pub file / known_hosts: ssh-ed25519, ecdsa-sha2-nistp256, ssh-rsa. */
  type: string;
  /** What `ssh-keygen -l` prints in brackets: ED25519, ECDSA, RSA. */
  label: string;
  bits: number;
  /** The public key blob, base64 (the second field of a .pub line). */
  blob: string;
  /** `SHA256:` + unpadded base64 of the blob's SHA-256, as `ssh-keygen -l` prints it. */
  fingerprint: string;
}

/** SSH wire format: a uint32 length, then the bytes. */
function sshString(data: Buffer | string): Buffer {
  const bytes = typeof data === 'string' ? Buffer.from(data) : data;
  const len = Buffer.alloc(4);
  len.writeUInt32BE(bytes.length);
  return Buffer.concat([len, bytes]);
}

/** SSH mpint of a positive big-endian number: a leading zero byte when the top bit is set. */
function mpint(bytes: Buffer): Buffer {
  return sshString(bytes[0]! & 0x80 ? Buffer.concat([Buffer.from([0]), bytes]) : bytes);
}

export function fingerprintOf(blob: Buffer): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

function hostKey(type: string, label: string, bits: number, blob: Buffer): SimHostKey {
  return { type, label, bits, blob: blob.toString('base64'), fingerprint: fingerprintOf(blob) };
}

function ed25519(): SimHostKey {
  const jwk = generateKeyPairSync('ed25519').publicKey.export({ format: 'jwk' });
  const blob = Buffer.concat([sshString('ssh-ed25519'), sshString(Buffer.from(jwk.x!, 'base64url'))]);
  return hostKey('ssh-ed25519', 'ED25519', 256, blob);
}

function ecdsa(): SimHostKey {
  const jwk = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'jwk' });
  const point = Buffer.concat([Buffer.from([4]), Buffer.from(jwk.x!, 'base64url'), Buffer.from(jwk.y!, 'base64url')]);
  const blob = Buffer.concat([sshString('ecdsa-sha2-nistp256'), sshString('nistp256'), sshString(point)]);
  return hostKey('ecdsa-sha2-nistp256', 'ECDSA', 256, blob);
}

function rsaShaped(): SimHostKey {
  const modulus = randomBytes(384);
  modulus[0] = modulus[0]! | 0x80; // exactly 3072 bits
  modulus[383] = modulus[383]! | 1; // odd, like any RSA modulus
  const blob = Buffer.concat([sshString('ssh-rsa'), mpint(Buffer.from([0x01, 0x00, 0x01])), mpint(modulus)]);
  return hostKey('ssh-rsa', 'RSA', 3072, blob);
}

/**
 * Debian 12's sshd host keys, in the order `/etc/ssh/ssh_host_*key.pub` globs (ecdsa,
 * ed25519, rsa): the order cloud-init's write-ssh-key-fingerprints prints them in.
 */
export function generateHostKeys(): SimHostKey[] {
  return [ecdsa(), ed25519(), rsaShaped()];
}
