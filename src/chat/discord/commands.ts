// The `/vm` application command and the modals it opens. Distro and size are choices from the
// catalogue (Discord shows them as a picker); login name, SSH key and reason are collected by a
// modal, prefilled from workflow.requestForm. Pure: builds JSON, registers nothing.
import {
  ApplicationCommandOptionType,
  ComponentType,
  TextInputStyle,
  type APIApplicationCommandOptionChoice,
  type APIModalInteractionResponseCallbackData,
  type RESTPutAPIApplicationCommandsJSONBody,
} from 'discord.js';
import { ACTION_WORDING } from '../../workflow/notices.js';
import type { ActionKind, RequestFormView } from '../../workflow/views.js';
import { reasonModalId } from './custom-ids.js';
import { clip } from './mentions.js';

export const COMMAND_NAME = 'vm';
/** Discord allows 25 choices per option; a longer catalogue would need autocomplete. */
const MAX_CHOICES = 25;
/** VM names are RFC 1123 labels, at most 31 characters (see domain validation); a little slack here. */
const NAME_MAX = 40;

export interface Catalogue {
  distros: ReadonlyArray<{ name: string; label: string }>;
  sizes: ReadonlyArray<{ name: string; label: string }>;
}

/** Text input ids. `actionReason` is the reason input of every reason modal (named when Deny was the only one). */
export const FORM_FIELDS = { login: 'login', sshKeys: 'ssh_keys', reason: 'reason', actionReason: 'deny_reason' } as const;

function choices(items: Catalogue['distros']): APIApplicationCommandOptionChoice<string>[] {
  return items.slice(0, MAX_CHOICES).map((i) => ({ name: clip(i.label === i.name ? i.name : `${i.label} (${i.name})`, 100), value: i.name }));
}

const vmName = (description: string) => ({ type: ApplicationCommandOptionType.String, name: 'name', description, required: true, min_length: 1, max_length: NAME_MAX }) as const;
/** Names of existing VMs are suggested as the member types (Discord autocomplete). */
const existingVm = (description: string) => ({ ...vmName(description), autocomplete: true }) as const;

/** The body of PUT /applications/:app/(guilds/:guild/)commands: one `/vm` command with subcommands. */
export function buildCommands(catalogue: Catalogue): RESTPutAPIApplicationCommandsJSONBody {
  const sub = ApplicationCommandOptionType.Subcommand;
  return [
    {
      name: COMMAND_NAME,
      description: 'Virtual machines on the society cluster',
      type: 1,
      // Guild only: roles decide who is an admin, and DMs have no roles.
      contexts: [0],
      options: [
        {
          type: sub,
          name: 'request',
          description: 'Ask for a VM (a form then asks for login name, SSH key and reason)',
          options: [
            vmName('VM name: lower-case letters, digits and dashes'),
            { type: ApplicationCommandOptionType.String, name: 'distro', description: 'Operating system', required: true, choices: choices(catalogue.distros) },
            { type: ApplicationCommandOptionType.String, name: 'size', description: 'CPU and memory', required: true, choices: choices(catalogue.sizes) },
          ],
        },
        { type: sub, name: 'ip', description: 'The address of a VM', options: [existingVm('VM name')] },
        { type: sub, name: 'list', description: 'Your VMs (admins: all VMs)' },
        { type: sub, name: 'status', description: 'State and progress of a VM', options: [existingVm('VM name')] },
        { type: sub, name: 'logs', description: "The last 40 lines of a VM's console (only you see them)", options: [existingVm('VM name')] },
        { type: sub, name: 'delete', description: 'Delete a VM', options: [existingVm('VM name')] },
        { type: sub, name: 'cancel', description: 'Withdraw a request that is still waiting for approval', options: [existingVm('VM name or request id')] },
        { type: sub, name: 'renew', description: 'Extend the lease of your VM (later renewals ask the admins)', options: [existingVm('VM name')] },
        { type: sub, name: 'stop', description: 'Stop a running VM (its name, MAC and address are kept)', options: [existingVm('VM name')] },
        { type: sub, name: 'start', description: 'Start a stopped VM again (a fresh disk from the image)', options: [existingVm('VM name')] },
        { type: sub, name: 'reboot', description: 'Reboot a running VM (same disk)', options: [existingVm('VM name')] },
        { type: sub, name: 'rebuild', description: 'Boot a VM again on a fresh disk from the image (asks you to confirm)', options: [existingVm('VM name')] },
        {
          type: sub,
          name: 'expire',
          description: "Admins: set when a VM's lease ends",
          options: [existingVm('VM name'), { type: ApplicationCommandOptionType.String, name: 'date', description: 'The last day, YYYY-MM-DD (the lease ends at 24:00 UTC)', required: true, min_length: 10, max_length: 10 }],
        },
        { type: sub, name: 'help', description: 'What vmbot can do' },
      ],
    },
  ];
}

/** The request modal; the custom_id carries name/distro/size from the slash command. */
export function requestModal(customId: string, vmName: string, form: RequestFormView): APIModalInteractionResponseCallbackData {
  return {
    custom_id: customId,
    title: clip(`Request VM ${vmName}`, 45),
    components: [
      label('Login name', 'The user created on your VM (POSIX name, e.g. alice)', {
        custom_id: FORM_FIELDS.login,
        style: TextInputStyle.Short,
        min_length: 1,
        max_length: 32,
        required: true,
        ...(form.prefill.login ? { value: clip(form.prefill.login, 32) } : {}),
      }),
      label('SSH public key(s)', 'One per line: ssh-ed25519 AAAA… (never the private key)', {
        custom_id: FORM_FIELDS.sshKeys,
        style: TextInputStyle.Paragraph,
        min_length: 1,
        max_length: 4000,
        required: true,
        placeholder: 'ssh-ed25519 AAAA... you@laptop',
        ...(form.prefill.sshKeys ? { value: clip(form.prefill.sshKeys, 4000) } : {}),
      }),
      label('Why do you need it?', 'A sentence for the admins', {
        custom_id: FORM_FIELDS.reason,
        style: TextInputStyle.Paragraph,
        min_length: 1,
        max_length: 1000,
        required: true,
      }),
    ],
  };
}

/** A press of a kind that needs a reason (Deny) asks for it; the member is told it. Worded in src/workflow/notices.ts. */
export function reasonModal(kind: ActionKind, requestId: string, vmName: string): APIModalInteractionResponseCallbackData {
  const wording = ACTION_WORDING[kind].reason;
  if (!wording) throw new Error(`action ${kind} asks for no reason`);
  return {
    custom_id: reasonModalId(kind, requestId),
    title: clip(`${wording.title}: ${vmName}`, 45),
    components: [label(wording.field, wording.hint, { custom_id: FORM_FIELDS.actionReason, style: TextInputStyle.Paragraph, min_length: 1, max_length: 1000, required: true })],
  };
}

/** Deny's reason modal. */
export function denyModal(requestId: string, vmName: string): APIModalInteractionResponseCallbackData {
  return reasonModal('deny', requestId, vmName);
}

type TextInput = { custom_id: string; style: TextInputStyle; min_length?: number; max_length?: number; required?: boolean; value?: string; placeholder?: string };

/** A Label (type 18) wrapping one text input: Discord's current modal layout. */
function label(text: string, description: string, input: TextInput): APIModalInteractionResponseCallbackData['components'][number] {
  return { type: ComponentType.Label, label: text, description, component: { type: ComponentType.TextInput, ...input } };
}
