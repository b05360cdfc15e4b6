// Chooses the publisher the configuration names (cloudInit.publish).
import type { Config } from '../config/schema.js';
import type { Logger } from '../log.js';
import { createBuiltinPublisher } from './builtin.js';
import { createSftpPublisher } from './sftp.js';
import { startNoCloudServer } from './nocloud-server.js';
import type { Publisher } from './port.js';
import type { Component } from '../components.js';

export { newSeedToken } from './token.js';

/**
 * The publisher only writes files; for 'builtin' the server that serves them is a component
 * of its own (nocloudServerComponent), started by the process builder and nowhere else.
 */
export async function createPublisher(config: Config, logger: Logger): Promise<Publisher> {
  switch (config.cloudInit.publish) {
    case 'builtin': {
      const { publicUrl, dir } = config.cloudInit.builtin;
      return createBuiltinPublisher({ dir, publicUrl });
    }
    case 'sftp': {
      // Upload to the folder the admins' nginx serves (src/cloudinit/sftp.ts).
      const sftp = config.cloudInit.sftp;
      if (!sftp) throw new Error('cloudInit.publish is "sftp" but cloudInit.sftp is missing');
      return createSftpPublisher({ ...sftp, logger });
    }
  }
}

/** The port is taken: names the key to change. */
export class NoCloudListenError extends Error {
  constructor(host: string, port: number, cause: unknown) {
    const code = (cause as NodeJS.ErrnoException).code;
    super(
      `the NoCloud server (cloudInit.builtin.listen) cannot listen on ${host}:${port}: ${code === 'EADDRINUSE' ? 'the port is already in use' : (cause as Error).message}. ` +
        'Stop what uses it (another vmbot?), or set cloudInit.builtin.listen and cloudInit.builtin.publicUrl to another port',
      { cause },
    );
    this.name = 'NoCloudListenError';
  }
}

/** vmbot's NoCloud server as a component: serves <dir> at host:port until stopped. */
/** `publicUrl` is what guests are told when it differs from where the server listens (production). */
export function nocloudServerComponent(opts: { dir: string; host: string; port: number; publicUrl?: string; logger: Logger }): Component & { readonly url: string } {
  let server: Awaited<ReturnType<typeof startNoCloudServer>> | undefined;
  return {
    name: 'nocloud server',
    get url() {
      if (!server) throw new Error('the NoCloud server is not started');
      return server.url;
    },
    async start() {
      try {
        server = await startNoCloudServer({ dir: opts.dir, host: opts.host, port: opts.port, logger: opts.logger });
      } catch (err) {
        throw new NoCloudListenError(opts.host, opts.port, err);
      }
      return `cloud-init files served on ${server.url}${opts.publicUrl ? ` (public URL ${opts.publicUrl})` : ''}`;
    },
    async stop() {
      await server?.close();
      server = undefined;
    },
  };
}
