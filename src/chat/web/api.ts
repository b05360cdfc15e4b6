// The console's JSON API: each route turns an HTTP request into one workflow call with a
// web Actor and maps the Result to a status and a body. Deciding stays in the workflow.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RequestInput, VmRequest } from '../../domain/request.js';
import { problem, type Problem, type Result } from '../../domain/problem.js';
import type { Config } from '../../config/schema.js';
import type { AuditStore, MacStore, RequestStore } from '../../store/types.js';
import type { VmWorkflow } from '../../workflow/api.js';
import { ACTION_WORDING } from '../../workflow/notices.js';
import { ACTION_KINDS, ACTIONS, isActionKind, type ActionKind, type RequestCardView } from '../../workflow/views.js';
import { LOCAL_ADMIN_ID, LOCAL_MEMBER_ID, VIEW_HEADER, localActor, parseView, sameOriginPost, type ViewName } from './access.js';
import { HttpError, readJson, sendJson, sendProblems, statusForProblems } from './http-util.js';
import type { LiveHub } from './live.js';

/** What the console reads from the store directly (pool usage, audit, the list of cards); it never writes. */
export interface WebConsoleStore {
  requests: Pick<RequestStore, 'list' | 'get'>;
  macs: Pick<MacStore, 'usage'>;
  audit: Pick<AuditStore, 'list'>;
}

export interface ApiContext {
  workflow: VmWorkflow;
  store: WebConsoleStore;
  config: Config;
  mode: 'local' | 'production';
  simulated: boolean;
  hub: LiveHub;
}

/** Cards shown at once; older requests stay reachable through the audit log and `vmbot audit`. */
const CARD_LIMIT = 50;
const AUDIT_LIMIT = 100;

/** What the page needs to draw any action kind (views.ts ACTIONS + notices.ts wording): it words nothing itself. */
export function actionCatalogue(): Record<ActionKind, { label: string; style: string; needs?: string; confirm?: { yes: string; no: string; detail: string }; reason?: { hint: string; submit: string } }> {
  const out = {} as ReturnType<typeof actionCatalogue>;
  for (const kind of ACTION_KINDS) {
    const words = ACTION_WORDING[kind];
    out[kind] = {
      label: words.label,
      ...ACTIONS[kind],
      ...(words.confirm ? { confirm: { yes: words.confirm.yes, no: words.confirm.no, detail: words.confirm.detail } } : {}),
      ...(words.reason ? { reason: { hint: words.reason.hint, submit: words.reason.submit } } : {}),
    };
  }
  return out;
}

export const SIMULATED_BANNER = 'SIMULATED CLUSTER — no real VM is created';

/** GET routes; `view` is the local-mode identity (undefined in production). */
export async function handleGet(ctx: ApiContext, path: string, url: URL, req: IncomingMessage, res: ServerResponse): Promise<boolean> {
  const view = ctx.mode === 'local' ? (parseView(url.searchParams.get('as')) ?? 'member') : undefined;
  switch (path) {
    case '/api/session':
      sendJson(res, 200, {
        mode: ctx.mode,
        readOnly: ctx.mode === 'production',
        simulated: ctx.simulated,
        banner: ctx.simulated ? SIMULATED_BANNER : undefined,
        identities: ctx.mode === 'local' ? { member: LOCAL_MEMBER_ID, admin: LOCAL_ADMIN_ID } : undefined,
        actions: actionCatalogue(),
      });
      return true;
    case '/api/cards':
      sendJson(res, 200, { ok: true, value: await cards(ctx, view) });
      return true;
    case '/api/pool':
      sendJson(res, 200, { ok: true, value: await ctx.store.macs.usage() });
      return true;
    case '/api/audit':
      sendJson(res, 200, { ok: true, value: await ctx.store.audit.list({ limit: AUDIT_LIMIT }) });
      return true;
    case '/api/events': {
      const member = view === 'member' ? LOCAL_MEMBER_ID : view === 'admin' ? LOCAL_ADMIN_ID : undefined;
      ctx.hub.open(res, { ...(view === 'member' ? { onlyMember: LOCAL_MEMBER_ID } : {}), ...(member ? { member } : {}) });
      req.socket.setTimeout(0);
      return true;
    }
  }
  if (!view) return false;
  const actor = localActor(view);
  switch (path) {
    case '/api/form':
      sendJson(res, 200, { ok: true, value: await ctx.workflow.requestForm(actor) });
      return true;
    case '/api/vms':
      sendResult(res, await ctx.workflow.list(actor));
      return true;
    case '/api/ip': {
      const name = (url.searchParams.get('name') ?? '').trim();
      if (!name) sendProblems(res, 400, [problem('invalid_name', 'Type the name of a VM to look up.', 'name')]);
      else sendResult(res, await ctx.workflow.ip(actor, name));
      return true;
    }
    case '/api/notices':
      sendJson(res, 200, { ok: true, value: ctx.hub.backlog(actor.userId) });
      return true;
    case '/api/logs': {
      // `/vm logs`: the workflow decides who may read it and what is fit to show.
      const name = (url.searchParams.get('name') ?? '').trim();
      if (!name) sendProblems(res, 400, [problem('invalid_name', 'Type the name of a VM to read its console.', 'name')]);
      else sendResult(res, await ctx.workflow.logs(actor, name));
      return true;
    }
  }
  return false;
}

/** POST routes (local mode only; the production console is read-only). */
export async function handlePost(ctx: ApiContext, path: string, req: IncomingMessage, res: ServerResponse): Promise<boolean> {
  const refused = sameOriginPost(req);
  if (refused) throw new HttpError(403, `request refused: ${refused}`, 'csrf');
  const view: ViewName | undefined = parseView(firstHeader(req.headers[VIEW_HEADER]));
  if (!view) throw new HttpError(400, `the ${VIEW_HEADER} header must be "member" or "admin"`, 'bad_request');
  const actor = localActor(view);
  const body = asRecord(await readJson(req));

  if (path === '/api/requests') {
    sendResult(res, await ctx.workflow.submitRequest(actor, requestInput(body)));
    return true;
  }
  // Every action kind (views.ts ACTION_KINDS) at one route: POST /api/requests/<id>/<kind>.
  let m = /^\/api\/requests\/([A-Za-z0-9_-]{1,64})\/([a-z_]{1,40})$/.exec(path);
  if (m && isActionKind(m[2]!)) {
    const kind = m[2];
    sendResult(res, await ctx.workflow.act(actor, { kind, requestId: m[1]!, ...(ACTIONS[kind].needs === 'reason' ? { reason: str(body.reason) } : {}) }));
    return true;
  }
  // An admin sets a VM's expiry (leases): { date: "YYYY-MM-DD" }; the workflow decides who may.
  m = /^\/api\/vms\/([^/]{1,128})\/expiry$/.exec(path);
  if (m) {
    sendResult(res, await ctx.workflow.setExpiry(actor, decodeURIComponent(m[1]!), str(body.date)));
    return true;
  }
  // The VMs table deletes by name or id.
  m = /^\/api\/vms\/([^/]{1,128})\/delete$/.exec(path);
  if (m) {
    sendResult(res, await ctx.workflow.act(actor, { kind: 'delete', requestId: decodeURIComponent(m[1]!) }));
    return true;
  }
  return false;
}

async function cards(ctx: ApiContext, view: ViewName | undefined): Promise<RequestCardView[]> {
  const filter = view === 'member' ? { requester: { platform: 'web' as const, userId: LOCAL_MEMBER_ID } } : undefined;
  const requests: VmRequest[] = await ctx.store.requests.list(filter);
  const newest = [...requests].sort((a, b) => b.createdAt.localeCompare(a.createdAt)).slice(0, CARD_LIMIT);
  const views = await Promise.all(newest.map((r) => ctx.workflow.card(r.id)));
  return views.filter((c): c is RequestCardView => c !== undefined);
}

function sendResult<T>(res: ServerResponse, result: Result<T>): void {
  if (result.ok) sendJson(res, 200, result);
  else sendProblems(res, statusForProblems(result.problems), result.problems.map(inConsoleTerms));
}

/**
 * The workflow's messages are written for Slack and Discord, where `/vm list` is a command;
 * the console has no commands, so it points to its own VMs table instead.
 */
export function inConsoleTerms(p: Problem): Problem {
  const message = p.message.replace(/\s*`?\/vm list`? shows yours\./g, ' The VMs table on this page lists yours.');
  return message === p.message ? p : { ...p, message };
}

function requestInput(body: Record<string, unknown>): RequestInput {
  return { name: str(body.name), distro: str(body.distro), size: str(body.size), login: str(body.login), sshKeys: str(body.sshKeys), reason: str(body.reason) };
}

function asRecord(value: unknown): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new HttpError(400, 'the request body must be a JSON object', 'bad_request');
  return value as Record<string, unknown>;
}

const str = (v: unknown): string => (typeof v === 'string' ? v : '');
const firstHeader = (v: string | string[] | undefined): string | undefined => (Array.isArray(v) ? v[0] : v);
