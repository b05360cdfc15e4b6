// Request ids: 10 characters of lower-case RFC 4648 base32 (50 random bits), short
// enough for button ids and job meta, random so that ids reveal nothing.
import { randomBytes } from 'node:crypto';

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz234567';
export const REQUEST_ID_RE = /^[a-z2-7]{10}$/;

export function newRequestId(): string {
  // 256 is a multiple of 32, so `byte & 31` is uniform.
  return Array.from(randomBytes(10), (byte) => ALPHABET[byte & 31]).join('');
}
