// The Slack double (ONE for every test, strict): an HTTP server that speaks Slack's Web API
// wire format (form or JSON bodies, Bearer tokens, `{ok:false,error}`), checks arguments the
// way Slack does (tokens of the right kind, known channels, Block Kit limits, trigger_ids
// that expire after 3 s and are single-use), records every call, and drives the app the way
// Slack does: correctly signed HTTP posts (slash commands, block_actions, view_submission),
// or Socket Mode envelopes over a websocket whose acks it records.
//
// Payloads start from the recorded fixtures in tests/fixtures/slack/ and get their ids
// patched in, probot-style. A button can only be pressed if it is in the message as the
// double last stored it, and a button with a `confirm` needs `confirmed: true`, as in the client.
import { createHmac, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';

const FIXTURES = new URL('../fixtures/slack/', import.meta.url);
const fixture = <T>(name: string): T => JSON.parse(readFileSync(new URL(name, FIXTURES), 'utf8')) as T;

type Json = Record<string, unknown>;

export interface SlackDoubleOptions {
  botToken?: string;
  appToken?: string;
  signingSecret?: string;
  /** Milliseconds clock (trigger_id expiry, signature timestamps). */
  now?: () => number;
  /** The bot token's OAuth scopes, sent in the `x-oauth-scopes` header of bot-token calls as Slack does. */
  scopes?: string[];
}

export interface RecordedCall {
  method: string;
  args: Json;
  /** Which kind of token was presented ('bot' | 'app' | 'unknown' | 'none'), never the token itself. */
  tokenKind: 'bot' | 'app' | 'unknown' | 'none';
  contentType: string;
  response: Json;
}

export interface StoredMessage {
  channel: string;
  ts: string;
  text: string;
  blocks: Json[];
  /** Every version the message had (the first post, then each chat.update). */
  history: Array<{ text: string; blocks: Json[] }>;
  /** Set for ephemeral messages: the only user who sees them. */
  ephemeralTo?: string;
}

export interface OpenedView {
  id: string;
  user: string;
  view: Json;
}

export interface Delivery {
  status: number;
  /** The HTTP response body (JSON parsed when it is JSON) or the Socket Mode ack's payload. */
  body: unknown;
}

export interface DeliveryOptions {
  /** Sets X-Slack-Retry-Num (HTTP) or retry_attempt (Socket Mode). */
  retryNum?: number;
  /** HTTP only: sign with the wrong secret. */
  badSignature?: boolean;
  /** HTTP only: shift the signed timestamp (seconds; negative = in the past). */
  timestampSkewSeconds?: number;
  /** HTTP only: sign with exactly this timestamp (seconds), e.g. to post a captured request again. */
  timestamp?: number;
}

/** A signed HTTP post as it went out: enough to post the very same request again. */
export interface SignedPost {
  url: string;
  body: string;
  timestamp: number;
  signature: string;
}

export interface ResponseUrlPost {
  user: string;
  channel: string;
  body: Json;
}

interface Trigger {
  user: string;
  issuedAt: number;
  used: boolean;
}

const BOT_USER = 'U0BOT0000';
const BOT_ID = 'B0VMBOT00';
const TEAM = 'T0VMBOT00';
const TRIGGER_TTL_MS = 3_000;

export class SlackDouble {
  readonly botToken: string;
  readonly appToken: string;
  readonly signingSecret: string;
  readonly calls: RecordedCall[] = [];
  readonly views: OpenedView[] = [];
  readonly responseUrlPosts: ResponseUrlPost[] = [];
  /** Socket Mode acks received: envelope id → ack payload. */
  readonly acks: Array<{ envelopeId: string; payload: unknown }> = [];
  /** HTTP mode: every signed post sent, in order (a replay test posts one of them again). */
  readonly signedPosts: SignedPost[] = [];
  /** How long a trigger_id stays usable (Slack: 3 s). Tests lower it to play a slow app. */
  triggerTtlMs = TRIGGER_TTL_MS;

  private readonly now: () => number;
  private readonly server: Server;
  private readonly wss: WebSocketServer;
  private port = 0;
  private readonly channels = new Map<string, { members: Set<string>; botMember: boolean; messages: StoredMessage[] }>();
  private readonly users = new Map<string, string>();
  private readonly usergroups = new Map<string, string[]>();
  private readonly triggers = new Map<string, Trigger>();
  private readonly responseUrls = new Map<string, { user: string; channel: string; uses: number; issuedAt: number }>();
  private readonly ephemerals: StoredMessage[] = [];
  private readonly tickets = new Set<string>();
  private socket: WebSocket | undefined;
  private socketWaiters: Array<() => void> = [];
  private readonly pendingAcks = new Map<string, (payload: unknown) => void>();
  private readonly callListeners = new Set<() => void>();
  private target: { mode: 'http'; url: string } | { mode: 'socket' } | undefined;
  private seq = 0;
  private readonly scopes: string[];

  private constructor(opts: SlackDoubleOptions) {
    this.scopes = opts.scopes ?? ['commands', 'chat:write', 'im:write', 'usergroups:read', 'channels:read', 'groups:read'];
    this.botToken = opts.botToken ?? 'xoxb-0000000001-test-bot-token';
    this.appToken = opts.appToken ?? 'xapp-1-A0VMBOT00-0001-test-app-token';
    this.signingSecret = opts.signingSecret ?? '8f742231b10e8888abcd99yyyzzz85a5';
    this.now = opts.now ?? Date.now;
    this.server = createServer((req, res) => void this.route(req, res));
    this.wss = new WebSocketServer({ noServer: true });
    this.server.on('upgrade', (req, socket, head) => {
      const url = new URL(req.url ?? '/', 'http://double');
      const ticket = url.searchParams.get('ticket') ?? '';
      if (url.pathname !== '/link/' || !this.tickets.delete(ticket)) {
        socket.end('HTTP/1.1 401 Unauthorized\r\n\r\n');
        return;
      }
      this.wss.handleUpgrade(req, socket, head, (ws) => this.onSocket(ws));
    });
  }

  static async start(opts: SlackDoubleOptions = {}): Promise<SlackDouble> {
    const double = new SlackDouble(opts);
    await new Promise<void>((resolve) => double.server.listen(0, '127.0.0.1', resolve));
    double.port = (double.server.address() as AddressInfo).port;
    return double;
  }

  /** Base URL for the app's `slack.apiUrl`. */
  get apiUrl(): string {
    return `http://127.0.0.1:${this.port}/api/`;
  }

  // ---- world setup -------------------------------------------------------------------

  addUser(id: string, name = id.toLowerCase()): this {
    this.users.set(id, name);
    return this;
  }

  /** A channel; the bot is a member unless told otherwise (then posting fails with not_in_channel). */
  addChannel(id: string, opts: { members?: string[]; botMember?: boolean } = {}): this {
    this.channels.set(id, { members: new Set(opts.members ?? []), botMember: opts.botMember ?? true, messages: [] });
    return this;
  }

  setUsergroup(id: string, members: string[]): this {
    this.usergroups.set(id, [...members]);
    return this;
  }

  /** Someone deletes a message in the client (e.g. an admin removes a card). */
  removeMessage(channel: string, ts: string): boolean {
    const messages = this.channels.get(channel)?.messages;
    const i = messages?.findIndex((m) => m.ts === ts) ?? -1;
    if (!messages || i < 0) return false;
    messages.splice(i, 1);
    return true;
  }

  // ---- what happened -----------------------------------------------------------------

  callsTo(method: string): RecordedCall[] {
    return this.calls.filter((c) => c.method === method);
  }

  messagesIn(channel: string): StoredMessage[] {
    return this.channels.get(channel)?.messages ?? [];
  }

  message(channel: string, ts: string): StoredMessage | undefined {
    return this.messagesIn(channel).find((m) => m.ts === ts);
  }

  /** Messages the bot sent to a user's DM channel. */
  dmsTo(user: string): StoredMessage[] {
    return this.messagesIn(`D${user}`);
  }

  ephemeralsFor(user: string): StoredMessage[] {
    return this.ephemerals.filter((m) => m.ephemeralTo === user);
  }

  /** Resolves on the next recorded Web API call (tests poll a condition with it, no sleeps). */
  async waitFor<T>(check: () => T | undefined | false, timeoutMs = 5_000, what = 'condition'): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = check();
      if (value !== undefined && value !== false) return value;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`slack double: timed out waiting for ${what}`);
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          this.callListeners.delete(done);
          resolve();
        };
        const timer = setTimeout(done, Math.min(left, 100));
        this.callListeners.add(done);
      });
    }
  }

  // ---- driving the app ---------------------------------------------------------------

  /** Where deliveries go: the app's HTTP endpoint, or the Socket Mode connection it opened. */
  deliverTo(target: { mode: 'http'; url: string } | { mode: 'socket' }): void {
    this.target = target;
  }

  /** How many Socket Mode connections the app has opened so far. */
  socketConnections = 0;

  /** Slack recycles connections: sends `disconnect` (the client is expected to reconnect). */
  requestReconnect(reason: 'refresh_requested' | 'link_disabled' | 'warning' = 'refresh_requested'): void {
    this.socket?.send(JSON.stringify({ type: 'disconnect', reason, debug_info: { host: 'applink-double' } }));
  }

  /** Resolves once the app has connected over Socket Mode and received `hello`. */
  socketConnected(timeoutMs = 5_000): Promise<void> {
    if (this.socket) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('slack double: the app did not open a Socket Mode connection')), timeoutMs);
      this.socketWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /** `/vm TEXT` typed by `user` in `channel`. */
  slashCommand(args: { user: string; text: string; channel?: string }, opts: DeliveryOptions = {}): Promise<Delivery> {
    const channel = args.channel ?? 'C0GENERAL';
    const form = { ...fixture<Record<string, string>>('slash-command.json') };
    delete form['_comment'];
    Object.assign(form, {
      user_id: args.user,
      user_name: this.users.get(args.user) ?? args.user.toLowerCase(),
      channel_id: channel,
      text: args.text,
      trigger_id: this.issueTrigger(args.user),
      response_url: this.issueResponseUrl(args.user, channel),
    });
    return this.deliver('slash_commands', form, opts);
  }

  /** `user` presses the button `actionId` in a stored message (channel message or ephemeral). */
  pressButton(args: { user: string; message: StoredMessage; actionId: string; confirmed?: boolean }, opts: DeliveryOptions = {}): Promise<Delivery> {
    const { message, user } = args;
    if (message.ephemeralTo && message.ephemeralTo !== user) throw new Error(`slack double: ${user} cannot see an ephemeral message shown to ${message.ephemeralTo}`);
    if (!message.ephemeralTo) {
      const ch = this.channels.get(message.channel);
      if (!ch?.members.has(user)) throw new Error(`slack double: ${user} is not in ${message.channel} and cannot see its messages`);
    }
    let found: { block: Json; element: Json } | undefined;
    for (const block of message.blocks) {
      const elements = block['type'] === 'actions' ? (block['elements'] as Json[]) : block['accessory'] ? [block['accessory'] as Json] : [];
      for (const element of elements) if (element['action_id'] === args.actionId) found = { block, element };
    }
    if (!found) throw new Error(`slack double: no button ${args.actionId} in message ${message.ts} (it shows: ${actionIds(message.blocks).join(', ') || 'no buttons'})`);
    if (found.element['confirm'] && !args.confirmed) throw new Error(`slack double: button ${args.actionId} asks for confirmation first; pass confirmed: true`);
    const kind = args.actionId.replace(/^vm:/, '');
    const base = fixture<Json>(['approve', 'deny', 'retry', 'delete'].includes(kind) ? `block-actions.${kind}.json` : 'block-actions.approve.json');
    delete base['_comment'];
    const name = this.users.get(user) ?? user.toLowerCase();
    const payload: Json = {
      ...base,
      user: { id: user, username: name, name, team_id: TEAM },
      container: { type: 'message', message_ts: message.ts, channel_id: message.channel, is_ephemeral: Boolean(message.ephemeralTo) },
      channel: { id: message.channel, name: message.channel.toLowerCase() },
      trigger_id: this.issueTrigger(user),
      response_url: this.issueResponseUrl(user, message.channel),
      actions: [
        {
          action_id: args.actionId,
          block_id: found.block['block_id'] ?? 'auto',
          text: found.element['text'],
          value: found.element['value'],
          ...(found.element['style'] ? { style: found.element['style'] } : {}),
          type: 'button',
          action_ts: this.ts(),
        },
      ],
    };
    if (message.ephemeralTo) delete payload['message'];
    else payload['message'] = { type: 'message', user: BOT_USER, bot_id: BOT_ID, ts: message.ts, text: message.text, blocks: message.blocks };
    return this.deliver('interactive', payload, opts);
  }

  /**
   * `user` submits an opened modal. `values` maps block_id → typed text, or the option value
   * for a select (it must be one of the select's options, as in the client).
   */
  submitView(args: { user: string; view: OpenedView; values: Record<string, string> }, opts: DeliveryOptions = {}): Promise<Delivery> {
    const { view } = args;
    if (view.user !== args.user) throw new Error(`slack double: the modal ${view.id} was opened for ${view.user}, not ${args.user}`);
    const blocks = (view.view['blocks'] as Json[]) ?? [];
    const state: Record<string, Record<string, Json>> = {};
    for (const block of blocks) {
      if (block['type'] !== 'input') continue;
      const blockId = String(block['block_id']);
      const element = block['element'] as Json;
      const actionId = String(element['action_id']);
      const given = args.values[blockId];
      if (element['type'] === 'static_select') {
        const options = (element['options'] as Json[]) ?? [];
        const initial = element['initial_option'] as Json | undefined;
        const chosen = given === undefined ? initial : options.find((o) => o['value'] === given);
        if (given !== undefined && !chosen) throw new Error(`slack double: ${given} is not an option of ${blockId}`);
        state[blockId] = { [actionId]: { type: 'static_select', selected_option: chosen ?? null } };
      } else {
        const value = given ?? (element['initial_value'] as string | undefined) ?? null;
        const max = element['max_length'] as number | undefined;
        if (value !== null && max !== undefined && value.length > max) throw new Error(`slack double: the client refuses more than ${max} characters in ${blockId}`);
        state[blockId] = { [actionId]: { type: String(element['type']), value } };
      }
    }
    for (const key of Object.keys(args.values)) if (!state[key]) throw new Error(`slack double: the modal has no input block ${key}`);
    const callback = String(view.view['callback_id'] ?? '');
    const base = fixture<Json>(callback === 'vm:deny' ? 'view-submission.deny-reason.json' : 'view-submission.request.json');
    delete base['_comment'];
    const name = this.users.get(args.user) ?? args.user.toLowerCase();
    const payload: Json = {
      ...base,
      user: { id: args.user, username: name, name, team_id: TEAM },
      trigger_id: this.issueTrigger(args.user),
      view: {
        ...(base['view'] as Json),
        ...view.view,
        id: view.id,
        root_view_id: view.id,
        callback_id: callback,
        private_metadata: view.view['private_metadata'] ?? '',
        state: { values: state },
      },
    };
    return this.deliver('interactive', payload, opts);
  }

  /** The last modal opened for `user` (by views.open). */
  lastViewFor(user: string): OpenedView | undefined {
    return [...this.views].reverse().find((v) => v.user === user);
  }

  /** Sends an arbitrary payload (e.g. a replayed or hand-edited one). */
  deliver(type: 'slash_commands' | 'interactive', payload: Json, opts: DeliveryOptions = {}): Promise<Delivery> {
    if (!this.target) throw new Error('slack double: call deliverTo() first');
    if (this.target.mode === 'socket') return this.deliverOverSocket(type, payload, opts);
    const body = type === 'slash_commands' ? new URLSearchParams(payload as Record<string, string>).toString() : new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
    return this.postSigned(this.target.url, body, opts);
  }

  /** HTTP mode: posts a body signed as Slack signs it (v0=HMAC-SHA256 of `v0:ts:body`). */
  async postSigned(url: string, body: string, opts: DeliveryOptions = {}): Promise<Delivery> {
    const timestamp = opts.timestamp ?? Math.floor(this.now() / 1000) + (opts.timestampSkewSeconds ?? 0);
    const secret = opts.badSignature ? `${this.signingSecret}-forged` : this.signingSecret;
    const signature = 'v0=' + createHmac('sha256', secret).update(`v0:${timestamp}:${body}`).digest('hex');
    this.signedPosts.push({ url, body, timestamp, signature });
    const headers: Record<string, string> = {
      'content-type': 'application/x-www-form-urlencoded',
      'x-slack-request-timestamp': String(timestamp),
      'x-slack-signature': signature,
    };
    if (opts.retryNum !== undefined) {
      headers['x-slack-retry-num'] = String(opts.retryNum);
      headers['x-slack-retry-reason'] = 'http_timeout';
    }
    const res = await fetch(url, { method: 'POST', headers, body, signal: AbortSignal.timeout(3_000) });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : '';
    } catch {
      // not JSON: keep the text
    }
    return { status: res.status, body: parsed };
  }

  private deliverOverSocket(type: string, payload: Json, opts: DeliveryOptions): Promise<Delivery> {
    const ws = this.socket;
    if (!ws) return Promise.reject(new Error('slack double: no Socket Mode connection'));
    const envelopeId = `${randomBytes(4).toString('hex')}-${randomBytes(2).toString('hex')}-${++this.seq}`;
    const envelope = { envelope_id: envelopeId, type, payload, accepts_response_payload: true, retry_attempt: opts.retryNum ?? 0, retry_reason: opts.retryNum ? 'timeout' : '' };
    return new Promise((resolve, reject) => {
      // Slack waits 3 s for the ack, then gives up on this envelope.
      const timer = setTimeout(() => {
        this.pendingAcks.delete(envelopeId);
        reject(new Error(`slack double: envelope ${envelopeId} (${type}) was not acked within 3 s`));
      }, 3_000);
      this.pendingAcks.set(envelopeId, (ackPayload) => {
        clearTimeout(timer);
        resolve({ status: 200, body: ackPayload ?? {} });
      });
      ws.send(JSON.stringify(envelope));
    });
  }

  private onSocket(ws: WebSocket): void {
    this.socket = ws;
    this.socketConnections += 1;
    ws.on('message', (data) => {
      let msg: Json;
      try {
        msg = JSON.parse(String(data)) as Json;
      } catch {
        return;
      }
      const id = String(msg['envelope_id'] ?? '');
      this.acks.push({ envelopeId: id, payload: msg['payload'] });
      this.pendingAcks.get(id)?.(msg['payload']);
      this.pendingAcks.delete(id);
      this.notify();
    });
    ws.on('close', () => {
      if (this.socket === ws) this.socket = undefined;
    });
    ws.send(JSON.stringify({ type: 'hello', num_connections: 1, debug_info: { host: 'applink-double', approximate_connection_time: 18060 }, connection_info: { app_id: 'A0VMBOT00' } }));
    for (const waiter of this.socketWaiters.splice(0)) waiter();
  }

  async close(): Promise<void> {
    for (const client of this.wss.clients) client.terminate();
    this.wss.close();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  // ---- the Web API -------------------------------------------------------------------

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://double');
    const raw = await readBody(req);
    if (url.pathname.startsWith('/hooks/')) return this.responseUrl(url.pathname, raw, res);
    if (!url.pathname.startsWith('/api/') || req.method !== 'POST') {
      res.writeHead(404).end();
      return;
    }
    const method = url.pathname.slice('/api/'.length);
    const contentType = String(req.headers['content-type'] ?? '').split(';')[0]!.trim();
    let args: Json;
    try {
      args = parseArgs(contentType, raw);
    } catch {
      return this.answer(res, { method, args: {}, tokenKind: 'none', contentType }, { ok: false, error: 'invalid_json' });
    }
    const bearer = /^Bearer (.+)$/.exec(String(req.headers.authorization ?? ''))?.[1];
    // JSON bodies must carry the token in the header; form bodies may carry it as `token`.
    const token = bearer ?? (contentType === 'application/json' ? undefined : (args['token'] as string | undefined));
    delete args['token'];
    const tokenKind = token === undefined ? 'none' : token === this.botToken ? 'bot' : token === this.appToken ? 'app' : 'unknown';
    const call = { method, args, tokenKind, contentType } as const;
    if (tokenKind === 'none') return this.answer(res, call, { ok: false, error: 'not_authed' });
    if (tokenKind === 'unknown') return this.answer(res, call, { ok: false, error: 'invalid_auth' });
    const wants = method === 'apps.connections.open' ? 'app' : 'bot';
    if (tokenKind !== wants) return this.answer(res, call, { ok: false, error: 'not_allowed_token_type' });
    return this.answer(res, call, this.api(method, args));
  }

  private answer(res: ServerResponse, call: Omit<RecordedCall, 'response'>, response: Json): void {
    this.calls.push({ ...call, response });
    const scopes: Record<string, string> = call.tokenKind === 'bot' ? { 'x-oauth-scopes': this.scopes.join(',') } : {};
    res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', ...scopes }).end(JSON.stringify(response));
    this.notify();
  }

  private notify(): void {
    for (const listener of [...this.callListeners]) listener();
  }

  private api(method: string, args: Json): Json {
    switch (method) {
      case 'auth.test':
        return { ok: true, url: 'https://society.slack.com/', team: 'Society', user: 'vmbot', team_id: TEAM, user_id: BOT_USER, bot_id: BOT_ID, is_enterprise_install: false };
      case 'apps.connections.open': {
        const ticket = randomBytes(12).toString('hex');
        this.tickets.add(ticket);
        return { ok: true, url: `ws://127.0.0.1:${this.port}/link/?ticket=${ticket}&app_id=A0VMBOT00` };
      }
      case 'usergroups.users.list': {
        const members = this.usergroups.get(String(args['usergroup'] ?? ''));
        return members ? { ok: true, users: members } : { ok: false, error: 'no_such_subteam' };
      }
      case 'conversations.open': {
        const users = String(args['users'] ?? '').split(',').filter(Boolean);
        if (users.length !== 1) return { ok: false, error: users.length === 0 ? 'users_list_not_supplied' : 'not_enough_users' };
        const user = users[0]!;
        if (!this.users.has(user)) return { ok: false, error: 'user_not_found' };
        const id = `D${user}`;
        if (!this.channels.has(id)) this.channels.set(id, { members: new Set([user]), botMember: true, messages: [] });
        return { ok: true, channel: { id } };
      }
      case 'conversations.info': {
        // Slack: channels:read (public) or groups:read (private); the bot need not be a member.
        const id = String(args['channel'] ?? '');
        const channel = this.channels.get(id);
        if (!channel) return { ok: false, error: 'channel_not_found' };
        if (!this.scopes.includes('channels:read') && !this.scopes.includes('groups:read')) return { ok: false, error: 'missing_scope', needed: 'channels:read' };
        return { ok: true, channel: { id, name: id.toLowerCase(), is_channel: !id.startsWith('D'), is_im: id.startsWith('D'), is_member: channel.botMember } };
      }
      case 'chat.postMessage':
        return this.postMessage(args);
      case 'chat.update':
        return this.update(args);
      case 'chat.postEphemeral':
        return this.postEphemeral(args);
      case 'views.open':
        return this.openView(args);
      default:
        return { ok: false, error: 'unknown_method' };
    }
  }

  private checkMessage(args: Json): { fail: Json } | { text: string; blocks: Json[] } {
    const text = typeof args['text'] === 'string' ? args['text'] : '';
    const blocks = args['blocks'];
    if (blocks !== undefined && !Array.isArray(blocks)) return { fail: { ok: false, error: 'invalid_blocks_format' } };
    if (!text && (!blocks || blocks.length === 0)) return { fail: { ok: false, error: 'no_text' } };
    if (text.length > 40_000) return { fail: { ok: false, error: 'msg_too_long' } };
    const problems = validateBlocks((blocks ?? []) as unknown[], 'message');
    if (problems.length > 0) return { fail: { ok: false, error: 'invalid_blocks', errors: problems, response_metadata: { messages: problems.map((p) => `[ERROR] ${p}`) } } };
    return { text, blocks: (blocks ?? []) as Json[] };
  }

  private postMessage(args: Json): Json {
    const channel = this.channels.get(String(args['channel'] ?? ''));
    if (!channel) return { ok: false, error: 'channel_not_found' };
    if (!channel.botMember) return { ok: false, error: 'not_in_channel' };
    const checked = this.checkMessage(args);
    if ('fail' in checked) return checked.fail;
    const ts = this.ts();
    const stored: StoredMessage = { channel: String(args['channel']), ts, ...checked, history: [checked] };
    channel.messages.push(stored);
    return { ok: true, channel: stored.channel, ts, message: { type: 'message', user: BOT_USER, bot_id: BOT_ID, ts, text: checked.text, blocks: checked.blocks } };
  }

  private update(args: Json): Json {
    const channel = this.channels.get(String(args['channel'] ?? ''));
    if (!channel) return { ok: false, error: 'channel_not_found' };
    const message = channel.messages.find((m) => m.ts === args['ts']);
    if (!message) return { ok: false, error: 'message_not_found' };
    const checked = this.checkMessage(args);
    if ('fail' in checked) return checked.fail;
    message.text = checked.text;
    message.blocks = checked.blocks;
    message.history.push(checked);
    return { ok: true, channel: message.channel, ts: message.ts, text: checked.text };
  }

  private postEphemeral(args: Json): Json {
    const channelId = String(args['channel'] ?? '');
    const channel = this.channels.get(channelId);
    if (!channel) return { ok: false, error: 'channel_not_found' };
    if (!channel.botMember) return { ok: false, error: 'not_in_channel' };
    const user = String(args['user'] ?? '');
    if (!this.users.has(user)) return { ok: false, error: 'user_not_found' };
    if (!channel.members.has(user)) return { ok: false, error: 'user_not_in_channel' };
    const checked = this.checkMessage(args);
    if ('fail' in checked) return checked.fail;
    const ts = this.ts();
    this.ephemerals.push({ channel: channelId, ts, ...checked, history: [checked], ephemeralTo: user });
    return { ok: true, message_ts: ts };
  }

  private openView(args: Json): Json {
    const triggerId = String(args['trigger_id'] ?? '');
    const trigger = this.triggers.get(triggerId);
    if (!trigger) return { ok: false, error: 'invalid_trigger_id' };
    if (this.now() - trigger.issuedAt > this.triggerTtlMs) return { ok: false, error: 'expired_trigger_id' };
    if (trigger.used) return { ok: false, error: 'exchanged_trigger_id' };
    const view = args['view'];
    if (!view || typeof view !== 'object') return { ok: false, error: 'invalid_arguments', response_metadata: { messages: ['[ERROR] missing required field: view'] } };
    const problems = validateModal(view as Json);
    if (problems.length > 0) return { ok: false, error: 'invalid_arguments', response_metadata: { messages: problems.map((p) => `[ERROR] ${p}`) } };
    trigger.used = true;
    const id = `V${String(++this.seq).padStart(10, '0')}`;
    this.views.push({ id, user: trigger.user, view: view as Json });
    return { ok: true, view: { ...(view as Json), id, team_id: TEAM, state: { values: {} }, hash: this.ts() } };
  }

  private responseUrl(path: string, raw: string, res: ServerResponse): void {
    const entry = this.responseUrls.get(path);
    const fail = (status: number, text: string): void => void res.writeHead(status, { 'content-type': 'text/plain' }).end(text);
    if (!entry) return fail(404, 'no_service');
    // response_url: 5 uses within 30 minutes.
    if (entry.uses >= 5 || this.now() - entry.issuedAt > 30 * 60_000) return fail(404, 'expired_url');
    let body: Json;
    try {
      body = JSON.parse(raw) as Json;
    } catch {
      return fail(400, 'invalid_payload');
    }
    const checked = this.checkMessage(body);
    if ('fail' in checked) return fail(400, String(checked.fail['error']));
    entry.uses += 1;
    this.responseUrlPosts.push({ user: entry.user, channel: entry.channel, body });
    if (body['response_type'] !== 'in_channel') {
      this.ephemerals.push({ channel: entry.channel, ts: this.ts(), ...checked, history: [checked], ephemeralTo: entry.user });
    }
    res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    this.notify();
    return undefined;
  }

  /** A fresh trigger_id, as Slack attaches to each interaction (valid 3 s, single use). */
  issueTrigger(user: string): string {
    const id = `${++this.seq}.${Date.now()}.${randomBytes(8).toString('hex')}`;
    this.triggers.set(id, { user, issuedAt: this.now(), used: false });
    return id;
  }

  private issueResponseUrl(user: string, channel: string): string {
    const path = `/hooks/${TEAM}/${++this.seq}/${randomBytes(12).toString('hex')}`;
    this.responseUrls.set(path, { user, channel, uses: 0, issuedAt: this.now() });
    return `http://127.0.0.1:${this.port}${path}`;
  }

  private ts(): string {
    return `${Math.floor(this.now() / 1000)}.${String(++this.seq).padStart(6, '0')}`;
  }
}

// ---- Slack's argument formats and Block Kit rules ------------------------------------

const JSON_ARGS = ['blocks', 'view', 'attachments', 'metadata'];

function parseArgs(contentType: string, raw: string): Json {
  if (contentType === 'application/json') return (raw ? JSON.parse(raw) : {}) as Json;
  const args: Json = {};
  for (const [key, value] of new URLSearchParams(raw)) {
    args[key] = JSON_ARGS.includes(key) ? JSON.parse(value) : value;
  }
  return args;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

export function actionIds(blocks: Json[]): string[] {
  const ids: string[] = [];
  for (const block of blocks) {
    if (block['type'] === 'actions') for (const e of (block['elements'] as Json[]) ?? []) ids.push(String(e['action_id']));
    if (block['accessory']) ids.push(String((block['accessory'] as Json)['action_id']));
  }
  return ids;
}

function textObject(value: unknown, where: string, max: number, kinds: readonly string[] = ['plain_text', 'mrkdwn']): string[] {
  if (!value || typeof value !== 'object') return [`${where}: missing text object`];
  const t = value as Json;
  if (!kinds.includes(String(t['type']))) return [`${where}: text type must be ${kinds.join(' or ')}`];
  if (typeof t['text'] !== 'string' || t['text'].length === 0) return [`${where}: text must be a non-empty string`];
  if (t['text'].length > max) return [`${where}: must be less than ${max + 1} characters`];
  return [];
}

function checkButton(e: Json, where: string): string[] {
  const problems = textObject(e['text'], `${where}.text`, 75, ['plain_text']);
  if (e['value'] !== undefined && (typeof e['value'] !== 'string' || e['value'].length > 2000)) problems.push(`${where}.value: must be a string of at most 2000 characters`);
  if (e['style'] !== undefined && e['style'] !== 'primary' && e['style'] !== 'danger') problems.push(`${where}.style: must be primary or danger`);
  if (e['confirm'] !== undefined) {
    const c = e['confirm'] as Json;
    problems.push(...textObject(c['title'], `${where}.confirm.title`, 100, ['plain_text']), ...textObject(c['text'], `${where}.confirm.text`, 300), ...textObject(c['confirm'], `${where}.confirm.confirm`, 30, ['plain_text']), ...textObject(c['deny'], `${where}.confirm.deny`, 30, ['plain_text']));
  }
  return problems;
}

function checkElement(e: Json, where: string, allowed: readonly string[]): string[] {
  const type = String(e['type']);
  if (!allowed.includes(type)) return [`${where}: unsupported element type ${type}`];
  const problems: string[] = [];
  if (typeof e['action_id'] === 'string' && e['action_id'].length > 255) problems.push(`${where}.action_id: must be less than 256 characters`);
  if (type === 'button') problems.push(...checkButton(e, where));
  if (type === 'static_select') {
    const options = e['options'];
    if (!Array.isArray(options) || options.length === 0 || options.length > 100) problems.push(`${where}.options: 1 to 100 options`);
    else
      (options as Json[]).forEach((o, i) => {
        problems.push(...textObject(o['text'], `${where}.options[${i}].text`, 75, ['plain_text']));
        if (typeof o['value'] !== 'string' || o['value'].length > 150) problems.push(`${where}.options[${i}].value: at most 150 characters`);
      });
  }
  if (type === 'plain_text_input') {
    if (e['max_length'] !== undefined && (typeof e['max_length'] !== 'number' || e['max_length'] > 3000)) problems.push(`${where}.max_length: at most 3000`);
    if (typeof e['initial_value'] === 'string' && e['initial_value'].length > 3000) problems.push(`${where}.initial_value: at most 3000 characters`);
  }
  return problems;
}

/** Block Kit rules Slack enforces (the subset vmbot can break); an empty list means valid. */
export function validateBlocks(blocks: unknown[], surface: 'message' | 'modal'): string[] {
  const max = surface === 'message' ? 50 : 100;
  const problems: string[] = [];
  if (blocks.length > max) problems.push(`no more than ${max} items allowed [json-pointer:/blocks]`);
  const blockIds = new Set<string>();
  blocks.forEach((raw, i) => {
    const where = `/blocks/${i}`;
    // Slack: an action_id must be unique among the action_ids of its block.
    const actionIdsSeen = new Set<string>();
    if (!raw || typeof raw !== 'object') return void problems.push(`${where}: must be an object`);
    const block = raw as Json;
    if (block['block_id'] !== undefined) {
      const id = String(block['block_id']);
      if (id.length === 0 || id.length > 255) problems.push(`${where}/block_id: must be 1 to 255 characters`);
      if (blockIds.has(id)) problems.push(`${where}/block_id: duplicate block_id ${id}`);
      blockIds.add(id);
    }
    const elementsOf = (list: Json[], allowed: readonly string[]) =>
      list.forEach((e, j) => {
        problems.push(...checkElement(e, `${where}/elements/${j}`, allowed));
        if (typeof e['action_id'] === 'string') {
          if (actionIdsSeen.has(e['action_id'])) problems.push(`${where}/elements/${j}: duplicate action_id ${e['action_id']}`);
          actionIdsSeen.add(e['action_id']);
        }
      });
    switch (block['type']) {
      case 'section': {
        if (block['text'] === undefined && block['fields'] === undefined) problems.push(`${where}: section needs text or fields`);
        if (block['text'] !== undefined) problems.push(...textObject(block['text'], `${where}/text`, 3000));
        if (block['fields'] !== undefined) {
          const fields = block['fields'] as unknown[];
          if (!Array.isArray(fields) || fields.length > 10) problems.push(`${where}/fields: at most 10 fields`);
          else fields.forEach((f, j) => problems.push(...textObject(f, `${where}/fields/${j}`, 2000)));
        }
        if (block['accessory'] !== undefined) elementsOf([block['accessory'] as Json], ['button', 'static_select', 'overflow', 'image']);
        break;
      }
      case 'header':
        problems.push(...textObject(block['text'], `${where}/text`, 150, ['plain_text']));
        break;
      case 'context': {
        const elements = block['elements'];
        if (!Array.isArray(elements) || elements.length === 0 || elements.length > 10) problems.push(`${where}/elements: 1 to 10 elements`);
        else (elements as unknown[]).forEach((e, j) => problems.push(...textObject(e, `${where}/elements/${j}`, 3000)));
        break;
      }
      case 'actions': {
        const elements = block['elements'];
        if (!Array.isArray(elements) || elements.length === 0 || elements.length > 25) problems.push(`${where}/elements: 1 to 25 elements`);
        else elementsOf(elements as Json[], ['button', 'static_select', 'overflow', 'datepicker']);
        break;
      }
      case 'divider':
        break;
      case 'input': {
        if (surface !== 'modal') problems.push(`${where}: input blocks are only allowed in modals`);
        problems.push(...textObject(block['label'], `${where}/label`, 2000, ['plain_text']));
        if (block['hint'] !== undefined) problems.push(...textObject(block['hint'], `${where}/hint`, 2000, ['plain_text']));
        const element = block['element'] as Json | undefined;
        if (!element) problems.push(`${where}/element: required`);
        else elementsOf([element], ['plain_text_input', 'static_select']);
        break;
      }
      default:
        problems.push(`${where}/type: unsupported block type ${String(block['type'])}`);
    }
  });
  return problems;
}

function validateModal(view: Json): string[] {
  const problems: string[] = [];
  if (view['type'] !== 'modal') problems.push('view.type must be modal');
  problems.push(...textObject(view['title'], 'view.title', 24, ['plain_text']));
  if (view['submit'] !== undefined) problems.push(...textObject(view['submit'], 'view.submit', 24, ['plain_text']));
  if (view['close'] !== undefined) problems.push(...textObject(view['close'], 'view.close', 24, ['plain_text']));
  if (typeof view['callback_id'] === 'string' && view['callback_id'].length > 255) problems.push('view.callback_id: at most 255 characters');
  if (typeof view['private_metadata'] === 'string' && view['private_metadata'].length > 3000) problems.push('view.private_metadata: at most 3000 characters');
  const blocks = (view['blocks'] as unknown[]) ?? [];
  if (blocks.some((b) => (b as Json)['type'] === 'input') && view['submit'] === undefined) problems.push('view.submit: required when the view has input blocks');
  problems.push(...validateBlocks(blocks, 'modal'));
  return problems;
}
