// One persistent SSH connection (node-ssh) shared by every command: connects lazily,
// reconnects with backoff after a drop, caps concurrent channels with the shared Limit and
// retries a channel that OpenSSH refused because a session slot was not yet freed.
import { readFile } from 'node:fs/promises';
import { NodeSSH } from 'node-ssh';
import type { ClientChannel, SFTPWrapper } from 'ssh2';
import type { Logger } from '../../log.js';
import { createHostVerification, HostKeyMismatchError, type HostVerification } from './hostkey.js';
import { Limit } from '../../domain/limit.js';

export interface SshTarget {
  host: string;
  port: number;
  user: string;
  privateKeyPath?: string | undefined;
  privateKey?: string | Buffer | undefined;
  hostKeyFingerprint?: string | undefined;
  trustOnFirstUse?: boolean | undefined;
  knownHostsPath?: string | undefined;
}

export interface SshConnectionOptions extends SshTarget {
  /** Concurrent channels (exec + sftp). Default 6: OpenSSH's MaxSessions is 10. */
  maxChannels?: number | undefined;
  /** Handshake deadline per attempt. */
  readyTimeoutMs?: number | undefined;
  /** Connection attempts before giving up (transient failures only). */
  connectAttempts?: number | undefined;
  /** First backoff delay; doubles per attempt. */
  backoffMs?: number | undefined;
  logger?: Logger | undefined;
}

/** What failed, so callers (the adapter, `vmbot nomad check`) can say what to do. */
export type SshFailureKind = 'dns' | 'tcp' | 'hostkey' | 'auth' | 'timeout' | 'dropped' | 'channel' | 'key_file';

export class SshError extends Error {
  constructor(
    readonly kind: SshFailureKind,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'SshError';
  }
}

export interface ExecResult {
  /** Exit status; null only if the server sent none (then the command was killed by a signal). */
  code: number | null;
  signal: string | null;
  stdout: Buffer;
  stderr: string;
}

export interface ExecOptions {
  /** Written to the command's stdin, which is then closed (always closed, even when absent). */
  stdin?: string | undefined;
  timeoutMs?: number | undefined;
}

const CHANNEL_RETRY_DELAYS_MS = [25, 50, 100, 200, 400, 800];

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function classifyConnectError(err: unknown, verification: HostVerification, where: string): SshError {
  if (err instanceof SshError) return err;
  const e = err as NodeJS.ErrnoException & { level?: string };
  const message = e?.message ?? String(err);
  if (verification.refusal || /Host denied/.test(message)) {
    const refusal = verification.refusal ?? new Error(message);
    return new SshError('hostkey', refusal.message, { cause: refusal });
  }
  if (e.level === 'client-authentication' || /authentication methods failed/i.test(message)) {
    return new SshError('auth', `SSH login to ${where} was refused: check the user and that the public key of privateKeyPath is in its authorized_keys`, { cause: err });
  }
  if (e.code === 'ENOTFOUND' || e.code === 'EAI_AGAIN') {
    return new SshError('dns', `cannot resolve ${where}: ${e.code} (check the host name)`, { cause: err });
  }
  if (/Timed out while waiting for handshake/.test(message)) {
    return new SshError('timeout', `SSH handshake with ${where} timed out (is it an SSH server? is a firewall dropping packets?)`, { cause: err });
  }
  if (e.code === 'ECONNREFUSED' || e.code === 'EHOSTUNREACH' || e.code === 'ENETUNREACH' || e.code === 'ETIMEDOUT' || e.code === 'ECONNRESET') {
    return new SshError('tcp', `cannot connect to ${where}: ${e.code} (is sshd running and the port open?)`, { cause: err });
  }
  return new SshError('dropped', `SSH connection to ${where} failed: ${message}`, { cause: err });
}

const isRetryable = (err: SshError) => err.kind === 'tcp' || err.kind === 'dropped' || err.kind === 'timeout';

export class SshConnection {
  private readonly channels: Limit;
  private readonly verification: HostVerification;
  private readonly where: string;
  private current: Promise<NodeSSH> | undefined;
  /** The connection `current` resolved to, so a late close of an older one is ignored. */
  private live: NodeSSH | undefined;
  private closed = false;
  private connects = 0;
  private closes = 0;
  private channelRetries = 0;

  constructor(private readonly opts: SshConnectionOptions) {
    this.channels = new Limit(opts.maxChannels ?? 6);
    this.where = `${opts.user}@${opts.host}:${opts.port}`;
    this.verification = createHostVerification({
      host: opts.host,
      port: opts.port,
      fingerprint: opts.hostKeyFingerprint,
      trustOnFirstUse: opts.trustOnFirstUse,
      knownHostsPath: opts.knownHostsPath,
    });
  }

  /**
   * Channels in use now, at most ever, how many times vmbot (re)connected, how many of its
   * connections have reported their close, and how many channel opens the server refused
   * (each was waited out and retried).
   */
  stats(): { active: number; queued: number; maxActive: number; connects: number; closes: number; channelRetries: number } {
    return { active: this.channels.active, queued: this.channels.queued, maxActive: this.channels.maxActive, connects: this.connects, closes: this.closes, channelRetries: this.channelRetries };
  }

  /** The fingerprint the server presented on the last handshake. */
  get lastHostKey(): string | undefined {
    return this.verification.lastSeen;
  }

  /** Connects now (used by `vmbot nomad check`); later calls reuse the connection. */
  async connect(): Promise<void> {
    await this.session();
  }

  private async privateKey(): Promise<string | Buffer> {
    if (this.opts.privateKey) return this.opts.privateKey;
    if (!this.opts.privateKeyPath) throw new SshError('key_file', 'no SSH private key configured (privateKeyPath)');
    try {
      return await readFile(this.opts.privateKeyPath);
    } catch (err) {
      throw new SshError('key_file', `cannot read the SSH private key ${this.opts.privateKeyPath}: ${(err as NodeJS.ErrnoException).code ?? err} (check privateKeyPath and its permissions)`, { cause: err });
    }
  }

  private session(): Promise<NodeSSH> {
    if (this.closed) return Promise.reject(new SshError('dropped', `SSH connection to ${this.where} is closed`));
    if (!this.current) {
      const attempt = this.connectWithBackoff().then((ssh) => {
        if (this.current === attempt) this.live = ssh;
        return ssh;
      });
      this.current = attempt;
      // A failed attempt must not be cached: the next command tries again.
      attempt.catch(() => {
        if (this.current === attempt) this.current = undefined;
      });
    }
    return this.current;
  }

  private async connectWithBackoff(): Promise<NodeSSH> {
    const attempts = this.opts.connectAttempts ?? 4;
    let delay = this.opts.backoffMs ?? 200;
    for (let i = 1; ; i++) {
      try {
        return await this.connectOnce();
      } catch (err) {
        const failure = classifyConnectError(err, this.verification, this.where);
        if (!isRetryable(failure) || i >= attempts || this.closed) throw failure;
        this.opts.logger?.warn({ attempt: i, err: failure.message }, 'SSH connect failed; retrying');
        await sleep(delay);
        delay *= 2;
      }
    }
  }

  private async connectOnce(): Promise<NodeSSH> {
    const privateKey = await this.privateKey();
    const ssh = new NodeSSH();
    await ssh.connect({
      host: this.opts.host,
      port: this.opts.port,
      username: this.opts.user,
      privateKey: privateKey.toString(),
      hostVerifier: (key: Buffer) => this.verification.verify(key),
      readyTimeout: this.opts.readyTimeoutMs ?? 10_000,
      keepaliveInterval: 15_000,
      keepaliveCountMax: 3,
    });
    this.connects++;
    const client = ssh.connection!;
    // node-ssh only listens for errors while connecting; without this a later reset would
    // crash the process. A dropped connection is forgotten so the next command reconnects.
    const forget = () => {
      if (this.live !== ssh) return;
      this.live = undefined;
      this.current = undefined;
    };
    client.on('error', (err: Error) => {
      this.opts.logger?.warn({ err: err.message }, 'SSH connection error');
    });
    client.on('close', () => {
      this.closes++;
      ssh.connection = null;
      forget();
    });
    client.on('end', () => {
      ssh.connection = null;
      forget();
    });
    return ssh;
  }

  /** Runs one command on its own channel; stdin is always closed after `opts.stdin`. */
  async exec(command: string, opts: ExecOptions = {}): Promise<ExecResult> {
    return this.channels.run(async () => {
      for (let attempt = 0; ; attempt++) {
        const ssh = await this.session();
        try {
          return await this.execOn(ssh, command, opts);
        } catch (err) {
          // OpenSSH frees a session slot a moment after we see the channel close: wait, retry.
          if (err instanceof Error && /Channel open failure/.test(err.message) && attempt < CHANNEL_RETRY_DELAYS_MS.length) {
            this.channelRetries++;
            await sleep(CHANNEL_RETRY_DELAYS_MS[attempt]!);
            continue;
          }
          // The channel or its exec request failed because the connection went away (or the
          // server refused the request): the command never started, so running it again is safe.
          if (err instanceof Error && /Not connected|No response from server|Unable to exec|closed unexpectedly/i.test(err.message) && attempt < 3) {
            // Give a dying connection a moment to report its close before choosing one again.
            await sleep(25 * (attempt + 1));
            if (!ssh.isConnected() && this.live === ssh) {
              this.live = undefined;
              this.current = undefined;
            }
            continue;
          }
          throw err instanceof SshError ? err : new SshError('channel', `SSH channel to ${this.where} failed: ${(err as Error).message}`, { cause: err });
        }
      }
    });
  }

  private execOn(ssh: NodeSSH, command: string, opts: ExecOptions): Promise<ExecResult> {
    const stdout: Buffer[] = [];
    let channel: ClientChannel | undefined;
    let timer: NodeJS.Timeout | undefined;
    let timedOut = false;
    if (opts.timeoutMs) {
      timer = setTimeout(() => {
        timedOut = true;
        channel?.close();
      }, opts.timeoutMs);
    }
    return ssh
      .execCommand(command, {
        ...(opts.stdin !== undefined ? { stdin: opts.stdin } : {}),
        noTrim: true,
        onChannel: (c) => {
          channel = c;
        },
        onStdout: (chunk) => stdout.push(chunk),
      })
      .then((res) => {
        if (timedOut) throw new SshError('timeout', `command timed out after ${opts.timeoutMs} ms on ${this.where}`);
        // No exit status and no signal: the channel closed under us (connection dropped).
        if (res.code === null && res.signal === null) {
          throw new SshError('dropped', `the SSH connection to ${this.where} dropped while a command was running`);
        }
        return { code: res.code, signal: res.signal, stdout: Buffer.concat(stdout), stderr: res.stderr };
      })
      .finally(() => clearTimeout(timer));
  }

  /** Runs `fn` with an SFTP session that counts against the channel cap. */
  async withSftp<T>(fn: (sftp: SFTPWrapper) => Promise<T>): Promise<T> {
    return this.channels.run(async () => {
      for (let attempt = 0; ; attempt++) {
        const ssh = await this.session();
        let sftp: SFTPWrapper;
        try {
          sftp = await ssh.requestSFTP();
        } catch (err) {
          if (err instanceof Error && /Channel open failure/.test(err.message) && attempt < CHANNEL_RETRY_DELAYS_MS.length) {
            this.channelRetries++;
            await sleep(CHANNEL_RETRY_DELAYS_MS[attempt]!);
            continue;
          }
          throw new SshError('channel', `cannot open an SFTP session on ${this.where}: ${(err as Error).message} (is the sftp subsystem enabled in sshd_config?)`, { cause: err });
        }
        try {
          return await fn(sftp);
        } finally {
          sftp.end();
        }
      }
    });
  }

  /** Drops the current connection without closing the adapter: the next command reconnects. */
  async disconnect(): Promise<void> {
    const current = this.current;
    this.current = undefined;
    this.live = undefined;
    if (current) (await current.catch(() => undefined))?.connection?.end();
  }

  /** Whether a connection is open (or being opened) now. */
  get connected(): boolean {
    return this.current !== undefined;
  }

  async close(): Promise<void> {
    this.closed = true;
    const current = this.current;
    this.current = undefined;
    this.live = undefined;
    if (!current) return;
    try {
      (await current).dispose();
    } catch {
      // It never connected: nothing to close.
    }
  }
}

export { HostKeyMismatchError };
