// The one source of what vmbot says to people: member notices, the `/vm` help, button labels
// and what a press asks or answers. Worded here as spans (plain words, bold, a member, code,
// a quote); each chat adapter only formats them (Slack mrkdwn, Discord markdown, the web
// console's DOM) and escapes every span for its platform, member text and our own words alike.
import type { BootCause, MemberRef } from '../domain/request.js';
import type { ActionKind, HostKeysView, MemberNotice } from './views.js';

export type Span =
  /** Words; a '\n' starts a new line. */
  | { text: string }
  /** Emphasis, e.g. a VM name. */
  | { strong: string }
  /** A member: a mention where the platform has one. */
  | { member: MemberRef }
  /** A command, an address: shown as inline code. */
  | { code: string }
  /** Member-written text shown as a quote on its own line(s). */
  | { quote: string };

export type Wording = Span[];

const t = (text: string): Span => ({ text });
const vm = (name: string): Span => ({ strong: name });
/** An ISO time as members read it: `2027-04-01 00:00 UTC`. */
const when = (iso: string): Span => ({ strong: `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC` });

/** Plain text of a wording (logs, fallbacks, tests): no markup, nothing escaped. */
export function plainText(wording: Wording): string {
  return wording
    .map((s) => ('text' in s ? s.text : 'strong' in s ? s.strong : 'code' in s ? s.code : 'quote' in s ? s.quote : (s.member.displayName ?? s.member.userId)))
    .join('');
}

/** What a member is told (DM, fallback channel, the console's notices list). */
export function noticeWording(notice: MemberNotice): Wording {
  const name = vm(notice.name);
  switch (notice.kind) {
    case 'requested':
      return [t('Your request for VM '), name, t(' was sent to the admins. You will hear from me when they decide.')];
    case 'approved': {
      const out: Wording = [t('Your VM '), name, t(' was approved by '), { member: notice.by }, t(' and is being created. I will send you its address as soon as it has one.')];
      if (notice.expiresAt) out.push(t('\nIts lease ends '), when(notice.expiresAt), t('; I will remind you before then, and you can renew it.'));
      return out;
    }
    case 'denied':
      return [t('Your request for VM '), name, t(' was denied by '), { member: notice.by }, t('. Reason:\n'), { quote: notice.reason }];
    case 'delayed':
      // The reason already says the admins were told (cards.ts memberFailureReason).
      return [t('Your VM '), name, t(` is delayed: ${notice.reason}`)];
    case 'up': {
      const out: Wording = [t('Your VM '), name, t(' is up: '), { code: notice.ssh }];
      if (notice.ipv4) out.push(t('\nIPv4: '), { code: notice.ipv4 });
      for (const v6 of notice.ipv6 ?? []) out.push(t('\nIPv6: '), { code: v6 });
      out.push(t('\nLog in with the ssh command above: the key you gave is already on it.'));
      if (notice.after) out.push(...hostKeysChanged(notice.after, notice.ipv4 ?? notice.ipv6?.[0]));
      out.push(...hostKeyWording(notice.name, notice.hostKeys));
      return out;
    }
    case 'host_keys':
      // The follow-up to an up notice that said the keys were not on the console yet.
      return [t('Host keys of '), name, t(': the guest has now printed them.'), ...hostKeyWording(notice.name, notice.hostKeys)];
    case 'deleted':
      return [t('Your VM '), name, t(' was deleted.')];
    case 'lost':
      return [t('Your VM '), name, t(' is gone from the cluster (its Nomad job vanished). Ask an admin, or delete it ('), { code: `/vm delete ${notice.name}` }, t(') and request a new one.')];
    case 'moved':
      return [t('Your VM '), name, t(' was restarted by the cluster on another node (its node failed or was drained), on a fresh disk from the image: what was on its disk is lost. It keeps its name and address; I will tell you when it is up again.')];
    // Leases (workflow/leases.ts). Reminders and the stop notice carry Renew and Delete now.
    case 'lease_reminder':
      return [t('The lease of your VM '), name, t(' ends '), when(notice.expiresAt), t('. Then it is stopped, and deleted some days later. Press Renew to keep it, or Delete now if you are done with it.')];
    case 'lease_stopped':
      return [t('The lease of your VM '), name, t(' has ended, so it was stopped (its name and address are kept). It will be deleted on '), when(notice.deleteAt), t(' unless you renew it: Renew starts it again, on a fresh disk from the image.')];
    case 'lease_job_kept':
      // Said to the member: no Nomad terms beyond "job", no admin instructions (the admin card has them).
      return [t('The lease of your VM '), name, t(' has ended, but it was not stopped: its job on the cluster was replaced by one vmbot did not make, and vmbot never stops a job it did not make. The admins have been told. vmbot no longer manages it; it will be removed from your VMs on '), when(notice.deleteAt), t(' unless you renew it (the other job is left running either way).')];
    case 'lease_deleting':
      return [t('The lease of your VM '), name, t(' ended '), when(notice.expiresAt), t(' and it was not renewed, so it is being deleted now.')];
    case 'renewed': {
      const out: Wording = notice.by
        ? [t('Your renewal of VM '), name, t(' was approved by '), { member: notice.by }, t('. Its lease now ends '), when(notice.expiresAt), t('.')]
        : [t('VM '), name, t(' is renewed: its lease now ends '), when(notice.expiresAt), t('.')];
      if (notice.notStarted) out.push(t(`\nIt could not be started again just now: ${notice.notStarted} `), { code: `/vm start ${notice.name}` }, t(' tries again.'));
      return out;
    }
    case 'renewal_requested':
      return [t('You have used your automatic renewals of VM '), name, t(', so your renewal was sent to the admins. Until they decide, its lease still ends '), when(notice.expiresAt), t('.')];
    case 'renewal_denied':
      return [t('Your renewal of VM '), name, t(' was denied by '), { member: notice.by }, t('. Its lease still ends '), when(notice.expiresAt), t('; ask an admin if you need it longer.')];
    case 'expiry_set':
      return [t('An admin, '), { member: notice.by }, t(', set the lease of your VM '), name, t(' to end '), when(notice.expiresAt), t('.')];
  }
}

/** The host keys of an up notice: fingerprints to compare and known_hosts lines, or where to find them later. */
/** After a start, a rebuild or a move the disk is fresh, and so are the host keys: ssh will warn, and that is expected. */
function hostKeysChanged(after: BootCause, address: string | undefined): Wording {
  const why: Record<BootCause, string> = {
    rebuild: 'It was rebuilt on a fresh disk, so its SSH host keys changed because of the rebuild',
    start: 'It started again on a fresh disk from the image, so its SSH host keys changed',
    moved: 'It restarted on another node on a fresh disk, so its SSH host keys changed',
  };
  const out: Wording = [t(`\n${why[after]}: ssh will warn that the host key changed. Remove the old key`)];
  if (address) out.push(t(' with '), { code: `ssh-keygen -R ${address}` });
  out.push(t(' and check the new one against the fingerprints below.'));
  return out;
}

function hostKeyWording(name: string, keys: HostKeysView | undefined): Wording {
  if (!keys || (keys.fingerprints.length === 0 && keys.knownHosts.length === 0)) {
    return [t('\nIts SSH host keys were not on the console yet: '), { code: `/vm logs ${name}` }, t(' shows them once the guest has printed them, and I will send them here if they appear soon.')];
  }
  const out: Wording = [];
  if (keys.fingerprints.length > 0) {
    out.push(t('\nSSH host key fingerprints (on your first login ssh shows one of them: answer yes only if it matches):'));
    for (const fp of keys.fingerprints) out.push(t('\n'), { code: `${fp.type} ${fp.fingerprint}` });
  }
  if (keys.knownHosts.length > 0) {
    out.push(t('\nOr add these lines to ~/.ssh/known_hosts, and ssh will not need to ask:'));
    for (const line of keys.knownHosts) out.push(t('\n'), { code: line });
  }
  return out;
}

export interface ActionWording {
  /** The button's label. */
  label: string;
  /** Kinds that need a reason: the form asking for it. */
  reason?: { title: string; question: (name: string) => Wording; field: string; hint: string; submit: string };
  /** Kinds that need a confirmation: what the member confirms. */
  confirm?: { title: string; detail: string; question: (name: string) => Wording; yes: string; no: string };
  /** What the presser is told when the press succeeded on a private message (not a card the workflow redraws). */
  done: (name: string) => Wording;
}

/** Per action kind (views.ts ACTION_KINDS): exhaustive, so a new kind cannot go unworded. */
export const ACTION_WORDING: Readonly<Record<ActionKind, ActionWording>> = {
  approve: { label: 'Approve', done: (name) => [t('VM '), vm(name), t(' is approved and being created.')] },
  deny: {
    label: 'Deny',
    reason: {
      title: 'Deny request',
      question: (name) => [t('Deny the request for '), vm(name), t('? The member receives your reason.')],
      field: 'Reason',
      hint: 'The member sees this',
      submit: 'Deny',
    },
    done: (name) => [t('The request for '), vm(name), t(' is denied.')],
  },
  retry: { label: 'Retry', done: (name) => [t('VM '), vm(name), t(' is being created again.')] },
  delete: {
    label: 'Delete',
    confirm: {
      title: 'Are you sure?',
      detail: 'This stops the VM, purges its Nomad job and frees its MAC address. Its disk is lost.',
      question: (name) => [t('Delete VM '), vm(name), t('? Its job is stopped and purged and its address freed: its disk is lost. This cannot be undone.')],
      yes: 'Delete',
      no: 'Keep it',
    },
    done: (name) => [t('VM '), vm(name), t(' is being deleted.')],
  },
  cancel: { label: 'Cancel request', done: (name) => [t('Your request for '), vm(name), t(' is cancelled.')] },
  renew: { label: 'Renew', done: (name) => [t('Renewal of '), vm(name), t(' recorded; I sent you the details.')] },
  approve_renewal: { label: 'Approve renewal', done: (name) => [t('The renewal of '), vm(name), t(' is approved.')] },
  deny_renewal: { label: 'Deny renewal', done: (name) => [t('The renewal of '), vm(name), t(' is denied; it still expires as before.')] },
  stop: { label: 'Stop', done: (name) => [t('VM '), vm(name), t(' is stopped. Its name, MAC and address are kept; '), { code: `/vm start ${name}` }, t(' starts it again on a fresh disk from the image.')] },
  start: { label: 'Start', done: (name) => [t('VM '), vm(name), t(' is starting; I will send you its address when it is up.')] },
  reboot: { label: 'Reboot', done: (name) => [t('VM '), vm(name), t(' is rebooting (same disk); it should answer ssh again in a minute or two.')] },
  rebuild: {
    label: 'Rebuild',
    confirm: {
      title: 'Rebuild the VM?',
      detail: 'This boots the VM again on a fresh disk from the image, with the same name, MAC and address. Everything on its disk is lost and its SSH host keys change.',
      question: (name) => [t('Rebuild VM '), vm(name), t('? It boots again on a fresh disk from the image (same name, MAC and address): everything on its disk is lost and its SSH host keys change. This cannot be undone.')],
      yes: 'Rebuild',
      no: 'Keep it',
    },
    done: (name) => [t('VM '), vm(name), t(' is being rebuilt; I will send you its address and new host keys when it is up.')],
  },
};

/** One line of `/vm help`: the command and what it does. */
export interface HelpLine {
  usage: string;
  what: string;
}

/**
 * The `/vm` commands. `requestArgs` is how the platform's request command takes its options
 * (Discord: `NAME DISTRO SIZE` as command options; Slack: none, the form asks).
 */
export function helpLines(opts: { requestArgs?: string } = {}): HelpLine[] {
  return [
    { usage: `/vm request${opts.requestArgs ? ` ${opts.requestArgs}` : ''}`, what: 'ask for a VM (a form asks for your login name, SSH key and why)' },
    { usage: '/vm list', what: 'your VMs (all VMs for admins)' },
    { usage: '/vm ip NAME', what: 'the address of a VM and the ssh command' },
    { usage: '/vm status NAME', what: 'the state and progress of a VM' },
    { usage: '/vm logs NAME', what: 'the last 40 lines of a VM\'s console (only you see them)' },
    { usage: '/vm cancel NAME', what: 'withdraw a request that is still waiting for approval' },
    { usage: '/vm stop NAME', what: 'stop a running VM (its name, MAC and address are kept)' },
    { usage: '/vm start NAME', what: 'start a stopped VM again (a fresh disk from the image)' },
    { usage: '/vm reboot NAME', what: 'reboot a running VM (same disk)' },
    { usage: '/vm rebuild NAME', what: 'boot a VM again on a fresh disk from the image (asks you to confirm)' },
    { usage: '/vm delete NAME', what: 'delete a VM (asks you to confirm)' },
    { usage: '/vm renew NAME', what: 'extend the lease of your VM (later renewals ask the admins)' },
    { usage: '/vm expire NAME YYYY-MM-DD', what: 'admins: set when a VM\'s lease ends' },
    { usage: '/vm help', what: 'this text' },
  ];
}

/** The whole help: an optional hint first (why the member sees it), a title, one line per command. */
export function helpWording(opts: { requestArgs?: string; hint?: Wording } = {}): Wording {
  const out: Wording = [];
  if (opts.hint) out.push(...opts.hint, t('\n\n'));
  out.push({ strong: 'vmbot commands' });
  for (const line of helpLines(opts)) out.push(t('\n'), { code: line.usage }, t(` — ${line.what}`));
  return out;
}

/** Help hints for a command vmbot could not read. */
export const HELP_HINTS = {
  needsName: (verb: string): Wording => [{ code: `/vm ${verb}` }, t(' needs exactly one VM name, e.g. '), { code: `/vm ${verb} my-vm` }, t('.')],
  unknown: (verb: string): Wording => [t('Unknown command '), { code: verb }, t('.')],
  needsNameAndDate: (verb: string): Wording => [{ code: `/vm ${verb}` }, t(' needs a VM name and a date, e.g. '), { code: `/vm ${verb} my-vm 2027-06-30` }, t(' (the lease ends at the end of that day, UTC).')],
};

/** A press of a button vmbot does not know (a card from an older version, or a forged press). */
export const UNKNOWN_BUTTON: Wording = [t('This button is not one vmbot knows (the card may be from an older version). Use '), { code: '/vm status' }, t(' instead.')];
