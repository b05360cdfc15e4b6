// The built-in publisher: writes a VM's NoCloud files under <dir>/<token>/, which
// nocloud-server.ts serves as <publicUrl>/nocloud/<token>/. Each file is replaced
// atomically (write a temporary file, then rename), so cloud-init never reads half a file.
import { randomBytes } from 'node:crypto';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { CloudInitFiles, Publisher, PublishTarget } from './port.js';
import { assertSeedToken } from './token.js';

export interface BuiltinPublisherOptions {
  dir: string;
  publicUrl: string;
}

export const NOCLOUD_FILES = ['meta-data', 'user-data', 'vendor-data'] as const;
export type NoCloudFile = (typeof NOCLOUD_FILES)[number];

async function writeAtomically(path: string, content: string): Promise<void> {
  const temp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    await writeFile(temp, content, { mode: 0o600 });
    await rename(temp, path);
  } catch (err) {
    await rm(temp, { force: true });
    throw err;
  }
}

export function createBuiltinPublisher(opts: BuiltinPublisherOptions): Publisher {
  // One trailing slash, whatever the configuration wrote.
  const base = opts.publicUrl.replace(/\/+$/, '');
  const folder = (target: PublishTarget) => join(opts.dir, assertSeedToken(target.seedToken));

  return {
    seedUrl(target) {
      return `${base}/nocloud/${assertSeedToken(target.seedToken)}/`;
    },

    async publish(target, files: CloudInitFiles) {
      const dir = folder(target);
      await mkdir(dir, { recursive: true, mode: 0o700 });
      await writeAtomically(join(dir, 'meta-data'), files.metaData);
      await writeAtomically(join(dir, 'user-data'), files.userData);
      // No vendor-data: remove an older copy; the server then answers an empty file.
      if (files.vendorData === undefined) await rm(join(dir, 'vendor-data'), { force: true });
      else await writeAtomically(join(dir, 'vendor-data'), files.vendorData);
    },

    async unpublish(target) {
      await rm(folder(target), { recursive: true, force: true });
    },

    async close() {},
  };
}
