// Chooses the publisher the configuration names (cloudInit.publish).
import type { Config } from '../config/schema.js';
import type { Logger } from '../log.js';
import { createBuiltinPublisher } from './builtin.js';
import { createSftpPublisher } from './sftp.js';
import { startNoCloudServer } from './nocloud-server.js';
import type { Publisher } from './port.js';

export { newSeedToken } from './token.js';

/** 'builtin' starts the NoCloud server too; closing the publisher stops it. */
export async function createPublisher(config: Config, logger: Logger): Promise<Publisher> {
  switch (config.cloudInit.publish) {
    case 'builtin': {
      const { listen, publicUrl, dir } = config.cloudInit.builtin;
      const server = await startNoCloudServer({ dir, host: listen.host, port: listen.port, logger });
      const publisher = createBuiltinPublisher({ dir, publicUrl });
      return {
        seedUrl: (target) => publisher.seedUrl(target),
        publish: (target, files) => publisher.publish(target, files),
        unpublish: (target) => publisher.unpublish(target),
        close: async () => {
          await publisher.close();
          await server.close();
        },
      };
    }
    case 'sftp': {
      // Upload to the folder the admins' nginx serves (src/cloudinit/sftp.ts).
      const sftp = config.cloudInit.sftp;
      if (!sftp) throw new Error('cloudInit.publish is "sftp" but cloudInit.sftp is missing');
      return createSftpPublisher({ ...sftp, logger });
    }
  }
}
