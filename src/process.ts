// The composition root's one builder: the ordered components of a vmbot process. Production
// (main.ts), local mode (local.ts) and the process-level tests all start vmbot through
// these, so a port is bound by exactly one component and everything stops in reverse.
//
//   production: nocloud server (builtin publishing) → core → each ready chat platform of
//               src/chat/platforms.ts (slack, discord) → web console → resume
//   local mode: simulated cluster → nocloud server → core → web console → resume
import type { ChatAdapter } from './chat/adapter.js';
import type { ChatPlatform } from './chat/platform.js';
import type { WebConsole, WebConsoleOptions } from './chat/web/index.js';
import type { Config } from './config/schema.js';
import type { Secrets } from './config/secrets.js';
import type { Logger } from './log.js';
import { buildCore, type BuildCoreOptions, type Core } from './app.js';
import { checkFailed, checkOk, type CheckResult, type Component } from './components.js';

/** The core (store, renderer, Nomad port, publisher, workflow) as a component; `core()` is valid once started. */
export interface CoreComponent extends Component {
  core(): Core;
}

/**
 * `options` is read when the component starts, so it may use URLs of components started before it.
 * `check`: what `vmbot doctor` runs for the core's ports (database, Nomad, publishing) without starting it.
 */
export function coreComponent(options: () => BuildCoreOptions, check?: (timeoutMs: number) => Promise<CheckResult[]>): CoreComponent {
  let core: Core | undefined;
  return {
    name: 'core',
    ...(check ? { check } : {}),
    core() {
      if (!core) throw new Error('the core is not started');
      return core;
    },
    async start() {
      core = await buildCore(options());
    },
    async stop() {
      await core?.close();
    },
  };
}

/**
 * A chat platform's adapter (src/chat/platform.ts), made from the started core: attached to the
 * workflow, then started. Its check is the platform's own (`vmbot doctor`), which also runs
 * when secrets are missing (it says what it could not check).
 */
export function chatComponent<Section>(platform: ChatPlatform<Section>, settings: { section: Section; secrets: Secrets; logger: Logger }, core: CoreComponent): Component {
  const { section, secrets, logger } = settings;
  let adapter: ChatAdapter | undefined;
  return {
    name: platform.name,
    async start() {
      adapter = await platform.create({ section, secrets, workflow: core.core().workflow, logger });
      core.core().workflow.attachSurface(adapter);
      await adapter.start();
      return platform.describe(section);
    },
    check: (timeoutMs) => platform.check(section, secrets, timeoutMs),
    async stop() {
      await adapter?.stop();
    },
  };
}

type WebSettings = Pick<WebConsoleOptions, 'mode' | 'simulated' | 'logger'> & { token?: string; config: () => Config };

/** The web console on web.listen: local mode's whole UI, or production's read-only view. */
export function webConsoleComponent(settings: WebSettings, core: CoreComponent): Component & { readonly url: string } {
  let web: WebConsole | undefined;
  return {
    name: 'web console',
    // Production's console refuses every request without its token.
    ...(settings.mode === 'production'
      ? {
          check: async () => [
            settings.token
              ? checkOk('web console: token', 'VMBOT_WEB_TOKEN set')
              : checkFailed('web console: token', 'web.enabled is true but VMBOT_WEB_TOKEN is not set', 'set VMBOT_WEB_TOKEN (e.g. `openssl rand -hex 32`), or set web.enabled: false'),
          ],
        }
      : {}),
    get url() {
      if (!web) throw new Error('the web console is not started');
      return web.url;
    },
    async start() {
      const { createWebConsole } = await import('./chat/web/index.js');
      const config = settings.config();
      const { workflow, store } = core.core();
      web = await createWebConsole({
        workflow,
        store,
        config,
        mode: settings.mode,
        host: config.web.listen.host,
        port: config.web.listen.port,
        ...(settings.token ? { token: settings.token } : {}),
        logger: settings.logger,
        simulated: settings.simulated,
      });
      await web.start();
      // Local mode: the console is the chat surface (member notices, cards).
      if (settings.mode === 'local') workflow.attachSurface(web);
      return settings.mode === 'local' ? `web console on ${web.url}` : `read-only web console on ${web.url} (token required)`;
    },
    async stop() {
      await web?.stop();
    },
  };
}

/** Last: picks up requests a previous run left half-done, once every surface can be told. */
export function resumeComponent(core: CoreComponent): Component {
  return {
    name: 'resume',
    async start() {
      await core.core().workflow.resume();
    },
    async stop() {},
  };
}
