// The ONE Discord double (DESIGN §5): a REST server that discord.js's `rest.api` is pointed at
// (routes under /api/v10/) and a gateway websocket speaking the documented protocol (HELLO,
// IDENTIFY → READY + GUILD_CREATE, heartbeat ACKs, INTERACTION_CREATE dispatches).
//
// It is strict: it refuses what Discord refuses (late or second interaction callbacks, expired
// interaction tokens, components/embeds over the limits, DMs to members with DMs closed,
// compression/ETF on the gateway, privileged intents) and, as a vmbot rule, every message must
// carry allowed_mentions whose `parse` is empty (member text can never ping). Everything the bot
// sends is recorded so tests can assert on it; `waitFor` polls the records on every change.
import { EventEmitter } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { WebSocketServer, type WebSocket } from 'ws';

// ---------------------------------------------------------------------------------------------
// Public shapes

export interface DoubleMember {
  id: string;
  username: string;
  roles: string[];
  /** The member has "Allow direct messages from server members" off: DMs fail with 50007. */
  dmClosed?: boolean;
}

export interface DiscordDoubleOptions {
  applicationId: string;
  token: string;
  guildId: string;
  guildName?: string;
  channels: Array<{ id: string; name: string }>;
  roles: Array<{ id: string; name: string }>;
  members: DoubleMember[];
  /** Discord: 3 s to answer an interaction. Tests may shorten it. */
  interactionDeadlineMs?: number;
  /** Discord: an interaction token works for 15 min. Tests may shorten it. */
  tokenLifetimeMs?: number;
  heartbeatIntervalMs?: number;
}

/** A message as Discord stores it (channel message, DM, or interaction response). */
export interface StoredMessage {
  id: string;
  channel_id: string;
  content: string;
  embeds: Array<Record<string, unknown>>;
  components: Array<Record<string, unknown>>;
  flags: number;
  allowed_mentions: AllowedMentions | undefined;
  /** Who this message actually pings (content only: embeds never ping). */
  pinged: { users: string[]; roles: string[]; everyone: boolean };
  edits: number;
  timestamp: string;
  edited_timestamp: string | null;
}

export interface AllowedMentions {
  parse?: string[];
  users?: string[];
  roles?: string[];
  replied_user?: boolean;
}

export interface CallbackRecord {
  interactionId: string;
  type: number;
  data: Record<string, unknown> | undefined;
  at: number;
}

export interface RejectionRecord {
  method: string;
  path: string;
  status: number;
  code: number;
  message: string;
}

export interface RegisteredCommands {
  scope: 'global' | string;
  commands: Array<Record<string, unknown>>;
}

type InteractionKind = 'command' | 'autocomplete' | 'component' | 'modal';

/** One interaction the double dispatched, and everything the bot answered to it. */
export class DoubleInteraction {
  callback: CallbackRecord | undefined;
  /** The interaction response message (type 4/5 → @original), possibly edited later. */
  original: StoredMessage | undefined;
  followups: StoredMessage[] = [];
  /** The modal the bot opened (callback type 9). */
  modal: Record<string, unknown> | undefined;
  /** The suggestions the bot answered an autocomplete with (callback type 8). */
  choices: Array<{ name: string; value: string | number }> | undefined;
  readonly createdAt = Date.now();

  constructor(
    private readonly double: DiscordDouble,
    readonly id: string,
    readonly token: string,
    readonly kind: InteractionKind,
    readonly userId: string,
    /** The message a component lives on (component interactions, and modals opened from one). */
    readonly sourceMessage: { channelId: string; messageId: string; ephemeralOf?: DoubleInteraction } | undefined,
  ) {}

  /** Resolves when the bot sends its initial response (within the deadline, or the test fails). */
  response(timeoutMs = 5_000): Promise<CallbackRecord> {
    return this.double.waitFor(() => this.callback, { timeoutMs, what: `a response to interaction ${this.id}` });
  }

  /**
   * The first ephemeral text the member sees, however it came: an immediate reply (4), or a
   * deferral (5/6) followed by an edit or a follow-up. For tests that must not depend on timing.
   */
  ephemeralText(timeoutMs = 5_000): Promise<string> {
    return this.double.waitFor(() => this.ephemeralTexts().find((t) => t.length > 0), { timeoutMs, what: `an ephemeral answer to interaction ${this.id}` });
  }

  /** Every ephemeral text the member saw for this interaction (original + follow-ups), in order. */
  ephemeralTexts(): string[] {
    return [this.original, ...this.followups]
      .filter((m): m is StoredMessage => m !== undefined && (m.flags & EPHEMERAL) !== 0)
      .map((m) => messageText(m));
  }
}

// ---------------------------------------------------------------------------------------------
// Constants from Discord's documentation

const API_PREFIX = '/api/v10';
const EPHEMERAL = 1 << 6;
/** GUILD_MEMBERS, GUILD_PRESENCES, MESSAGE_CONTENT need approval in the developer portal. */
const PRIVILEGED_INTENTS = (1 << 1) | (1 << 8) | (1 << 15);
const ALL_INTENTS = (1 << 26) - 1;

const fixture = (name: string) => JSON.parse(readFileSync(new URL(`../fixtures/discord/${name}`, import.meta.url), 'utf8')) as Record<string, unknown>;
/** Recorded INTERACTION_CREATE payloads, one per kind of interaction the bot handles. */
const INTERACTION_FIXTURES: Record<InteractionKind, Record<string, unknown>> = {
  command: fixture('interaction-command.json'),
  // Autocomplete has the command's shape (type 4, one option marked focused).
  autocomplete: fixture('interaction-command.json'),
  component: fixture('interaction-button.json'),
  modal: fixture('interaction-modal-submit.json'),
};

let snowflakeCounter = 0n;
/** Real-looking snowflakes: ms since the Discord epoch << 22, plus a counter. */
export function snowflake(): string {
  snowflakeCounter = (snowflakeCounter + 1n) & 0xfffn;
  return ((BigInt(Date.now() - 1420070400000) << 22n) | snowflakeCounter).toString();
}

/** All visible text of a message: content, embed titles/descriptions/fields/footers. */
export function messageText(m: Pick<StoredMessage, 'content' | 'embeds'>): string {
  const parts = [m.content];
  for (const e of m.embeds) {
    const embed = e as { title?: string; description?: string; fields?: Array<{ name: string; value: string }>; footer?: { text?: string } };
    if (embed.title) parts.push(embed.title);
    if (embed.description) parts.push(embed.description);
    for (const f of embed.fields ?? []) parts.push(`${f.name}: ${f.value}`);
    if (embed.footer?.text) parts.push(embed.footer.text);
  }
  return parts.filter(Boolean).join('\n');
}

/** Button custom_ids of a message, row by row flattened. */
export function buttonIds(m: Pick<StoredMessage, 'components'>): string[] {
  const ids: string[] = [];
  for (const row of m.components as Array<{ components?: Array<{ type: number; custom_id?: string }> }>) {
    for (const c of row.components ?? []) if (c.type === 2 && c.custom_id) ids.push(c.custom_id);
  }
  return ids;
}

class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: number,
    message: string,
    readonly errors?: Record<string, unknown>,
  ) {
    super(message);
  }
}

function invalidForm(problems: FormProblem[]): ApiError {
  // Discord nests errors by path: { components: { 0: { components: { _errors: [...] } } } }
  const errors: Record<string, unknown> = {};
  for (const p of problems) {
    let node = errors;
    for (const key of p.path) node = (node[key] ??= {}) as Record<string, unknown>;
    ((node._errors ??= []) as unknown[]).push({ code: p.code, message: p.message });
  }
  return new ApiError(400, 50035, `Invalid Form Body (${problems.map((p) => `${p.path.join('.')}: ${p.message}`).join('; ')})`, errors);
}

interface FormProblem {
  path: string[];
  code: string;
  message: string;
}

// ---------------------------------------------------------------------------------------------
// Validation of what the bot sends (limits from discord.com/developers/docs)

const len = (v: unknown): number => (typeof v === 'string' ? [...v].length : 0);

export function validateMessageBody(body: Record<string, unknown>, opts: { requireContent: boolean }): FormProblem[] {
  const problems: FormProblem[] = [];
  const add = (path: string[], code: string, message: string) => problems.push({ path, code, message });
  const content = body.content;
  if (content !== undefined && content !== null && typeof content !== 'string') add(['content'], 'BASE_TYPE_STRING', 'Must be a string');
  if (len(content) > 2000) add(['content'], 'BASE_TYPE_MAX_LENGTH', 'Must be 2000 or fewer in length.');

  const embeds = (body.embeds ?? []) as Array<Record<string, unknown>>;
  if (!Array.isArray(embeds)) add(['embeds'], 'BASE_TYPE_ARRAY', 'Must be an array');
  else {
    if (embeds.length > 10) add(['embeds'], 'BASE_TYPE_MAX_LENGTH', 'Must be 10 or fewer in length.');
    let total = 0;
    embeds.forEach((e, i) => {
      const p = ['embeds', String(i)];
      const title = len(e.title);
      const description = len(e.description);
      if (title > 256) add([...p, 'title'], 'BASE_TYPE_MAX_LENGTH', 'Must be 256 or fewer in length.');
      if (description > 4096) add([...p, 'description'], 'BASE_TYPE_MAX_LENGTH', 'Must be 4096 or fewer in length.');
      total += title + description;
      const fields = (e.fields ?? []) as Array<{ name?: unknown; value?: unknown; inline?: unknown }>;
      if (fields.length > 25) add([...p, 'fields'], 'BASE_TYPE_MAX_LENGTH', 'Must be 25 or fewer in length.');
      fields.forEach((f, j) => {
        if (len(f.name) < 1 || len(f.name) > 256) add([...p, 'fields', String(j), 'name'], 'BASE_TYPE_BAD_LENGTH', 'Must be between 1 and 256 in length.');
        if (len(f.value) < 1 || len(f.value) > 1024) add([...p, 'fields', String(j), 'value'], 'BASE_TYPE_BAD_LENGTH', 'Must be between 1 and 1024 in length.');
        total += len(f.name) + len(f.value);
      });
      const footer = e.footer as { text?: unknown } | undefined;
      if (footer && len(footer.text) > 2048) add([...p, 'footer', 'text'], 'BASE_TYPE_MAX_LENGTH', 'Must be 2048 or fewer in length.');
      total += len(footer?.text);
      const author = e.author as { name?: unknown } | undefined;
      if (author && len(author.name) > 256) add([...p, 'author', 'name'], 'BASE_TYPE_MAX_LENGTH', 'Must be 256 or fewer in length.');
      total += len(author?.name);
    });
    if (total > 6000) add(['embeds'], 'MAX_EMBED_SIZE_EXCEEDED', 'Embed size exceeds maximum size of 6000');
  }

  const rows = (body.components ?? []) as Array<Record<string, unknown>>;
  if (rows.length > 5) add(['components'], 'BASE_TYPE_MAX_LENGTH', 'Must be 5 or fewer in length.');
  const seen = new Set<string>();
  rows.forEach((row, i) => {
    const p = ['components', String(i)];
    if (row.type !== 1) return add([...p, 'type'], 'UNION_TYPE_CHOICES', 'Value of field "type" must be one of (1,).');
    const children = (row.components ?? []) as Array<Record<string, unknown>>;
    if (children.length < 1 || children.length > 5) add([...p, 'components'], 'BASE_TYPE_BAD_LENGTH', 'Must be between 1 and 5 in length.');
    children.forEach((c, j) => {
      const cp = [...p, 'components', String(j)];
      if (c.type !== 2) return add([...cp, 'type'], 'UNION_TYPE_CHOICES', 'the double only knows buttons in messages');
      const style = c.style as number;
      if (![1, 2, 3, 4, 5].includes(style)) add([...cp, 'style'], 'BASE_TYPE_CHOICES', 'Value must be one of (1, 2, 3, 4, 5).');
      if (style === 5) {
        if (typeof c.url !== 'string') add([...cp, 'url'], 'BASE_TYPE_REQUIRED', 'This field is required');
      } else {
        const id = c.custom_id;
        if (typeof id !== 'string' || len(id) < 1) add([...cp, 'custom_id'], 'BASE_TYPE_REQUIRED', 'This field is required');
        else if (len(id) > 100) add([...cp, 'custom_id'], 'BASE_TYPE_BAD_LENGTH', 'Must be between 1 and 100 in length.');
        else if (seen.has(id)) add([...cp, 'custom_id'], 'COMPONENT_CUSTOM_ID_DUPLICATED', 'Component custom id cannot be duplicated');
        else seen.add(id);
      }
      if (len(c.label) > 80) add([...cp, 'label'], 'BASE_TYPE_MAX_LENGTH', 'Must be 80 or fewer in length.');
      if (c.label === undefined && c.emoji === undefined) add([...cp], 'BUTTON_COMPONENT_INVALID', 'A button needs a label or an emoji');
    });
  });

  if (opts.requireContent && !len(content) && embeds.length === 0 && rows.length === 0) {
    throw new ApiError(400, 50006, 'Cannot send an empty message');
  }
  return problems;
}

export function validateModal(data: Record<string, unknown>): FormProblem[] {
  const problems: FormProblem[] = [];
  const add = (path: string[], code: string, message: string) => problems.push({ path, code, message });
  if (len(data.title) < 1 || len(data.title) > 45) add(['data', 'title'], 'BASE_TYPE_BAD_LENGTH', 'Must be between 1 and 45 in length.');
  if (len(data.custom_id) < 1 || len(data.custom_id) > 100) add(['data', 'custom_id'], 'BASE_TYPE_BAD_LENGTH', 'Must be between 1 and 100 in length.');
  const rows = (data.components ?? []) as Array<Record<string, unknown>>;
  if (rows.length < 1 || rows.length > 5) add(['data', 'components'], 'BASE_TYPE_BAD_LENGTH', 'Must be between 1 and 5 in length.');
  rows.forEach((row, i) => {
    const p = ['data', 'components', String(i)];
    // Classic action row with one text input, or the newer Label (type 18) wrapping one.
    const input = row.type === 1 ? ((row.components as unknown[] | undefined)?.length === 1 ? (row.components as Array<Record<string, unknown>>)[0] : undefined) : row.type === 18 ? (row.component as Record<string, unknown>) : undefined;
    const label = row.type === 18 ? row.label : input?.label;
    if (!input || input.type !== 4) return add(p, 'UNION_TYPE_CHOICES', 'Each modal row holds exactly one text input');
    if (len(input.custom_id) < 1 || len(input.custom_id) > 100) add([...p, 'custom_id'], 'BASE_TYPE_BAD_LENGTH', 'Must be between 1 and 100 in length.');
    if (len(label) < 1 || len(label) > 45) add([...p, 'label'], 'BASE_TYPE_BAD_LENGTH', 'Must be between 1 and 45 in length.');
    if (![1, 2].includes(input.style as number)) add([...p, 'style'], 'BASE_TYPE_CHOICES', 'Value must be one of (1, 2).');
    const min = (input.min_length as number | undefined) ?? 0;
    const max = (input.max_length as number | undefined) ?? 4000;
    if (min < 0 || min > 4000) add([...p, 'min_length'], 'NUMBER_TYPE_MAX', 'Must be between 0 and 4000.');
    if (max < 1 || max > 4000) add([...p, 'max_length'], 'NUMBER_TYPE_MAX', 'Must be between 1 and 4000.');
    if (len(input.value) > max) add([...p, 'value'], 'BASE_TYPE_MAX_LENGTH', `Must be ${max} or fewer in length.`);
    if (len(input.placeholder) > 100) add([...p, 'placeholder'], 'BASE_TYPE_MAX_LENGTH', 'Must be 100 or fewer in length.');
  });
  return problems;
}

const COMMAND_NAME = /^[-_\p{L}\p{N}]{1,32}$/u;

export function validateCommands(commands: Array<Record<string, unknown>>): FormProblem[] {
  const problems: FormProblem[] = [];
  const add = (path: string[], code: string, message: string) => problems.push({ path, code, message });
  const checkOptions = (options: Array<Record<string, unknown>>, p: string[]) => {
    if (options.length > 25) add(p, 'BASE_TYPE_MAX_LENGTH', 'Must be 25 or fewer in length.');
    let optionalSeen = false;
    options.forEach((o, i) => {
      const op = [...p, String(i)];
      checkNamed(o, op);
      if (o.type === 1 || o.type === 2) checkOptions((o.options ?? []) as Array<Record<string, unknown>>, [...op, 'options']);
      else {
        if (o.required) {
          if (optionalSeen) add(op, 'APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID', 'Required options must be placed before non-required options');
        } else optionalSeen = true;
        const choices = (o.choices ?? []) as Array<{ name?: unknown; value?: unknown }>;
        if (choices.length > 25) add([...op, 'choices'], 'BASE_TYPE_MAX_LENGTH', 'Must be 25 or fewer in length.');
        if (choices.length > 0 && o.autocomplete) add([...op, 'autocomplete'], 'AUTOCOMPLETE_AND_CHOICES', 'choices and autocomplete are exclusive');
        choices.forEach((c, j) => {
          if (len(c.name) < 1 || len(c.name) > 100) add([...op, 'choices', String(j), 'name'], 'BASE_TYPE_BAD_LENGTH', 'Must be between 1 and 100 in length.');
          if (typeof c.value === 'string' && len(c.value) > 100) add([...op, 'choices', String(j), 'value'], 'BASE_TYPE_MAX_LENGTH', 'Must be 100 or fewer in length.');
        });
      }
    });
  };
  const checkNamed = (o: Record<string, unknown>, p: string[]) => {
    const name = String(o.name ?? '');
    if (!COMMAND_NAME.test(name) || name !== name.toLowerCase()) add([...p, 'name'], 'APPLICATION_COMMAND_INVALID_NAME', 'Command name is invalid');
    if (len(o.description) < 1 || len(o.description) > 100) add([...p, 'description'], 'BASE_TYPE_BAD_LENGTH', 'Must be between 1 and 100 in length.');
  };
  if (commands.length > 100) add([], 'BASE_TYPE_MAX_LENGTH', 'Must be 100 or fewer in length.');
  commands.forEach((c, i) => {
    checkNamed(c, [String(i)]);
    checkOptions((c.options ?? []) as Array<Record<string, unknown>>, [String(i), 'options']);
  });
  return problems;
}

/** Who a message's content pings, given its allowed_mentions (embeds never ping). */
export function effectivePings(content: string, allowed: AllowedMentions | undefined): StoredMessage['pinged'] {
  const parse = allowed ? (allowed.parse ?? []) : ['users', 'roles', 'everyone'];
  const users = [...content.matchAll(/<@!?(\d+)>/g)].map((m) => m[1]!);
  const roles = [...content.matchAll(/<@&(\d+)>/g)].map((m) => m[1]!);
  const everyone = /@(everyone|here)/.test(content);
  return {
    users: [...new Set(users.filter((u) => parse.includes('users') || (allowed?.users ?? []).includes(u)))],
    roles: [...new Set(roles.filter((r) => parse.includes('roles') || (allowed?.roles ?? []).includes(r)))],
    everyone: everyone && parse.includes('everyone'),
  };
}

// ---------------------------------------------------------------------------------------------
// The double

export class DiscordDouble {
  readonly apiUrl: string;
  readonly gatewayUrl: string;
  readonly botUser: { id: string; username: string };
  /** Every initial interaction response, in order. */
  readonly callbacks: CallbackRecord[] = [];
  /** Every message posted to a channel (admin channel, fallback channel, DMs), by POST order. */
  readonly posted: StoredMessage[] = [];
  /** Every channel-message edit (PATCH /channels/:c/messages/:m), in order. */
  readonly channelEdits: Array<{ channelId: string; messageId: string; body: Record<string, unknown> }> = [];
  readonly dmChannels: Array<{ recipientId: string; channelId: string }> = [];
  readonly registered: RegisteredCommands[] = [];
  readonly rejections: RejectionRecord[] = [];
  readonly interactions: DoubleInteraction[] = [];
  /** Gateway sessions that completed IDENTIFY, with what they asked for. */
  readonly identifies: Array<{ intents: number; compress: boolean; query: string }> = [];

  interactionDeadlineMs: number;
  tokenLifetimeMs: number;

  private readonly events = new EventEmitter();
  private readonly channels = new Map<string, { id: string; name: string; type: number; recipientId?: string; messages: Map<string, StoredMessage> }>();
  private readonly sockets = new Set<WebSocket>();
  private readonly identified = new Set<WebSocket>();
  private readonly sequences = new WeakMap<WebSocket, number>();
  private readonly commandIds = new Map<string, string>();
  /** Gateway sessions (for RESUME): last sequence sent on each. */
  private readonly sessions = new Map<string, { seq: number }>();
  private readonly sessionOf = new WeakMap<WebSocket, string>();
  /** How many RESUMEs the double accepted. */
  resumes = 0;

  constructor(
    private readonly opts: DiscordDoubleOptions,
    private readonly server: Server,
    private readonly wss: WebSocketServer,
    port: number,
  ) {
    this.apiUrl = `http://127.0.0.1:${port}/api`;
    this.gatewayUrl = `ws://127.0.0.1:${port}/gateway`;
    this.botUser = { id: snowflake(), username: 'vmbot' };
    this.interactionDeadlineMs = opts.interactionDeadlineMs ?? 3_000;
    this.tokenLifetimeMs = opts.tokenLifetimeMs ?? 15 * 60_000;
    for (const c of opts.channels) this.channels.set(c.id, { ...c, type: 0, messages: new Map() });
    this.events.setMaxListeners(100);
  }

  // --- for tests ----------------------------------------------------------------------------

  member(userId: string): DoubleMember {
    const m = this.opts.members.find((x) => x.id === userId);
    if (!m) throw new Error(`double: no member ${userId} in the guild`);
    return m;
  }

  /** Messages in a channel, oldest first. */
  messages(channelId: string): StoredMessage[] {
    return [...(this.channels.get(channelId)?.messages.values() ?? [])];
  }

  message(channelId: string, messageId: string): StoredMessage | undefined {
    return this.channels.get(channelId)?.messages.get(messageId);
  }

  /** Messages sent as DMs to a member (in the DM channel the bot opened). */
  dmsTo(userId: string): StoredMessage[] {
    const ids = this.dmChannels.filter((d) => d.recipientId === userId).map((d) => d.channelId);
    return [...new Set(ids)].flatMap((id) => this.messages(id));
  }

  /** Resolves with fn()'s value as soon as it is truthy; checked on every recorded change. */
  waitFor<T>(fn: () => T | undefined | null | false | 0 | '', opts: { timeoutMs?: number; what?: string } = {}): Promise<T> {
    const timeoutMs = opts.timeoutMs ?? 5_000;
    return new Promise<T>((resolve, reject) => {
      const check = () => {
        let value: T | undefined | null | false | 0 | '';
        try {
          value = fn();
        } catch (err) {
          finish();
          reject(err as Error);
          return;
        }
        if (value) {
          finish();
          resolve(value);
        }
      };
      const timer = setTimeout(() => {
        finish();
        reject(new Error(`double: timed out after ${timeoutMs} ms waiting for ${opts.what ?? 'a condition'}`));
      }, timeoutMs);
      const finish = () => {
        clearTimeout(timer);
        this.events.off('change', check);
      };
      this.events.on('change', check);
      check();
    });
  }

  /** Resolves once a client has identified and received its guild. */
  connected(timeoutMs = 5_000): Promise<void> {
    return this.waitFor(() => this.identified.size > 0, { timeoutMs, what: 'a gateway client' }).then(() => undefined);
  }

  /** A member runs `/vm <sub> [options]`. The command must be registered, options must fit it. */
  slashCommand(userId: string, sub: string, options: Record<string, string | number> = {}, commandName = 'vm'): DoubleInteraction {
    const command = this.findCommand(commandName);
    const subDef = ((command.options ?? []) as Array<Record<string, unknown>>).find((o) => o.name === sub && o.type === 1);
    if (!subDef) throw new Error(`double: /${commandName} has no subcommand ${sub}`);
    const defs = (subDef.options ?? []) as Array<Record<string, unknown>>;
    for (const def of defs) if (def.required && options[def.name as string] === undefined) throw new Error(`double: option ${String(def.name)} is required`);
    const opts = Object.entries(options).map(([name, value]) => {
      const def = defs.find((d) => d.name === name);
      if (!def) throw new Error(`double: /${commandName} ${sub} has no option ${name}`);
      const choices = def.choices as Array<{ value: unknown }> | undefined;
      if (choices && !choices.some((c) => c.value === value)) throw new Error(`double: ${String(value)} is not a choice of ${name}`);
      return { type: def.type, name, value };
    });
    return this.dispatchInteraction('command', userId, {
      type: 2,
      data: { id: this.commandIds.get(commandName), name: commandName, type: 1, guild_id: this.opts.guildId, options: [{ type: 1, name: sub, options: opts }] },
    });
  }

  /** A member is typing option `focused` of `/vm <sub>`: Discord asks the bot for suggestions. */
  autocomplete(userId: string, sub: string, focused: string, typed: string, commandName = 'vm'): DoubleInteraction {
    const command = this.findCommand(commandName);
    const subDef = ((command.options ?? []) as Array<Record<string, unknown>>).find((o) => o.name === sub && o.type === 1);
    const def = ((subDef?.options ?? []) as Array<Record<string, unknown>>).find((o) => o.name === focused);
    if (!def?.autocomplete) throw new Error(`double: /${commandName} ${sub} ${focused} does not use autocomplete`);
    return this.dispatchInteraction('autocomplete', userId, {
      type: 4,
      data: { id: this.commandIds.get(commandName), name: commandName, type: 1, guild_id: this.opts.guildId, options: [{ type: 1, name: sub, options: [{ type: def.type, name: focused, value: typed, focused: true }] }] },
    });
  }

  /**
   * A member presses a button on a message: a channel message ({channelId, messageId}) or the
   * ephemeral response of an earlier interaction ({ ephemeralOf }). The button must be on it.
   */
  pressButton(userId: string, where: { channelId: string; messageId: string } | { ephemeralOf: DoubleInteraction }, customId: string): DoubleInteraction {
    let message: StoredMessage | undefined;
    let source: { channelId: string; messageId: string; ephemeralOf?: DoubleInteraction };
    if ('ephemeralOf' in where) {
      const prev = where.ephemeralOf;
      message = [prev.original, ...prev.followups].reverse().find((m) => m && buttonIds(m).includes(customId));
      if (!message) throw new Error(`double: no ephemeral message of interaction ${prev.id} has button ${customId}`);
      source = { channelId: message.channel_id, messageId: message.id, ephemeralOf: prev };
    } else {
      message = this.message(where.channelId, where.messageId);
      if (!message) throw new Error(`double: no message ${where.messageId} in channel ${where.channelId}`);
      source = where;
    }
    if (!buttonIds(message).includes(customId)) throw new Error(`double: message ${message.id} has no button ${customId} (it has ${buttonIds(message).join(', ') || 'none'})`);
    return this.dispatchInteraction(
      'component',
      userId,
      { type: 3, data: { custom_id: customId, component_type: 2 }, message: this.wireMessage(message) },
      source,
    );
  }

  /** The member fills in and submits the modal the bot opened in answer to `opener`. */
  submitModal(userId: string, opener: DoubleInteraction, values: Record<string, string>): DoubleInteraction {
    const modal = opener.modal;
    if (!modal) throw new Error(`double: interaction ${opener.id} opened no modal`);
    if (opener.userId !== userId) throw new Error('double: only the member who opened a modal can submit it');
    const rows = (modal.components ?? []) as Array<Record<string, unknown>>;
    const inputs = rows.map((r) => (r.type === 18 ? (r.component as Record<string, unknown>) : (r.components as Array<Record<string, unknown>>)[0]!));
    const ids = inputs.map((i) => i.custom_id as string);
    for (const key of Object.keys(values)) if (!ids.includes(key)) throw new Error(`double: the modal has no field ${key} (it has ${ids.join(', ')})`);
    const components = inputs.map((input, i) => {
      const value = values[input.custom_id as string] ?? (input.value as string | undefined) ?? '';
      const min = (input.min_length as number | undefined) ?? 0;
      const max = (input.max_length as number | undefined) ?? 4000;
      if ((input.required ?? true) && value.length === 0) throw new Error(`double: field ${String(input.custom_id)} is required (Discord would not let the member submit)`);
      if (value.length > 0 && (value.length < min || value.length > max)) throw new Error(`double: field ${String(input.custom_id)} must be ${min}-${max} characters`);
      // Discord answers in the modal's own layout: a Label row comes back as a Label row.
      const submitted = { type: 4, id: i * 2 + 2, custom_id: input.custom_id, value };
      return rows[i]!.type === 18 ? { type: 18, id: i * 2 + 1, component: submitted } : { type: 1, id: i * 2 + 1, components: [submitted] };
    });
    const body: Record<string, unknown> = { type: 5, data: { custom_id: modal.custom_id, components } };
    const src = opener.sourceMessage;
    if (src) {
      const msg = src.ephemeralOf ? [src.ephemeralOf.original, ...src.ephemeralOf.followups].find((m) => m?.id === src.messageId) : this.message(src.channelId, src.messageId);
      if (msg) body.message = this.wireMessage(msg);
    }
    return this.dispatchInteraction('modal', userId, body, src);
  }

  /** Drops every gateway connection (as Discord does on a restart of the bot's host). */
  disconnectAll(): void {
    for (const ws of this.sockets) ws.terminate();
  }

  async close(): Promise<void> {
    for (const ws of this.sockets) ws.terminate();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  // --- gateway --------------------------------------------------------------------------------

  handleSocket(ws: WebSocket, req: IncomingMessage): void {
    this.sockets.add(ws);
    ws.on('close', () => {
      this.sockets.delete(ws);
      this.identified.delete(ws);
      this.changed();
    });
    const url = new URL(req.url ?? '/', 'ws://x');
    const query = url.search;
    if (url.searchParams.get('v') !== '10') return ws.close(4012, 'Invalid API version');
    if (url.searchParams.get('encoding') !== 'json') return ws.close(4002, 'double: only encoding=json is implemented');
    if (url.searchParams.has('compress')) return ws.close(4002, 'double: zlib-stream compression is not implemented');
    this.sequences.set(ws, 0);
    ws.send(JSON.stringify({ op: 10, d: { heartbeat_interval: this.opts.heartbeatIntervalMs ?? 41_250 }, s: null, t: null }));
    ws.on('message', (raw, isBinary) => {
      if (isBinary) return ws.close(4002, 'Error while decoding payload.');
      let payload: { op?: number; d?: Record<string, unknown> | number | null };
      try {
        payload = JSON.parse(String(raw)) as typeof payload;
      } catch {
        return ws.close(4002, 'Error while decoding payload.');
      }
      switch (payload.op) {
        case 1:
          ws.send(JSON.stringify({ op: 11, d: null, s: null, t: null }));
          return;
        case 2:
          return this.identify(ws, (payload.d ?? {}) as Record<string, unknown>, query);
        case 6:
          return this.resume(ws, (payload.d ?? {}) as Record<string, unknown>);
        case 3:
        case 8:
          if (!this.identified.has(ws)) return ws.close(4003, 'Not authenticated.');
          return;
        default:
          return ws.close(4001, 'Unknown opcode.');
      }
    });
  }

  private identify(ws: WebSocket, d: Record<string, unknown>, query: string): void {
    if (this.identified.has(ws)) return ws.close(4005, 'Already authenticated.');
    if (d.token !== this.opts.token && d.token !== `Bot ${this.opts.token}`) return ws.close(4004, 'Authentication failed.');
    const intents = Number(d.intents);
    if (!Number.isInteger(intents) || intents < 0 || (intents & ~ALL_INTENTS) !== 0) return ws.close(4013, 'Invalid intent(s).');
    if ((intents & PRIVILEGED_INTENTS) !== 0) return ws.close(4014, 'Disallowed intent(s).');
    this.identifies.push({ intents, compress: d.compress === true, query });
    const sessionId = snowflake();
    this.sessionOf.set(ws, sessionId);
    this.dispatch(ws, 'READY', {
      v: 10,
      user: { ...this.botUser, discriminator: '0', global_name: null, avatar: null, bot: true, verified: true, flags: 0, mfa_enabled: false },
      guilds: [{ id: this.opts.guildId, unavailable: true }],
      session_id: sessionId,
      resume_gateway_url: this.gatewayUrl,
      shard: [0, 1],
      application: { id: this.opts.applicationId, flags: 0 },
      user_settings: {},
      private_channels: [],
      presences: [],
      relationships: [],
      guild_join_requests: [],
      geo_ordered_rtc_regions: [],
    });
    // Promptly, so discord.js does not sit out its 15 s waitGuildTimeout.
    this.dispatch(ws, 'GUILD_CREATE', this.guildObject());
    this.identified.add(ws);
    this.changed();
  }

  /** RESUME (op 6) of a known session: the same sequence goes on, then RESUMED. Unknown: op 9. */
  private resume(ws: WebSocket, d: Record<string, unknown>): void {
    if (this.identified.has(ws)) return ws.close(4005, 'Already authenticated.');
    if (d.token !== this.opts.token && d.token !== `Bot ${this.opts.token}`) return ws.close(4004, 'Authentication failed.');
    const session = this.sessions.get(String(d.session_id));
    if (!session || Number(d.seq) > session.seq) {
      ws.send(JSON.stringify({ op: 9, d: false, s: null, t: null }));
      return;
    }
    this.resumes += 1;
    this.sessionOf.set(ws, String(d.session_id));
    this.sequences.set(ws, session.seq);
    this.dispatch(ws, 'RESUMED', {});
    this.identified.add(ws);
    this.changed();
  }

  private dispatch(ws: WebSocket, t: string, d: unknown): void {
    const s = (this.sequences.get(ws) ?? 0) + 1;
    this.sequences.set(ws, s);
    const sessionId = this.sessionOf.get(ws);
    if (sessionId) this.sessions.set(sessionId, { seq: s });
    ws.send(JSON.stringify({ op: 0, t, s, d }));
  }

  private guildObject(): Record<string, unknown> {
    const { guildId } = this.opts;
    return {
      id: guildId,
      name: this.opts.guildName ?? 'Computing Society',
      icon: null,
      owner_id: this.opts.members[0]?.id ?? this.botUser.id,
      afk_timeout: 300,
      verification_level: 1,
      default_message_notifications: 1,
      explicit_content_filter: 0,
      mfa_level: 0,
      nsfw_level: 0,
      premium_tier: 0,
      system_channel_flags: 0,
      preferred_locale: 'en-US',
      features: [],
      emojis: [],
      stickers: [],
      roles: [
        { id: guildId, name: '@everyone', color: 0, hoist: false, position: 0, permissions: '1071698660929', managed: false, mentionable: false, flags: 0 },
        ...this.opts.roles.map((r, i) => ({ id: r.id, name: r.name, color: 0, hoist: false, position: i + 1, permissions: '0', managed: false, mentionable: true, flags: 0 })),
      ],
      channels: [...this.channels.values()].filter((c) => c.type === 0).map((c, i) => ({ id: c.id, type: 0, name: c.name, position: i, guild_id: guildId, permission_overwrites: [], nsfw: false, parent_id: null })),
      threads: [],
      members: [],
      presences: [],
      voice_states: [],
      stage_instances: [],
      guild_scheduled_events: [],
      soundboard_sounds: [],
      member_count: this.opts.members.length,
      large: false,
      unavailable: false,
      joined_at: new Date().toISOString(),
    };
  }

  private dispatchInteraction(
    kind: InteractionKind,
    userId: string,
    fields: Record<string, unknown>,
    source?: { channelId: string; messageId: string; ephemeralOf?: DoubleInteraction },
  ): DoubleInteraction {
    const ws = [...this.identified][0];
    if (!ws) throw new Error('double: no bot is connected to the gateway');
    const member = this.member(userId);
    const id = snowflake();
    const token = `aW50ZXJhY3Rpb246${id}.${Math.random().toString(36).slice(2)}${Math.random().toString(36).slice(2)}`;
    const interaction = new DoubleInteraction(this, id, token, kind, userId, source);
    this.interactions.push(interaction);
    const channelId = source?.channelId ?? this.opts.channels[0]!.id;
    const channel = this.channels.get(channelId);
    // The envelope is a recorded payload (tests/fixtures/discord/interaction-*.json); the
    // double fills in who, where and what.
    const payload = structuredClone(INTERACTION_FIXTURES[kind]);
    delete payload._comment;
    delete payload.message;
    const fixtureMember = payload.member as Record<string, unknown>;
    Object.assign(payload, {
      id,
      token,
      application_id: this.opts.applicationId,
      guild_id: this.opts.guildId,
      guild: { ...(payload.guild as object), id: this.opts.guildId },
      channel_id: channelId,
      channel: { ...(payload.channel as object), id: channelId, type: channel?.type ?? 0, guild_id: this.opts.guildId, name: channel?.name ?? 'general' },
      member: {
        ...fixtureMember,
        user: { ...(fixtureMember.user as object), id: member.id, username: member.username, global_name: member.username },
        roles: member.roles,
      },
      authorizing_integration_owners: { '0': this.opts.guildId },
      ...fields,
    });
    if (channel?.type === 1) {
      // A press in the bot's DM with the member, as Discord sends it: no guild and no member
      // (so no roles), the user at the top level, the interaction context BOT_DM (1).
      delete payload.guild_id;
      delete payload.guild;
      delete payload.member;
      Object.assign(payload, {
        user: { ...(fixtureMember.user as object), id: member.id, username: member.username, global_name: member.username },
        channel: { id: channelId, type: 1, recipients: [{ id: member.id, username: member.username }] },
        context: 1,
      });
    }
    this.dispatch(ws, 'INTERACTION_CREATE', payload);
    this.changed();
    return interaction;
  }

  private findCommand(name: string): Record<string, unknown> {
    for (const scope of [this.opts.guildId, 'global']) {
      const reg = [...this.registered].reverse().find((r) => r.scope === scope);
      const cmd = reg?.commands.find((c) => c.name === name);
      if (cmd) return cmd;
    }
    throw new Error(`double: no application command /${name} is registered (register the commands first)`);
  }

  // --- REST -----------------------------------------------------------------------------------

  async handleRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = req.method ?? 'GET';
    const url = new URL(req.url ?? '/', 'http://x');
    const path = url.pathname;
    try {
      const body = await readJson(req);
      if (!path.startsWith(API_PREFIX + '/')) throw new ApiError(404, 0, '404: Not Found');
      const route = path.slice(API_PREFIX.length);
      const result = this.route(method, route, body, req.headers.authorization, url.searchParams);
      if (result === undefined) {
        res.writeHead(204).end();
      } else {
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(result));
      }
    } catch (err) {
      const e = err instanceof ApiError ? err : new ApiError(500, 0, `double: ${(err as Error).message}`);
      this.rejections.push({ method, path, status: e.status, code: e.code, message: e.message });
      this.changed();
      res.writeHead(e.status, { 'content-type': 'application/json' }).end(JSON.stringify({ message: e.message, code: e.code, ...(e.errors ? { errors: e.errors } : {}) }));
    }
  }

  private route(method: string, route: string, body: Record<string, unknown> | undefined, auth: string | undefined, query: URLSearchParams): unknown {
    let m: RegExpExecArray | null;
    // Interaction callbacks and webhooks authenticate with the interaction token, not the bot token.
    if ((m = /^\/interactions\/(\d+)\/([^/]+)\/callback$/.exec(route)) && method === 'POST') {
      return this.interactionCallback(m[1]!, decodeURIComponent(m[2]!), body ?? {}, query.get('with_response') === 'true');
    }
    if ((m = /^\/webhooks\/(\d+)\/([^/]+)(?:\/messages\/([^/]+))?$/.exec(route))) {
      return this.webhook(method, m[1]!, decodeURIComponent(m[2]!), m[3] === undefined ? undefined : decodeURIComponent(m[3]), body ?? {});
    }
    if (auth !== `Bot ${this.opts.token}`) throw new ApiError(401, 0, '401: Unauthorized');
    const app = this.opts.applicationId;
    if (route === '/gateway/bot' && method === 'GET') {
      return { url: this.gatewayUrl, shards: 1, session_start_limit: { total: 1000, remaining: 999, reset_after: 14_400_000, max_concurrency: 1 } };
    }
    if (route === '/users/@me' && method === 'GET') return { ...this.botUser, discriminator: '0', global_name: null, avatar: null, bot: true };
    if ((m = /^\/applications\/(\d+)(?:\/guilds\/(\d+))?\/commands$/.exec(route))) {
      if (m[1] !== app) throw new ApiError(403, 50001, 'Missing Access');
      if (m[2] && m[2] !== this.opts.guildId) throw new ApiError(403, 50001, 'Missing Access');
      const scope = m[2] ?? 'global';
      if (method === 'GET') return [...this.registered].reverse().find((r) => r.scope === scope)?.commands ?? [];
      if (method === 'PUT') return this.putCommands(scope, body);
    }
    if (route === '/users/@me/channels' && method === 'POST') {
      const recipientId = String(body?.recipient_id ?? '');
      this.member(recipientId);
      const existing = [...this.channels.values()].find((c) => c.type === 1 && c.recipientId === recipientId);
      const channel = existing ?? { id: snowflake(), name: '', type: 1, recipientId, messages: new Map<string, StoredMessage>() };
      this.channels.set(channel.id, channel);
      this.dmChannels.push({ recipientId, channelId: channel.id });
      this.changed();
      const user = this.member(recipientId);
      return { id: channel.id, type: 1, last_message_id: null, flags: 0, recipients: [{ id: user.id, username: user.username, global_name: user.username, discriminator: '0', avatar: null }] };
    }
    if ((m = /^\/channels\/(\d+)\/messages$/.exec(route)) && method === 'POST') {
      const channel = this.channels.get(m[1]!);
      if (!channel) throw new ApiError(404, 10003, 'Unknown Channel');
      if (channel.type === 1 && this.member(channel.recipientId!).dmClosed) throw new ApiError(403, 50007, 'Cannot send messages to this user');
      const msg = this.createMessage(channel.id, body ?? {}, 0);
      channel.messages.set(msg.id, msg);
      this.posted.push(msg);
      this.changed();
      return this.wireMessage(msg);
    }
    if ((m = /^\/channels\/(\d+)\/messages\/(\d+)$/.exec(route))) {
      const msg = this.channels.get(m[1]!)?.messages.get(m[2]!);
      if (!msg) throw new ApiError(404, 10008, 'Unknown Message');
      if (method === 'GET') return this.wireMessage(msg);
      if (method === 'PATCH') {
        this.editMessage(msg, body ?? {});
        this.channelEdits.push({ channelId: m[1]!, messageId: m[2]!, body: body ?? {} });
        this.changed();
        return this.wireMessage(msg);
      }
    }
    if ((m = /^\/channels\/(\d+)$/.exec(route)) && method === 'GET') {
      const c = this.channels.get(m[1]!);
      if (!c) throw new ApiError(404, 10003, 'Unknown Channel');
      return { id: c.id, type: c.type, name: c.name, guild_id: c.type === 0 ? this.opts.guildId : undefined };
    }
    if ((m = /^\/guilds\/(\d+)(\/roles|\/channels|\/members\/(\d+))?$/.exec(route)) && method === 'GET') {
      if (m[1] !== this.opts.guildId) throw new ApiError(404, 10004, 'Unknown Guild');
      const g = this.guildObject();
      if (!m[2]) return g;
      if (m[2] === '/roles') return g.roles;
      if (m[2] === '/channels') return g.channels;
      const member = this.opts.members.find((x) => x.id === m![3]);
      if (!member) throw new ApiError(404, 10007, 'Unknown Member');
      return { user: { id: member.id, username: member.username, discriminator: '0', avatar: null }, roles: member.roles, joined_at: '2024-09-01T12:00:00.000000+00:00', deaf: false, mute: false, flags: 0 };
    }
    throw new ApiError(404, 0, `404: Not Found (double has no ${method} ${route})`);
  }

  private putCommands(scope: string, body: unknown): unknown {
    if (!Array.isArray(body)) throw invalidForm([{ path: [], code: 'BASE_TYPE_ARRAY', message: 'Must be an array' }]);
    const commands = body as Array<Record<string, unknown>>;
    const problems = validateCommands(commands);
    if (problems.length) throw invalidForm(problems);
    const stored = commands.map((c) => {
      const id = this.commandIds.get(String(c.name)) ?? snowflake();
      this.commandIds.set(String(c.name), id);
      return { ...c, id, application_id: this.opts.applicationId, type: c.type ?? 1, version: snowflake(), ...(scope === 'global' ? {} : { guild_id: scope }) };
    });
    this.registered.push({ scope, commands: stored });
    this.changed();
    return stored;
  }

  private interactionCallback(id: string, token: string, body: Record<string, unknown>, withResponse: boolean): unknown {
    const interaction = this.interactions.find((i) => i.id === id);
    if (!interaction || interaction.token !== token) throw new ApiError(404, 10062, 'Unknown interaction');
    if (Date.now() - interaction.createdAt > this.interactionDeadlineMs) throw new ApiError(404, 10062, 'Unknown interaction');
    if (interaction.callback) throw new ApiError(400, 40060, 'Interaction has already been acknowledged.');
    const type = Number(body.type);
    const data = body.data as Record<string, unknown> | undefined;
    const allowedTypes: Record<InteractionKind, number[]> = { command: [4, 5, 9], autocomplete: [8], component: [4, 5, 6, 7, 9], modal: [4, 5, 6, 7] };
    if (!allowedTypes[interaction.kind].includes(type)) throw invalidForm([{ path: ['type'], code: 'INTERACTION_CALLBACK_TYPE_INVALID', message: `callback type ${type} is not valid for a ${interaction.kind} interaction` }]);
    if ((type === 6 || type === 7) && !interaction.sourceMessage) throw invalidForm([{ path: ['type'], code: 'INTERACTION_CALLBACK_TYPE_INVALID', message: 'no message to update' }]);
    let resource: Record<string, unknown> = { type };
    if (type === 4) {
      interaction.original = this.createMessage(interaction.sourceMessage?.channelId ?? this.opts.channels[0]!.id, data ?? {}, Number(data?.flags ?? 0));
      resource = { type, message: this.wireMessage(interaction.original) };
    } else if (type === 5) {
      // "Thinking…": an empty placeholder that the bot edits later through @original.
      interaction.original = { ...this.createMessage(this.opts.channels[0]!.id, { content: '', allowed_mentions: { parse: [] } }, Number(data?.flags ?? 0) | (1 << 7), false) };
    } else if (type === 7) {
      const target = this.sourceMessageOf(interaction);
      if (!target) throw new ApiError(404, 10008, 'Unknown Message');
      this.editMessage(target, data ?? {});
      resource = { type, message: this.wireMessage(target) };
    } else if (type === 8) {
      const choices = (data?.choices ?? []) as Array<{ name: string; value: string | number }>;
      const problems: FormProblem[] = [];
      if (!Array.isArray(choices) || choices.length > 25) problems.push({ path: ['data', 'choices'], code: 'BASE_TYPE_MAX_LENGTH', message: 'Must be 25 or fewer in length.' });
      else
        choices.forEach((c, i) => {
          if (len(c.name) < 1 || len(c.name) > 100) problems.push({ path: ['data', 'choices', String(i), 'name'], code: 'BASE_TYPE_BAD_LENGTH', message: 'Must be between 1 and 100 in length.' });
          if (typeof c.value === 'string' && len(c.value) > 100) problems.push({ path: ['data', 'choices', String(i), 'value'], code: 'BASE_TYPE_MAX_LENGTH', message: 'Must be 100 or fewer in length.' });
        });
      if (problems.length) throw invalidForm(problems);
      interaction.choices = choices;
    } else if (type === 9) {
      const problems = validateModal(data ?? {});
      if (problems.length) throw invalidForm(problems);
      interaction.modal = data;
    }
    interaction.callback = { interactionId: id, type, data, at: Date.now() };
    this.callbacks.push(interaction.callback);
    this.changed();
    return withResponse ? { interaction: { id, type: { command: 2, autocomplete: 4, component: 3, modal: 5 }[interaction.kind], response_message_loading: type === 5, response_message_ephemeral: ((Number(data?.flags ?? 0)) & EPHEMERAL) !== 0 }, resource } : undefined;
  }

  private webhook(method: string, app: string, token: string, messageId: string | undefined, body: Record<string, unknown>): unknown {
    if (app !== this.opts.applicationId) throw new ApiError(404, 10015, 'Unknown Webhook');
    const interaction = this.interactions.find((i) => i.token === token);
    if (!interaction) throw new ApiError(401, 50027, 'Invalid Webhook Token');
    if (Date.now() - interaction.createdAt > this.tokenLifetimeMs) throw new ApiError(401, 50027, 'Invalid Webhook Token');
    if (!interaction.callback) throw new ApiError(404, 10015, 'Unknown Webhook');
    if (messageId === undefined) {
      if (method !== 'POST') throw new ApiError(405, 0, '405: Method Not Allowed');
      const msg = this.createMessage(interaction.sourceMessage?.channelId ?? this.opts.channels[0]!.id, body, Number(body.flags ?? 0));
      interaction.followups.push(msg);
      this.changed();
      return this.wireMessage(msg);
    }
    let target: StoredMessage | undefined;
    if (messageId === '@original') {
      // After a deferred update (6) or an update (7), @original is the component's message.
      target = interaction.original ?? (interaction.callback.type === 6 || interaction.callback.type === 7 ? this.sourceMessageOf(interaction) : undefined);
    } else target = interaction.followups.find((f) => f.id === messageId);
    if (!target) throw new ApiError(404, 10008, 'Unknown Message');
    if (method === 'GET') return this.wireMessage(target);
    if (method === 'PATCH') {
      this.editMessage(target, body);
      this.changed();
      return this.wireMessage(target);
    }
    throw new ApiError(405, 0, '405: Method Not Allowed');
  }

  private sourceMessageOf(interaction: DoubleInteraction): StoredMessage | undefined {
    const src = interaction.sourceMessage;
    if (!src) return undefined;
    if (src.ephemeralOf) return [src.ephemeralOf.original, ...src.ephemeralOf.followups].find((m) => m?.id === src.messageId);
    return this.message(src.channelId, src.messageId);
  }

  private createMessage(channelId: string, body: Record<string, unknown>, flags: number, check = true): StoredMessage {
    if (check) this.checkBody(body, true);
    const content = typeof body.content === 'string' ? body.content : '';
    const allowed = body.allowed_mentions as AllowedMentions | undefined;
    return {
      id: snowflake(),
      channel_id: channelId,
      content,
      embeds: (body.embeds ?? []) as StoredMessage['embeds'],
      components: (body.components ?? []) as StoredMessage['components'],
      flags,
      allowed_mentions: allowed,
      pinged: effectivePings(content, allowed),
      edits: 0,
      timestamp: new Date().toISOString(),
      edited_timestamp: null,
    };
  }

  private editMessage(msg: StoredMessage, body: Record<string, unknown>): void {
    this.checkBody(body, false);
    if (body.content !== undefined) msg.content = String(body.content ?? '');
    if (body.embeds !== undefined) msg.embeds = (body.embeds ?? []) as StoredMessage['embeds'];
    if (body.components !== undefined) msg.components = (body.components ?? []) as StoredMessage['components'];
    if (body.allowed_mentions !== undefined) msg.allowed_mentions = body.allowed_mentions as AllowedMentions;
    if (typeof body.flags === 'number') msg.flags = (msg.flags & ~(1 << 7)) | (body.flags & ~(1 << 7));
    else msg.flags &= ~(1 << 7);
    msg.pinged = effectivePings(msg.content, msg.allowed_mentions);
    msg.edits += 1;
    msg.edited_timestamp = new Date().toISOString();
  }

  /** Discord's limits, plus vmbot's rule that member text never pings (allowed_mentions.parse empty). */
  private checkBody(body: Record<string, unknown>, isNew: boolean): void {
    const problems = validateMessageBody(body, { requireContent: isNew });
    const allowed = body.allowed_mentions as AllowedMentions | undefined;
    const touchesText = body.content !== undefined || isNew;
    if (touchesText && !allowed) problems.push({ path: ['allowed_mentions'], code: 'VMBOT_ALLOWED_MENTIONS_REQUIRED', message: 'double: every vmbot message must set allowed_mentions' });
    if (allowed && (allowed.parse ?? []).length > 0) problems.push({ path: ['allowed_mentions', 'parse'], code: 'VMBOT_PARSE_NOT_EMPTY', message: `double: allowed_mentions.parse must be empty (got ${JSON.stringify(allowed.parse)}): list the intended users instead` });
    if (problems.length) throw invalidForm(problems);
  }

  /** A message as the API returns it (what discord.js builds a Message from). */
  private wireMessage(m: StoredMessage): Record<string, unknown> {
    return {
      id: m.id,
      channel_id: m.channel_id,
      author: { ...this.botUser, discriminator: '0', global_name: null, avatar: null, bot: true },
      content: m.content,
      embeds: m.embeds,
      components: m.components,
      flags: m.flags,
      timestamp: m.timestamp,
      edited_timestamp: m.edited_timestamp,
      tts: false,
      mention_everyone: m.pinged.everyone,
      mentions: [],
      mention_roles: m.pinged.roles,
      attachments: [],
      pinned: false,
      type: 0,
      application_id: this.opts.applicationId,
    };
  }

  private changed(): void {
    this.events.emit('change');
  }
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown> | undefined> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  if (chunks.length === 0) return undefined;
  const text = Buffer.concat(chunks).toString('utf8');
  if (!text) return undefined;
  const type = req.headers['content-type'] ?? '';
  if (!type.includes('application/json')) throw new ApiError(400, 50109, 'The request body contains invalid JSON. (double: only JSON bodies)');
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw new ApiError(400, 50109, 'The request body contains invalid JSON.');
  }
}

export async function startDiscordDouble(opts: DiscordDoubleOptions): Promise<DiscordDouble> {
  const server = createServer();
  const wss = new WebSocketServer({ noServer: true });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const double = new DiscordDouble(opts, server, wss, port);
  server.on('request', (req, res) => void double.handleRequest(req, res));
  server.on('upgrade', (req, socket, head) => {
    wss.handleUpgrade(req, socket, head, (ws) => double.handleSocket(ws, req));
  });
  return double;
}
