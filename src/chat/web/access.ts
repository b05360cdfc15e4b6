// Who may use the console and how they prove it. Local mode: the person at the keyboard
// switches between a member and an admin identity (the console is bound to loopback by
// default). Production: one access token (VMBOT_WEB_TOKEN), read-only.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Actor } from '../../domain/request.js';

/** The two identities of local mode; local mode's config lists LOCAL_ADMIN_ID in web.admins. */
export const LOCAL_MEMBER_ID = 'local-member';
export const LOCAL_ADMIN_ID = 'local-admin';

export type ViewName = 'member' | 'admin';

export const TOKEN_COOKIE = 'vmbot_web_token';
/** The header every JSON POST must carry: a cross-site form cannot set it, and a cross-site fetch that sets it needs a CORS preflight we never answer. */
export const VIEW_HEADER = 'x-vmbot-as';

export function localActor(view: ViewName): Actor {
  return view === 'admin'
    ? { platform: 'web', userId: LOCAL_ADMIN_ID, displayName: 'Local admin', groups: [] }
    : { platform: 'web', userId: LOCAL_MEMBER_ID, displayName: 'Local member', groups: [] };
}

export function parseView(value: string | null | undefined): ViewName | undefined {
  return value === 'member' || value === 'admin' ? value : undefined;
}

/** Compares SHA-256 digests so neither the length nor the content leaks through timing. */
export function tokenMatches(expected: string, given: string | undefined): boolean {
  if (!given) return false;
  const a = createHash('sha256').update(expected).digest();
  const b = createHash('sha256').update(given).digest();
  return timingSafeEqual(a, b);
}

export function readCookie(req: IncomingMessage, name: string): string | undefined {
  const header = req.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const i = part.indexOf('=');
    if (i < 0) continue;
    if (part.slice(0, i).trim() === name) {
      try {
        return decodeURIComponent(part.slice(i + 1).trim());
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}

/** The token the client presented, from `Authorization: Bearer`, the cookie, or (first visit) `?token=`. */
export function presentedToken(req: IncomingMessage, url: URL): { token?: string; fromQuery: boolean } {
  const auth = req.headers.authorization;
  if (auth?.startsWith('Bearer ')) return { token: auth.slice('Bearer '.length).trim(), fromQuery: false };
  const cookie = readCookie(req, TOKEN_COOKIE);
  if (cookie) return { token: cookie, fromQuery: false };
  const query = url.searchParams.get('token');
  if (query) return { token: query, fromQuery: true };
  return { fromQuery: false };
}

export function tokenCookie(token: string, secure: boolean): string {
  return `${TOKEN_COOKIE}=${encodeURIComponent(token)}; HttpOnly; SameSite=Strict; Path=/${secure ? '; Secure' : ''}`;
}

/**
 * Same-origin check for state-changing requests: the custom header must be there, the body
 * must be JSON, and an Origin header (browsers send one on POST) must name this very host.
 */
export function sameOriginPost(req: IncomingMessage): string | undefined {
  if (!req.headers[VIEW_HEADER]) return `missing the ${VIEW_HEADER} header`;
  const type = req.headers['content-type'] ?? '';
  if (!type.startsWith('application/json')) return 'the body must be application/json';
  const origin = req.headers.origin;
  if (origin !== undefined) {
    let host: string;
    try {
      host = new URL(origin).host;
    } catch {
      return 'the Origin header is not a URL';
    }
    if (host !== req.headers.host) return `cross-origin request from ${origin} refused`;
  }
  return undefined;
}
