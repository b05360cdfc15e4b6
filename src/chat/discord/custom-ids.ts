// custom_id layout for buttons and modals. The ID carries everything needed to find the
// state in the store (the request id), so a button drawn before a restart still works after
// it: no in-memory collectors. Discord limits custom_id to 100 characters.
// Every action kind of src/workflow/views.ts is encoded the same way, from its spec:
//   vm:<kind>:<id>          the button drawn on a card or in a DM
//   vm:<kind>-confirm:<id>  the confirmation offered after a press (kinds that need one)
//   vm:<kind>-reason:<id>   the modal asking for the reason (kinds that need one)
import { ACTIONS, isActionKind, type ActionKind } from '../../workflow/views.js';

export const CUSTOM_ID_MAX = 100;

export type ParsedCustomId =
  | { kind: 'button'; action: ActionKind; requestId: string; confirmed: boolean }
  | { kind: 'reason'; action: ActionKind; requestId: string }
  | { kind: 'request-form'; name: string; distro: string; size: string };

const REQUEST_ID = /^[A-Za-z0-9_-]{1,64}$/;
const CONFIRMED = '-confirm';
const REASON = '-reason';

/** A button for `action`; `confirmed` for the confirmation of a kind that needs one. */
export function buttonId(action: ActionKind, requestId: string, opts: { confirmed?: boolean } = {}): string {
  return checked(`vm:${action}${opts.confirmed ? CONFIRMED : ''}:${requestId}`);
}

/** The modal asking for the reason `action` needs. */
export function reasonModalId(action: ActionKind, requestId: string): string {
  return checked(`vm:${action}${REASON}:${requestId}`);
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
  if (isActionKind(what)) return { kind: 'button', action: what, requestId, confirmed: false };
  const base = (suffix: string) => (what.endsWith(suffix) ? what.slice(0, -suffix.length) : '');
  const confirmedKind = base(CONFIRMED);
  if (isActionKind(confirmedKind) && ACTIONS[confirmedKind].needs === 'confirmation') return { kind: 'button', action: confirmedKind, requestId, confirmed: true };
  const reasonKind = base(REASON);
  if (isActionKind(reasonKind) && ACTIONS[reasonKind].needs === 'reason') return { kind: 'reason', action: reasonKind, requestId };
  return undefined;
}

function checked(id: string): string {
  if (id.length > CUSTOM_ID_MAX) throw new Error(`custom_id ${JSON.stringify(id.slice(0, 40))}… is longer than ${CUSTOM_ID_MAX} characters`);
  return id;
}
