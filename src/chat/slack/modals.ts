// The modals: the request form (prefilled from the workflow), and the reason a press of a
// kind that needs one asks for (Deny; worded in src/workflow/notices.ts).
// Block IDs are the RequestInput keys, so a Problem's `field` names the block Slack
// shows the error under (response_action: errors).
import type { types } from '@slack/bolt';
import type { Problem } from '../../domain/problem.js';
import type { RequestInput } from '../../domain/request.js';
import { ACTION_WORDING } from '../../workflow/notices.js';
import { isActionKind, type ActionKind, type RequestFormView } from '../../workflow/views.js';
import { mrkdwnOf } from './blocks.js';
import { plain } from './escape.js';
import { LIMITS } from './limits.js';

export const REQUEST_CALLBACK = 'vm:request';
/** The reason modal of a kind: `vm:<kind>` (Deny's is `vm:deny`). */
export const reasonCallback = (kind: ActionKind): string => `vm:${kind}`;
export const DENY_CALLBACK = reasonCallback('deny');
/** The block of the reason input: problems about the reason name it. */
export const REASON_BLOCK = 'reason';
const VALUE = 'value';

export const REQUEST_FIELDS = ['name', 'distro', 'size', 'login', 'sshKeys', 'reason'] as const;
type RequestField = (typeof REQUEST_FIELDS)[number];

const textInput = (blockId: string, label: string, opts: { multiline?: boolean; initial?: string; placeholder?: string; hint?: string; max?: number; optional?: boolean } = {}): types.InputBlock => {
  const element: types.PlainTextInput = { type: 'plain_text_input', action_id: VALUE, multiline: opts.multiline ?? false };
  if (opts.initial) element.initial_value = opts.initial.slice(0, LIMITS.plainTextInputMax);
  if (opts.placeholder) element.placeholder = { type: 'plain_text', text: plain(opts.placeholder, 150) };
  if (opts.max) element.max_length = opts.max;
  return {
    type: 'input',
    block_id: blockId,
    label: { type: 'plain_text', text: label },
    element,
    ...(opts.hint ? { hint: { type: 'plain_text' as const, text: plain(opts.hint, LIMITS.inputHint) } } : {}),
    ...(opts.optional ? { optional: true } : {}),
  };
};

const select = (blockId: string, label: string, choices: ReadonlyArray<{ value: string; label: string }>): types.InputBlock => {
  const options = choices.slice(0, LIMITS.selectOptions).map((c) => ({ text: { type: 'plain_text' as const, text: plain(c.label, LIMITS.optionText) }, value: c.value.slice(0, LIMITS.optionValue) }));
  const element: types.StaticSelect = { type: 'static_select', action_id: VALUE, options };
  // One choice needs no decision: preselect it.
  if (options.length === 1) element.initial_option = options[0]!;
  return { type: 'input', block_id: blockId, label: { type: 'plain_text', text: label }, element };
};

/** The `/vm request` form. */
export function requestModal(form: RequestFormView): types.ModalView {
  return {
    type: 'modal',
    callback_id: REQUEST_CALLBACK,
    title: { type: 'plain_text', text: 'Request a VM' },
    submit: { type: 'plain_text', text: 'Send to admins' },
    close: { type: 'plain_text', text: 'Cancel' },
    blocks: [
      textInput('name', 'VM name', { placeholder: 'my-vm', hint: 'Lower-case letters, digits and dashes; it becomes the host name.', max: 63 }),
      select('distro', 'Distribution', form.distros),
      select('size', 'Size', form.sizes),
      textInput('login', 'Login name', { ...(form.prefill.login ? { initial: form.prefill.login } : {}), placeholder: 'alice', hint: 'The user created on the VM for you, with sudo.', max: 32 }),
      textInput('sshKeys', 'SSH public key(s)', { multiline: true, ...(form.prefill.sshKeys ? { initial: form.prefill.sshKeys } : {}), placeholder: 'ssh-ed25519 AAAA... you@laptop', hint: 'One public key per line (the .pub file). Never paste a private key.' }),
      textInput('reason', 'What is it for?', { multiline: true, placeholder: 'A few words for the admins', max: 1000 }),
    ],
  };
}

type StateValues = Record<string, Record<string, { type?: string; value?: string | null; selected_option?: { value: string } | null } | undefined> | undefined>;

/** Reads the submitted form; a missing field reads as empty and the workflow's validation names it. */
export function readRequestSubmission(values: StateValues): RequestInput {
  const read = (field: RequestField): string => {
    const v = values[field]?.[VALUE];
    return (v?.selected_option?.value ?? v?.value ?? '').trim();
  };
  return { name: read('name'), distro: read('distro'), size: read('size'), login: read('login'), sshKeys: read('sshKeys'), reason: read('reason') };
}

/**
 * Problems → `{ block_id: message }` for response_action: errors. A problem with no field
 * (or one the form has no block for) is shown under `fallbackBlock`.
 */
export function problemsToErrors(problems: readonly Problem[], blocks: readonly string[], fallbackBlock: string): Record<string, string> {
  const errors: Record<string, string> = {};
  for (const p of problems) {
    const block = p.field && blocks.includes(p.field) ? p.field : fallbackBlock;
    // Modal error strings are plain text shown by Slack; keep them short.
    errors[block] = errors[block] ? plain(`${errors[block]} ${p.message}`, 2000) : plain(p.message, 2000);
  }
  return errors;
}

export interface ReasonMetadata {
  requestId: string;
  /** The card the button was on, to answer in the same channel. */
  channel?: string;
}

/** Asks for the reason a press of `kind` needs (the member reads it). */
export function reasonModal(kind: ActionKind, meta: ReasonMetadata, vmName: string): types.ModalView {
  const wording = ACTION_WORDING[kind].reason;
  if (!wording) throw new Error(`action ${kind} asks for no reason`);
  return {
    type: 'modal',
    callback_id: reasonCallback(kind),
    private_metadata: JSON.stringify(meta),
    title: { type: 'plain_text', text: plain(wording.title, LIMITS.modalTitle) },
    submit: { type: 'plain_text', text: plain(wording.submit, LIMITS.modalButton) },
    close: { type: 'plain_text', text: 'Back' },
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: mrkdwnOf(wording.question(vmName.slice(0, 200))) } },
      textInput(REASON_BLOCK, wording.field, { multiline: true, max: 1000, hint: wording.hint }),
    ],
  };
}

/** Deny's reason modal. */
export function denyModal(meta: ReasonMetadata, vmName: string): types.ModalView {
  return reasonModal('deny', meta, vmName);
}

/** The kind whose reason modal a view submission answers, from its callback_id. */
export function reasonKindOf(callbackId: string): ActionKind | undefined {
  const kind = callbackId.startsWith('vm:') ? callbackId.slice(3) : '';
  return isActionKind(kind) && ACTION_WORDING[kind].reason ? kind : undefined;
}

export function readDenyMetadata(raw: string | undefined): ReasonMetadata | undefined {
  try {
    const parsed: unknown = JSON.parse(raw ?? '');
    if (parsed && typeof parsed === 'object' && typeof (parsed as ReasonMetadata).requestId === 'string') return parsed as ReasonMetadata;
  } catch {
    // fall through: not ours
  }
  return undefined;
}

export function readDenyReason(values: StateValues): string {
  return (values[REASON_BLOCK]?.[VALUE]?.value ?? '').trim();
}
