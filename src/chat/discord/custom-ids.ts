// custom_id layout for buttons and modals. The ID carries everything needed to find the
// state in the store (the request id), so a button drawn before a restart still works after
// it: no in-memory collectors. Discord limits custom_id to 100 characters.
import type { ActionKind } from '../../workflow/views.js';

export const CUSTOM_ID_MAX = 100;

/** Buttons on the admin card, plus the confirmation button of a delete. */
export type ButtonAction = ActionKind | 'delete-confirm';
const BUTTON_ACTIONS: readonly ButtonAction[] = ['approve', 'deny', 'retry', 'delete', 'cancel', 'delete-confirm'];

export type ParsedCustomId =
  | { kind: 'button'; action: ButtonAction; requestId: string }
  | { kind: 'deny-reason'; requestId: string }
  | { kind: 'request-form'; name: string; distro: string; size: string };

const REQUEST_ID = /^[A-Za-z0-9_-]{1,64}$/;

export function buttonId(action: ButtonAction, requestId: string): string {
  return checked(`vm:${action}:${requestId}`);
}

export function denyReasonModalId(requestId: string): string {
  return checked(`vm:deny-reason:${requestId}`);
}

/**
 * The request modal remembers the slash command's name/distro/size. Each part is URI-encoded
 * so a stray ':' in a name cannot shift the others; undefined when it would not fit.
 */
export function requestFormModalId(name: string, distro: string, size: string): string | undefined {
  const id = `vm:request-form:${[name, distro, size].map(encodeURIComponent).join(':')}`;
  return id.length <= CUSTOM_ID_MAX ? id : undefined;
}

export function parseCustomId(id: string): ParsedCustomId | undefined {
  const parts = id.split(':');
  if (parts[0] !== 'vm') return undefined;
  const what = parts[1] ?? '';
  if (what === 'request-form' && parts.length === 5) {
    try {
      const [name, distro, size] = parts.slice(2).map(decodeURIComponent) as [string, string, string];
      return { kind: 'request-form', name, distro, size };
    } catch {
      return undefined;
    }
  }
  const requestId = parts[2] ?? '';
  if (parts.length !== 3 || !REQUEST_ID.test(requestId)) return undefined;
  if (what === 'deny-reason') return { kind: 'deny-reason', requestId };
  if ((BUTTON_ACTIONS as readonly string[]).includes(what)) return { kind: 'button', action: what as ButtonAction, requestId };
  return undefined;
}

function checked(id: string): string {
  if (id.length > CUSTOM_ID_MAX) throw new Error(`custom_id ${JSON.stringify(id.slice(0, 40))}… is longer than ${CUSTOM_ID_MAX} characters`);
  return id;
}
