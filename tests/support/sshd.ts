// Starts OpenSSH's real sshd on a loopback port with its own host key and config in a temp
// dir: the SSH adapter's tests run against the real server (MaxSessions, internal-sftp,
// SetEnv, its timing). Needs root and /usr/sbin/sshd — CI has both (.ci/run); anywhere else
// the tests that use it fail with a message saying so, they are never skipped.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { dirname, join } from 'node:path';
import ssh2, { type ParsedKey } from 'ssh2';
import { fingerprintOf } from '../../src/nomad/ssh/hostkey.js';
import { generateKeyPair, SHIM_DIR, type KeyPair } from './ssh-server.js';
import { makeTempDir } from './tmp.js';

export const SSHD_PATH = '/usr/sbin/sshd';

export interface SshdOptions {
  nomadAddr: string;
  /** Written to `~/.nomad-token` (mode 600) in the session's HOME; tokenFile gives its path. */
  token?: string;
  nomadOnPath?: boolean;
  maxSessions?: number;
}

export interface RealSshd {
  host: string;
  port: number;
  user: string;
  hostKey: Pick<KeyPair, 'publicKey' | 'fingerprint'>;
  clientKey: KeyPair;
  /** Temp dir: config, keys, the token file and an `sftp/` folder for uploads. */
  dir: string;
  tokenFile: string;
  sftpRoot: string;
  close(): Promise<void>;
}

/** Throws with what to do when this machine cannot run sshd (never a silent skip). */
export function assertSshdRunnable(): void {
  if (!existsSync(SSHD_PATH)) throw new Error(`${SSHD_PATH} is missing: install openssh-server (apt-get install openssh-server), as .ci/run does`);
  if (process.getuid?.() !== 0) throw new Error('the real-sshd tests need root (sshd must switch users and read its host keys); CI runs them as root');
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

async function waitForListen(port: number, child: ChildProcess, log: () => string, deadlineMs = 10_000): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`sshd exited with ${child.exitCode} before listening:\n${log()}`);
    const ok = await new Promise<boolean>((resolve) => {
      const sock = createConnection({ host: '127.0.0.1', port });
      sock.once('connect', () => (sock.destroy(), resolve(true)));
      sock.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`sshd did not listen on 127.0.0.1:${port} within ${deadlineMs} ms:\n${log()}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export async function startSshd(opts: SshdOptions): Promise<RealSshd> {
  assertSshdRunnable();
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  const tmp = await makeTempDir('sshd');
  const dir = tmp.dir;
  const hostKeyPath = join(dir, 'ssh_host_ed25519_key');
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', hostKeyPath]);
  chmodSync(hostKeyPath, 0o600);
  const hostPub = readFileSync(hostKeyPath + '.pub', 'utf8');
  const hostKey = { publicKey: hostPub, fingerprint: fingerprintOf((ssh2.utils.parseKey(hostPub) as ParsedKey).getPublicSSH()) };
  const clientKey = generateKeyPair();
  writeFileSync(join(dir, 'authorized_keys'), clientKey.publicKey + '\n', { mode: 0o600 });
  // HOME is the session's home: bash (root's shell) reads ~/.bashrc when sshd runs it, and a
  // developer's .bashrc can take seconds; the temp home has none. It also holds the token.
  const home = join(dir, 'home');
  mkdirSync(home);
  const tokenFile = join(home, '.nomad-token');
  if (opts.token !== undefined) writeFileSync(tokenFile, opts.token + '\n', { mode: 0o600 });
  const sftpRoot = join(dir, 'sftp');
  mkdirSync(sftpRoot);
  const path = `${opts.nomadOnPath === false ? '' : SHIM_DIR + ':'}${dirname(process.execPath)}:/usr/bin:/bin`;
  // freePort() closes the port before sshd binds it, so another process can take it in
  // between: sshd then exits with "Address already in use", and we try a fresh port.
  let started: { port: number; child: ChildProcess } | undefined;
  for (let attempt = 1; !started; attempt++) {
    const port = await freePort();
    const config = [
      `Port ${port}`,
      'ListenAddress 127.0.0.1',
      `HostKey ${hostKeyPath}`,
      `PidFile ${join(dir, 'sshd.pid')}`,
      `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
      'PermitRootLogin prohibit-password',
      'PubkeyAuthentication yes',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'StrictModes no',
      'UsePAM no',
      `MaxSessions ${opts.maxSessions ?? 10}`,
      'MaxStartups 100',
      `SetEnv PATH=${path} NOMAD_ADDR=${opts.nomadAddr} HOME=${home}`,
      'Subsystem sftp internal-sftp',
      'LogLevel ERROR',
    ].join('\n');
    const configPath = join(dir, 'sshd_config');
    writeFileSync(configPath, config + '\n');
    const child = spawn(SSHD_PATH, ['-f', configPath, '-D', '-e'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
    try {
      await waitForListen(port, child, () => stderr);
      started = { port, child };
    } catch (err) {
      child.kill();
      if (attempt < 3 && /Address already in use/i.test(stderr)) continue;
      await tmp.cleanup();
      throw err;
    }
  }
  const { port, child } = started;
  return {
    host: '127.0.0.1',
    port,
    user: 'root',
    hostKey,
    clientKey,
    dir,
    tokenFile,
    sftpRoot,
    async close() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
      await tmp.cleanup();
    },
  };
}
