// An in-process SSH server (ssh2's Server) standing in for the Nomad host in tests: a host
// key generated per run, public-key auth for one user, `exec` through /bin/sh -c with the
// `nomad` shim first on PATH and NOMAD_ADDR pointing at the simulated cluster, an OpenSSH-like
// cap on concurrent channels (MaxSessions, freed a moment after close), an SFTP subsystem
// backed by a temp dir, and hooks to drop the connection mid-command.
import { spawn } from 'node:child_process';
import { closeSync, fstatSync, lstatSync, mkdirSync, openSync, readdirSync, readSync, renameSync, rmdirSync, statSync, unlinkSync, writeFileSync, writeSync, type Stats } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { dirname, join, normalize, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { timingSafeEqual } from 'node:crypto';
import ssh2, { type Attributes, type Connection, type ParsedKey, type SFTPWrapper } from 'ssh2';
import { fingerprintOf } from '../../src/nomad/ssh/hostkey.js';
import { makeTempDir } from './tmp.js';

const { Server, utils } = ssh2;
const { STATUS_CODE } = utils.sftp;

export const SHIM_DIR = resolve(dirname(fileURLToPath(import.meta.url)), 'nomad-shim');

export interface KeyPair {
  privateKey: string;
  publicKey: string;
  /** `SHA256:...` as `ssh-keygen -l` shows it. */
  fingerprint: string;
}

export function generateKeyPair(): KeyPair {
  // ssh2's generator drops a leading zero byte of the ed25519 public key now and then (about
  // 1 key in 300), writing a 31-byte key that parseKey then rejects: draw again.
  for (;;) {
    const { private: privateKey, public: publicKey } = utils.generateKeyPairSync('ed25519');
    const parsed = utils.parseKey(publicKey);
    const priv = utils.parseKey(privateKey);
    if (parsed instanceof Error || Array.isArray(parsed) || priv instanceof Error || Array.isArray(priv)) continue;
    return { privateKey, publicKey, fingerprint: fingerprintOf((parsed as ParsedKey).getPublicSSH()) };
  }
}

export interface TestSshServerOptions {
  /** The simulated cluster's URL, given to commands as NOMAD_ADDR. */
  nomadAddr: string;
  user?: string;
  /** OpenSSH's MaxSessions (default 10). */
  maxSessions?: number;
  /** OpenSSH frees a session slot a moment after the client sees the close. */
  slotFreeDelayMs?: number;
  /** false: the shim is not on PATH (`nomad` missing). */
  nomadOnPath?: boolean;
  /** Written to ~/.nomad-token (mode 600) in the user's home. */
  token?: string;
}

export interface TestSshServer {
  host: string;
  port: number;
  user: string;
  hostKey: KeyPair;
  clientKey: KeyPair;
  /** The user's home (token file, known data). */
  home: string;
  /** Root of the SFTP subsystem: remote "/x" is `${sftpRoot}/x`. */
  sftpRoot: string;
  /** Every exec'd command line, in order. */
  readonly commands: string[];
  /** Most channels open at once (open → close), as the client's cap sees them. */
  readonly maxOpenChannels: number;
  /** Most session slots taken at once: like OpenSSH, a slot is freed a moment after close. */
  readonly maxActiveChannels: number;
  readonly activeChannels: number;
  /** Channel opens refused because the cap was reached. */
  readonly refusedChannels: number;
  /** When it returns true for a command, the command runs but the connection drops before its exit status is sent. */
  dropAfterRun: ((command: string) => boolean) | undefined;
  /** Drops every connection now. */
  dropAll(): void;
  close(): Promise<void>;
}

function attrsOf(st: Stats): Attributes {
  return { mode: st.mode, uid: st.uid, gid: st.gid, size: st.size, atime: Math.floor(st.atimeMs / 1000), mtime: Math.floor(st.mtimeMs / 1000) };
}

function errnoStatus(err: unknown): number {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return STATUS_CODE.NO_SUCH_FILE;
  if (code === 'EACCES' || code === 'EPERM') return STATUS_CODE.PERMISSION_DENIED;
  return STATUS_CODE.FAILURE;
}

/** A minimal SFTP v3 server over a directory, enough for node-ssh/ssh2 clients. */
function serveSftp(sftp: SFTPWrapper, root: string): void {
  const local = (p: string) => join(root, normalize('/' + p));
  const files = new Map<number, number>();
  const dirs = new Map<number, { entries: string[]; path: string; done: boolean }>();
  let next = 1;
  const handle = (n: number) => {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(n);
    return b;
  };
  const guard = (reqId: number, fn: () => void) => {
    try {
      fn();
    } catch (err) {
      sftp.status(reqId, errnoStatus(err), (err as Error).message);
    }
  };
  sftp.on('OPEN', (reqId, filename, flags) =>
    guard(reqId, () => {
      const mode = utils.sftp.flagsToString(flags);
      if (!mode) return void sftp.status(reqId, STATUS_CODE.OP_UNSUPPORTED);
      const fd = openSync(local(filename), mode, 0o644);
      const id = next++;
      files.set(id, fd);
      sftp.handle(reqId, handle(id));
    }),
  );
  sftp.on('WRITE', (reqId, h, offset, data) =>
    guard(reqId, () => {
      const fd = files.get(h.readUInt32BE(0));
      if (fd === undefined) return void sftp.status(reqId, STATUS_CODE.FAILURE, 'bad handle');
      writeSync(fd, data, 0, data.length, offset);
      sftp.status(reqId, STATUS_CODE.OK);
    }),
  );
  sftp.on('READ', (reqId, h, offset, len) =>
    guard(reqId, () => {
      const fd = files.get(h.readUInt32BE(0));
      if (fd === undefined) return void sftp.status(reqId, STATUS_CODE.FAILURE, 'bad handle');
      const buf = Buffer.alloc(len);
      const n = readSync(fd, buf, 0, len, offset);
      if (n === 0) return void sftp.status(reqId, STATUS_CODE.EOF);
      sftp.data(reqId, buf.subarray(0, n));
    }),
  );
  sftp.on('FSTAT', (reqId, h) =>
    guard(reqId, () => {
      const fd = files.get(h.readUInt32BE(0));
      if (fd === undefined) return void sftp.status(reqId, STATUS_CODE.FAILURE, 'bad handle');
      sftp.attrs(reqId, attrsOf(fstatSync(fd)));
    }),
  );
  sftp.on('FSETSTAT', (reqId) => sftp.status(reqId, STATUS_CODE.OK));
  sftp.on('SETSTAT', (reqId) => sftp.status(reqId, STATUS_CODE.OK));
  sftp.on('CLOSE', (reqId, h) =>
    guard(reqId, () => {
      const id = h.readUInt32BE(0);
      const fd = files.get(id);
      if (fd !== undefined) closeSync(fd);
      files.delete(id);
      dirs.delete(id);
      sftp.status(reqId, STATUS_CODE.OK);
    }),
  );
  sftp.on('OPENDIR', (reqId, path) =>
    guard(reqId, () => {
      const entries = readdirSync(local(path));
      const id = next++;
      dirs.set(id, { entries, path, done: false });
      sftp.handle(reqId, handle(id));
    }),
  );
  sftp.on('READDIR', (reqId, h) =>
    guard(reqId, () => {
      const d = dirs.get(h.readUInt32BE(0));
      if (!d || d.done) return void sftp.status(reqId, STATUS_CODE.EOF);
      d.done = true;
      sftp.name(
        reqId,
        d.entries.map((filename) => ({ filename, longname: filename, attrs: attrsOf(lstatSync(join(local(d.path), filename))) })),
      );
    }),
  );
  sftp.on('STAT', (reqId, path) => guard(reqId, () => sftp.attrs(reqId, attrsOf(statSync(local(path))))));
  sftp.on('LSTAT', (reqId, path) => guard(reqId, () => sftp.attrs(reqId, attrsOf(lstatSync(local(path))))));
  sftp.on('MKDIR', (reqId, path) => guard(reqId, () => (mkdirSync(local(path)), sftp.status(reqId, STATUS_CODE.OK))));
  sftp.on('RMDIR', (reqId, path) => guard(reqId, () => (rmdirSync(local(path)), sftp.status(reqId, STATUS_CODE.OK))));
  sftp.on('REMOVE', (reqId, path) => guard(reqId, () => (unlinkSync(local(path)), sftp.status(reqId, STATUS_CODE.OK))));
  // rename(2) semantics (replaces the target), as many SFTP servers do.
  sftp.on('RENAME', (reqId, from, to) => guard(reqId, () => (renameSync(local(from), local(to)), sftp.status(reqId, STATUS_CODE.OK))));
  sftp.on('REALPATH', (reqId, path) => {
    const p = normalize('/' + path);
    sftp.name(reqId, [{ filename: p, longname: p, attrs: {} as Attributes }]);
  });
}

export async function startTestSshServer(opts: TestSshServerOptions): Promise<TestSshServer> {
  const user = opts.user ?? 'vmbot';
  const maxSessions = opts.maxSessions ?? 10;
  const freeDelay = opts.slotFreeDelayMs ?? 15;
  const hostKey = generateKeyPair();
  const clientKey = generateKeyPair();
  const allowed = utils.parseKey(clientKey.publicKey) as ParsedKey;
  const tmp = await makeTempDir('sshd-double');
  const home = join(tmp.dir, 'home');
  const sftpRoot = join(tmp.dir, 'sftp');
  mkdirSync(home);
  mkdirSync(sftpRoot);
  if (opts.token !== undefined) writeFileSync(join(home, '.nomad-token'), opts.token + '\n', { mode: 0o600 });
  const env: NodeJS.ProcessEnv = {
    PATH: `${opts.nomadOnPath === false ? '' : SHIM_DIR + ':'}${dirname(process.execPath)}:/usr/bin:/bin`,
    HOME: home,
    NOMAD_ADDR: opts.nomadAddr,
    LANG: 'C.UTF-8',
  };

  const commands: string[] = [];
  const connections = new Set<Connection>();
  let active = 0;
  let maxActive = 0;
  let open = 0;
  let maxOpen = 0;
  let refused = 0;

  const server = new Server({ hostKeys: [hostKey.privateKey] }, (client) => {
    connections.add(client);
    // Slots of sessions still open when the connection goes are freed with it.
    const openSessions = new Set<() => void>();
    client.on('close', () => {
      connections.delete(client);
      for (const free of openSessions) free();
    });
    client.on('error', () => {});
    client.on('authentication', (ctx) => {
      if (ctx.username !== user || ctx.method !== 'publickey') return ctx.reject(['publickey']);
      const key = ctx.key;
      const wanted = allowed.getPublicSSH();
      if (key.algo !== allowed.type || key.data.length !== wanted.length || !timingSafeEqual(key.data, wanted)) return ctx.reject(['publickey']);
      if (ctx.signature && ctx.blob && allowed.verify(ctx.blob, ctx.signature, ctx.hashAlgo) !== true) return ctx.reject(['publickey']);
      ctx.accept();
    });
    client.on('ready', () => {
      client.on('session', (accept, reject) => {
        if (active >= maxSessions) {
          refused++;
          return reject();
        }
        active++;
        open++;
        maxActive = Math.max(maxActive, active);
        maxOpen = Math.max(maxOpen, open);
        let freed = false;
        const free = () => {
          if (freed) return;
          freed = true;
          open--;
          setTimeout(() => active--, freeDelay);
        };
        const session = accept();
        session.on('close', free);
        openSessions.add(free);
        session.on('close', () => openSessions.delete(free));
        session.on('exec', (acceptExec, _reject, info) => {
          const stream = acceptExec();
          commands.push(info.command);
          const child = spawn('/bin/sh', ['-c', info.command], { env, cwd: home, stdio: ['pipe', 'pipe', 'pipe'] });
          stream.pipe(child.stdin).on('error', () => {});
          child.stdout.pipe(stream, { end: false });
          child.stderr.pipe(stream.stderr, { end: false });
          let outputsDone = 0;
          let exitCode: number | null = null;
          const finish = () => {
            if (outputsDone < 2 || exitCode === null) return;
            if (server_.dropAfterRun?.(info.command)) {
              // The command ran; the client never learns how it ended.
              client.end();
              return;
            }
            stream.exit(exitCode);
            stream.end();
          };
          child.stdout.on('end', () => (outputsDone++, finish()));
          child.stderr.on('end', () => (outputsDone++, finish()));
          child.on('exit', (code, signal) => {
            exitCode = code ?? (signal ? 128 : 1);
            finish();
          });
          stream.on('close', () => child.kill());
        });
        // ssh2 turns the "sftp" subsystem request into its own event.
        session.on('sftp', (acceptSftp) => serveSftp(acceptSftp(), sftpRoot));
      });
    });
  });

  await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
  const port = (server.address() as AddressInfo).port;

  const server_: TestSshServer = {
    host: '127.0.0.1',
    port,
    user,
    hostKey,
    clientKey,
    home,
    sftpRoot,
    commands,
    get maxOpenChannels() {
      return maxOpen;
    },
    get maxActiveChannels() {
      return maxActive;
    },
    get activeChannels() {
      return active;
    },
    get refusedChannels() {
      return refused;
    },
    dropAfterRun: undefined,
    dropAll() {
      for (const c of connections) c.end();
    },
    async close() {
      for (const c of connections) c.end();
      await new Promise<void>((res) => server.close(() => res()));
      await tmp.cleanup();
    },
  };
  return server_;
}

