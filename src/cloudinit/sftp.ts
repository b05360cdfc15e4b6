// `cloudInit.publish: sftp`: uploads a VM's NoCloud files into the folder the admins' nginx
// serves (/storage/nomad/vm-resources/<vm>/ → http://.../res/<vm>/). Each file is written
// under a temporary name and renamed over the old one, so cloud-init never reads half a file.
import { randomBytes } from 'node:crypto';
import { posix } from 'node:path';
import type { SFTPWrapper } from 'ssh2';
import { VmbotError } from '../domain/problem.js';
import type { Logger } from '../log.js';
import { SshConnection, type SshTarget } from '../nomad/ssh/connection.js';
import type { CloudInitFiles, Publisher, PublishTarget } from './port.js';

export interface SftpPublisherOptions extends SshTarget {
  /** Remote folder holding one sub-folder per VM. */
  dir: string;
  /** URL under which nginx serves `dir` (the seed URL is `<publicUrl>/<vm>/`). */
  publicUrl: string;
  maxChannels?: number | undefined;
  logger?: Logger | undefined;
}

export interface SftpPublisher extends Publisher {
  readonly connection: SshConnection;
}

const VM_NAME_RE = /^[a-z0-9][a-z0-9-]{0,62}$/;
const FILE_NAMES = { metaData: 'meta-data', userData: 'user-data', vendorData: 'vendor-data' } as const;
/** SFTP status 2 (SSH_FX_NO_SUCH_FILE). */
const NO_SUCH_FILE = 2;

function call<T = void>(fn: (cb: (err: Error | null | undefined, value?: T) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => fn((err, value) => (err ? reject(err) : resolve(value as T))));
}

const isNoSuchFile = (err: unknown) => (err as { code?: unknown }).code === NO_SUCH_FILE;

/** mkdir -p over SFTP: creates each missing component, tolerates ones that exist. */
async function mkdirP(sftp: SFTPWrapper, dir: string): Promise<void> {
  let path = dir.startsWith('/') ? '/' : '';
  for (const part of dir.split('/').filter(Boolean)) {
    path = posix.join(path, part);
    try {
      await call((cb) => sftp.stat(path, (err) => cb(err)));
    } catch (err) {
      if (!isNoSuchFile(err)) throw err;
      try {
        await call((cb) => sftp.mkdir(path, cb));
      } catch (mkErr) {
        // Someone else created it in between: fine.
        await call((cb) => sftp.stat(path, (err) => cb(err))).catch(() => Promise.reject(mkErr));
      }
    }
  }
}

/**
 * Replaces `to` with `from` in one step. OpenSSH's plain SFTP rename refuses to overwrite,
 * so use its posix-rename extension when offered; otherwise rename, and only if the target
 * is in the way remove it first (a short window without the file, never a partial file).
 */
async function replace(sftp: SFTPWrapper, from: string, to: string): Promise<void> {
  try {
    await call((cb) => sftp.ext_openssh_rename(from, to, cb));
    return;
  } catch (err) {
    if (!/does not support/.test((err as Error).message)) throw err;
  }
  try {
    await call((cb) => sftp.rename(from, to, cb));
  } catch {
    await call((cb) => sftp.unlink(to, cb)).catch((err) => (isNoSuchFile(err) ? undefined : Promise.reject(err)));
    await call((cb) => sftp.rename(from, to, cb));
  }
}

async function removeIfPresent(sftp: SFTPWrapper, path: string): Promise<void> {
  await call((cb) => sftp.unlink(path, cb)).catch((err) => (isNoSuchFile(err) ? undefined : Promise.reject(err)));
}

export function createSftpPublisher(opts: SftpPublisherOptions): SftpPublisher {
  const connection = new SshConnection({ ...opts, maxChannels: opts.maxChannels ?? 2 });
  const base = opts.publicUrl.replace(/\/+$/, '');

  function vmDir(target: PublishTarget): string {
    // The name becomes a path on the admins' server: refuse anything that could leave `dir`.
    if (!VM_NAME_RE.test(target.vmName)) throw new VmbotError('publish_failed', `VM name ${JSON.stringify(target.vmName)} cannot be a folder name`, 'name');
    return posix.join(opts.dir, target.vmName);
  }

  function failure(what: string, err: unknown): VmbotError {
    if (err instanceof VmbotError) return err;
    return new VmbotError('publish_failed', `could not ${what} the cloud-init files over SFTP on ${opts.host}: ${(err as Error).message} (check cloudInit.sftp and that ${opts.user} may write to ${opts.dir})`, 'cloudInit.sftp', { cause: err });
  }

  return {
    connection,

    seedUrl(target: PublishTarget): string {
      if (!VM_NAME_RE.test(target.vmName)) throw new VmbotError('publish_failed', `VM name ${JSON.stringify(target.vmName)} cannot be a folder name`, 'name');
      return `${base}/${target.vmName}/`;
    },

    async publish(target: PublishTarget, files: CloudInitFiles): Promise<void> {
      const dir = vmDir(target);
      try {
        await connection.withSftp(async (sftp) => {
          await mkdirP(sftp, dir);
          for (const [key, name] of Object.entries(FILE_NAMES) as Array<[keyof CloudInitFiles, string]>) {
            const content = files[key];
            const final = posix.join(dir, name);
            if (content === undefined) {
              // vendor-data is optional; an older copy must not outlive this publish.
              await removeIfPresent(sftp, final);
              continue;
            }
            const temp = posix.join(dir, `.${name}.${randomBytes(6).toString('hex')}.tmp`);
            await call((cb) => sftp.writeFile(temp, content, { mode: 0o644 }, cb));
            await replace(sftp, temp, final);
          }
        });
        opts.logger?.info({ vm: target.vmName, dir }, 'cloud-init files published over SFTP');
      } catch (err) {
        throw failure('publish', err);
      }
    },

    async unpublish(target: PublishTarget): Promise<void> {
      const dir = vmDir(target);
      try {
        await connection.withSftp(async (sftp) => {
          let names: string[];
          try {
            names = (await call<Array<{ filename: string }>>((cb) => sftp.readdir(dir, cb))).map((e) => e.filename);
          } catch (err) {
            if (isNoSuchFile(err)) return;
            throw err;
          }
          // Only our files (and our temp files): anything else an admin put there stays, and so does the folder.
          const ours = names.filter((n) => Object.values(FILE_NAMES).some((f) => n === f || (n.startsWith(`.${f}.`) && n.endsWith('.tmp'))));
          for (const name of ours) await removeIfPresent(sftp, posix.join(dir, name));
          if (ours.length === names.length) {
            await call((cb) => sftp.rmdir(dir, cb)).catch((err) => (isNoSuchFile(err) ? undefined : Promise.reject(err)));
          }
        });
      } catch (err) {
        throw failure('remove', err);
      }
    },

    close: () => connection.close(),
  };
}
