// The publisher's check (`vmbot doctor`): publishes a test file through the configured
// publisher and fetches it back from the public URL, as a guest would. With builtin
// publishing it serves the file itself, or through a running vmbot that holds the port.
import type { Config } from '../config/schema.js';
import type { Logger } from '../log.js';
import { checkFailed as fail, checkOk as ok, type CheckResult, type Component } from '../components.js';
import { createPublisher, nocloudServerComponent } from './index.js';
import type { Publisher } from './port.js';
import { newSeedToken } from './token.js';

/** Publishes a test file through the configured publisher and fetches it back from the public URL. */
export async function checkPublishing(config: Config, logger: Logger, timeoutMs: number): Promise<CheckResult> {
  const what = `cloud-init publishing (${config.cloudInit.publish})`;
  const publicUrl = config.cloudInit.publish === 'builtin' ? config.cloudInit.builtin.publicUrl : config.cloudInit.sftp?.publicUrl;
  const target = { requestId: 'doctor', vmName: 'vmbot-doctor', seedToken: newSeedToken() };
  const metaData = `instance-id: vmbot-doctor-${target.seedToken}\nlocal-hostname: vmbot-doctor\n`;
  let publisher: Publisher;
  let servedBy = 'this check';
  let server: Component | undefined;
  try {
    publisher = await createPublisher(config, logger);
  } catch (err) {
    return fail(what, (err as Error).message, 'check cloudInit.* in the config');
  }
  if (config.cloudInit.publish === 'builtin') {
    const { listen, dir, publicUrl: builtinUrl } = config.cloudInit.builtin;
    const candidate = nocloudServerComponent({ dir, host: listen.host, port: listen.port, publicUrl: builtinUrl, logger });
    try {
      await candidate.start();
      server = candidate;
    } catch (err) {
      // `vmbot serve` holds the NoCloud port: publish into its folder and fetch through it.
      if (((err as Error).cause as NodeJS.ErrnoException | undefined)?.code !== 'EADDRINUSE') return fail(what, (err as Error).message, 'check cloudInit.builtin.listen');
      servedBy = 'the running vmbot';
    }
  }
  try {
    await publisher.publish(target, { metaData, userData: '#cloud-config\n' });
    const url = `${publisher.seedUrl(target)}meta-data`;
    let res: Response;
    try {
      res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    } catch (err) {
      const hint = config.cloudInit.publish === 'builtin' ? 'is `vmbot serve` running (it serves the files), and does cloudInit.builtin.publicUrl reach it?' : 'does cloudInit.sftp.publicUrl point at the web server that publishes cloudInit.sftp.dir?';
      return fail(what, `published, but ${url} cannot be fetched: ${(err as Error).cause instanceof Error ? ((err as Error).cause as Error).message : (err as Error).message}`, hint);
    }
    const body = await res.text();
    if (res.status !== 200 || body !== metaData) {
      return fail(what, `published, but ${url} answered ${res.status}${res.status === 200 ? ' with other content' : ''}`, `make ${publicUrl ?? 'the public URL'} serve the published folder`);
    }
    return ok(what, `a test file was published and fetched back from ${publicUrl} (served by ${servedBy})`);
  } catch (err) {
    return fail(what, `publishing a test file failed: ${(err as Error).message}`, 'check the folder/SFTP settings under cloudInit');
  } finally {
    await publisher.unpublish(target).catch(() => undefined);
    await publisher.close().catch(() => undefined);
    await server?.stop().catch(() => undefined);
  }
}
