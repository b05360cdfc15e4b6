// The unguessable path segment under which the built-in NoCloud server publishes a VM's
// files (DESIGN §4): 160 random bits as 32 lower-case base32 characters.
import { randomBytes } from 'node:crypto';

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz234567';
const TOKEN_RE = /^[a-z0-9]{26,64}$/;

/** A fresh token: 20 random bytes (160 bits) in RFC 4648 base32, lower case, no padding. */
export function newSeedToken(): string {
  const bytes = randomBytes(20);
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += ALPHABET[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
    value &= (1 << bits) - 1;
  }
  return out;
}

/** Tokens we accept in paths: 26-64 lower-case letters and digits (no dots, no slashes). */
export function isSeedToken(token: string): boolean {
  return TOKEN_RE.test(token);
}

export function assertSeedToken(token: string): string {
  if (!isSeedToken(token)) throw new Error('seed token must be 26-64 lower-case letters or digits (use newSeedToken())');
  return token;
}
