// Bolt App construction. The transports are Bolt's own receivers: Socket Mode (default;
// no public URL, suits a server behind NAT) with the app-level token, or HTTP with the
// signing secret (Bolt verifies the HMAC and refuses a timestamp over 5 minutes old with 401;
// replay-guard.ts in front of it refuses one over 5 minutes ahead and a replayed signature).
// The HTTP receiver listens on `slack.listen` (127.0.0.1:3000 unless configured).
// `slack.apiUrl` reaches every Web API client, including the Socket Mode client's own,
// which calls apps.connections.open with the app-level token: Bolt hands that client
// `installerOptions.clientOptions`, not the App's `clientOptions`.
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { App, HTTPReceiver, SocketModeReceiver, type Receiver } from '@slack/bolt';
import type { webApi } from '@slack/bolt';
import type { Config } from '../../config/schema.js';
import type { Logger } from '../../log.js';
import { boltLogger } from './bolt-logger.js';
import { slackError } from './slack-error.js';
import { ReplayCache, guardRequests } from './replay-guard.js';

/** Tests tune the Socket Mode client (e.g. no reconnect delay); production uses Bolt's defaults. */
export interface SocketModeTuning {
  autoReconnectEnabled?: boolean;
  clientPingTimeout?: number;
  serverPingTimeout?: number;
}

export interface BoltAppOptions {
  config: NonNullable<Config['slack']>;
  botToken: string;
  appToken?: string | undefined;
  signingSecret?: string | undefined;
  logger: Logger;
  socketModeOptions?: SocketModeTuning | undefined;
  /** Extra WebClient options (tests: retryConfig); slackApiUrl always comes from config. */
  clientOptions?: Omit<webApi.WebClientOptions, 'slackApiUrl' | 'logger'> | undefined;
}

export interface BoltApp {
  app: App;
  /** Starts the receiver; in HTTP mode resolves with the URL Slack must post to. */
  start(): Promise<{ url?: string }>;
  stop(): Promise<void>;
}

/** Slack's token kinds by prefix: a token pasted into the wrong variable fails here, by name, not in a retry loop. */
export function checkTokens(opts: Pick<BoltAppOptions, 'config' | 'botToken' | 'appToken'>): void {
  if (!opts.botToken.startsWith('xoxb-')) throw new Error('SLACK_BOT_TOKEN must be the Bot User OAuth Token (starts with xoxb-), from OAuth & Permissions');
  if (opts.config.mode === 'socket' && opts.appToken && !opts.appToken.startsWith('xapp-')) {
    throw new Error('SLACK_APP_TOKEN must be an app-level token (starts with xapp-, scope connections:write), from Basic Information → App-Level Tokens');
  }
}

export function createBoltApp(opts: BoltAppOptions): BoltApp {
  checkTokens(opts);
  const logger = boltLogger(opts.logger);
  const clientOptions: webApi.WebClientOptions = { ...opts.clientOptions, slackApiUrl: opts.config.apiUrl };
  let receiver: Receiver;
  if (opts.config.mode === 'socket') {
    if (!opts.appToken) throw new Error('slack.mode is "socket" but SLACK_APP_TOKEN (an app-level xapp- token with connections:write) is not set');
    receiver = new SocketModeReceiver({
      appToken: opts.appToken,
      logger,
      // A copy: the Socket Mode client writes its own retry policy into the object it is given.
      installerOptions: { clientOptions: { ...clientOptions } },
      ...opts.socketModeOptions,
    });
  } else {
    if (!opts.signingSecret) throw new Error('slack.mode is "http" but SLACK_SIGNING_SECRET is not set');
    const endpoints = ['/slack/events'];
    const http = new HTTPReceiver({ signingSecret: opts.signingSecret, endpoints, port: opts.config.listen.port, logger });
    // Bolt's server calls `requestListener` per request, so the guard goes in front of it.
    http.requestListener = guardRequests(http.requestListener, {
      signingSecret: opts.signingSecret,
      endpoints,
      cache: new ReplayCache(),
      onRefused: (reason) => opts.logger.warn({ reason }, reason === 'full' ? 'Slack request refused: replay cache full' : `Slack request refused: ${reason === 'future' ? 'timestamp more than 5 minutes ahead' : 'signature already used'}`),
    });
    receiver = http;
  }
  // Deferred: Bolt's own auth.test then runs in start() (awaited, errors reported by name)
  // instead of as a floating promise in the constructor.
  const app = new App({ receiver, token: opts.botToken, logger, clientOptions, deferInitialization: true });

  return {
    app,
    async start() {
      // Fail fast on a revoked or mistyped bot token, before any member presses anything.
      try {
        await app.init();
      } catch (err) {
        throw new Error(`Slack refused SLACK_BOT_TOKEN (auth.test: ${slackError(err) ?? (err as Error).message}); reinstall the app or copy the token again`, { cause: err });
      }
      const { host, port } = opts.config.listen;
      const started: unknown = opts.config.mode === 'http' ? await app.start({ host, port }) : await app.start();
      if (opts.config.mode === 'http' && started && typeof (started as Server).address === 'function') {
        const address = (started as Server).address() as AddressInfo;
        // A wildcard bind is reached on loopback too; an IPv6 literal needs brackets in a URL.
        const shown = address.address === '0.0.0.0' || address.address === '::' ? '127.0.0.1' : address.family === 'IPv6' ? `[${address.address}]` : address.address;
        return { url: `http://${shown}:${address.port}/slack/events` };
      }
      return {};
    },
    async stop() {
      await app.stop();
    },
  };
}
