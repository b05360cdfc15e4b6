// A VM's console made fit to show a member (`/vm logs`): the last N lines, terminal
// control sequences stripped, and nothing secret left in. What counts as secret:
// - a private key block (a guest printing one would be a leak, whatever printed it);
// - the strings the caller names, such as the seed token in the NoCloud seed URL that
//   cloud-init repeats on the console; each becomes "[redacted]";
// - user-data: the guest never echoes it, but a line that looks like cloud-config
//   content (`#cloud-config`, `ssh_authorized_keys`, `passwd:`) is dropped outright.
// SSH host keys and their fingerprints are public and stay. Pure: text in, lines out.

export const REDACTED = '[redacted]';

export interface ConsoleTailOptions {
  /** How many lines to keep from the end (after filtering). */
  lines: number;
  /** Strings never to show (seed tokens, ...); empty strings are ignored. */
  secrets?: readonly string[];
  /**
   * The text starts at an arbitrary byte (a tail read): its first line is a fragment,
   * possibly of a secret or a private key line, so it is dropped.
   */
  startsMidLine?: boolean;
}

// CSI (colours, cursor moves), OSC (titles, ended by BEL or ST), and two-byte escapes.
const ESCAPES_RE = /\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[ -/]*[0-~]|\x9b[0-?]*[ -/]*[@-~]/g;
// Every other C0/C1 control but tab and newline (a stray ESC included).
const CONTROLS_RE = /[\x00-\x08\x0b-\x1f\x7f-\x9f]/g;
const PRIVATE_BEGIN_RE = /-----BEGIN [A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----/;
const PRIVATE_END_RE = /-----END [A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----/;
const USER_DATA_RE = /#cloud-config|ssh_authorized_keys|passwd:/i;
/** A secret's head this long at the very end of the text (cut mid-print) is redacted too. */
const MIN_SECRET_FRAGMENT = 4;

/**
 * Removes terminal control sequences and characters, keeping tabs and line ends. A CR
 * inside a line means the terminal went back to the line start: only what was printed
 * after it shows, as on the screen.
 */
export function stripTerminalControls(text: string): string {
  return text
    .replace(ESCAPES_RE, '')
    .replace(/\r+\n/g, '\n')
    .split('\n')
    .map((line) => {
      const at = line.lastIndexOf('\r', line.length - 2);
      return (at >= 0 ? line.slice(at + 1) : line).replace(CONTROLS_RE, '');
    })
    .join('\n');
}

function redactSecrets(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) {
    if (!secret) continue;
    const forms = new Set([secret, encodeURIComponent(secret)]);
    for (const form of forms) out = out.split(form).join(REDACTED);
    // The console was read while the secret was being printed: its head ends the text.
    for (let n = Math.min(secret.length - 1, out.length); n >= MIN_SECRET_FRAGMENT; n--) {
      if (out.endsWith(secret.slice(0, n))) {
        out = out.slice(0, out.length - n) + REDACTED;
        break;
      }
    }
  }
  return out;
}

/** Lines with private key blocks replaced by one marker line; a block cut by either end of the text goes too. */
function dropPrivateKeys(lines: string[]): string[] {
  const out: string[] = [];
  let inKey = false;
  for (const line of lines) {
    if (!inKey && PRIVATE_BEGIN_RE.test(line)) {
      inKey = !PRIVATE_END_RE.test(line);
      out.push('[private key removed]');
      continue;
    }
    if (inKey) {
      if (PRIVATE_END_RE.test(line)) inKey = false;
      continue;
    }
    if (PRIVATE_END_RE.test(line)) {
      // The block began before the text did: everything so far was inside it.
      out.length = 0;
      out.push('[private key removed]');
      continue;
    }
    out.push(line);
  }
  return out;
}

/** The last `lines` lines of a console, fit to show (see the file comment). */
export function consoleTail(text: string, opts: ConsoleTailOptions): string[] {
  if (!Number.isInteger(opts.lines) || opts.lines < 0) throw new RangeError(`lines must be a non-negative integer, got ${opts.lines}`);
  const clean = redactSecrets(stripTerminalControls(text), opts.secrets ?? []);
  let lines = clean.split('\n');
  if (opts.startsMidLine) lines = lines.slice(1);
  if (lines.at(-1) === '') lines.pop(); // the text ended with a line end
  const kept = dropPrivateKeys(lines).filter((line) => !USER_DATA_RE.test(line));
  return opts.lines === 0 ? [] : kept.slice(-opts.lines);
}
