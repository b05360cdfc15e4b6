// Validation of what a member fills in (DESIGN §3, §4). Pure: no I/O, no adapters.
// Everything a template or a command line ever sees has passed through here, so the
// rules are strict on purpose, and every refusal says what to type instead.
import { fail, ok, problem, type Problem, type Result } from './problem.js';
import type { RequestDetails, RequestInput } from './request.js';
import { parseSshKeys } from './sshkeys.js';

/** One entry of the configured catalogue; validation needs only its name. */
export interface CatalogChoice {
  name: string;
}

/** What a request is checked against: the configured distros and sizes (config's entries fit). */
export interface Catalog {
  distros: ReadonlyArray<CatalogChoice>;
  sizes: ReadonlyArray<CatalogChoice>;
  jobPrefix: string;
}

/** What validateRequest returns: the details, trimmed and normalised. */
export type ValidRequest = RequestDetails;

/** Nomad job IDs, hostnames and DNS labels all fit in 63 characters (RFC 1123). */
export const MAX_LABEL = 63;
export const MAX_REASON = 500;

const LABEL_RE = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;
const LOGIN_RE = /^[a-z_][a-z0-9_-]{0,31}$/;

/**
 * Names the member may not take as their login: Debian's and Ubuntu's system accounts and
 * groups (cloud-init's useradd would fail on an existing group, or worse, join it), and the
 * default users of common cloud images (the distro's default user stays as the image made it).
 */
export const RESERVED_LOGINS: ReadonlySet<string> = new Set([
  // Debian base-passwd users
  'root', 'daemon', 'bin', 'sys', 'sync', 'games', 'man', 'lp', 'mail', 'news', 'uucp', 'proxy', 'www-data',
  'backup', 'list', 'irc', 'gnats', 'nobody', 'messagebus', 'sshd', '_apt', 'polkitd', 'tss', 'uuidd',
  'tcpdump', 'dnsmasq', 'avahi', 'ntp', '_chrony', 'chrony', 'syslog', 'landscape', 'pollinate', 'usbmux',
  'fwupd-refresh', 'dhcpcd', 'lxd', 'statd', '_rpc', 'postfix', 'mysql', 'postgres', 'redis', 'nginx',
  // base-passwd groups and common service groups
  'adm', 'tty', 'disk', 'kmem', 'dialout', 'fax', 'voice', 'cdrom', 'floppy', 'tape', 'sudo', 'audio', 'dip',
  'src', 'shadow', 'utmp', 'video', 'sasl', 'plugdev', 'staff', 'users', 'nogroup', 'netdev', 'operator',
  'input', 'render', 'kvm', 'sgx', 'crontab', 'ssh', '_ssh', 'docker', 'wheel', 'admin', 'lpadmin',
  // default users of cloud images
  'debian', 'ubuntu', 'cloud-user', 'centos', 'fedora', 'rocky', 'almalinux', 'alpine', 'arch', 'ec2-user',
  'opensuse', 'suse', 'freebsd', 'core', 'nixos', 'vmbot', 'nomad', 'consul', 'rhel', 'redhat', 'oracle',
  'cloud', 'azureuser', 'gce', 'google-sudoers', 'cirros',
  // more Debian/Ubuntu groups and service accounts
  'ssl-cert', 'rdma', 'libvirt', 'libvirt-qemu', 'libvirt-dnsmasq', 'kvm', 'lxd', 'sambashare', 'bluetooth',
  'scanner', 'pulse', 'pulse-access', 'rtkit', 'colord', 'geoclue', 'saned', 'tcpdump', 'systemd-journal',
  'ftp', 'uucp', 'lock', 'ping', 'at', 'cron', 'mlocate', 'plocate', 'dbus', 'rpc', 'rpcuser', 'nfsnobody',
  // RHEL/Fedora/Alpine/Arch system accounts and groups
  'halt', 'shutdown', 'operator', 'games', 'sssd', 'unbound', 'chrony', 'printadmin', 'ssh_keys', 'cgred',
  'apache', 'setroubleshoot', 'clevis', 'libstoragemgmt', 'cockpit-ws', 'cockpit-wsinstance', 'saslauth',
  'polkit', 'squid', 'xfs', 'cyrus', 'vpopmail', 'smmsp', 'guest', 'abuild', 'http', 'log', 'mem', 'tty',
  'group', 'root', 'nobody', 'nogroup', 'users', 'uuidd',
]);

/** Whether `login` names a system account or group of common cloud images (see RESERVED_LOGINS). */
export function isReservedLogin(login: string): boolean {
  return RESERVED_LOGINS.has(login) || RESERVED_LOGIN_PREFIXES.some((p) => login.startsWith(p));
}
/** Prefixes reserved for system accounts (systemd-network, systemd-timesync, ...). */
const RESERVED_LOGIN_PREFIXES = ['systemd-', '_'];

// C0 controls except \n, DEL, C1 controls, and the bidirectional overrides that make text
// display differently from what it says (a reason is shown to admins).
const REASON_FORBIDDEN_RE = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/u;

export function validateVmName(name: string, jobPrefix: string): Problem | null {
  const field = 'name';
  const max = MAX_LABEL - jobPrefix.length;
  if (name.length === 0) return problem('invalid_name', 'Give your VM a name: lower-case letters, digits and dashes, e.g. "my-project".', field);
  if (name.length > max) {
    return problem('invalid_name', `The name is ${name.length} characters long; at most ${max} fit (the job name "${jobPrefix}<name>" must stay within ${MAX_LABEL}).`, field);
  }
  if (!LABEL_RE.test(name)) {
    const hint = /[A-Z]/.test(name) && LABEL_RE.test(name.toLowerCase()) ? ` Try "${name.toLowerCase()}".` : '';
    return problem('invalid_name', `The name may contain only lower-case letters a-z, digits and dashes, and must start and end with a letter or digit (it becomes the VM's hostname).${hint}`, field);
  }
  return null;
}

export function validateLogin(login: string): Problem | null {
  const field = 'login';
  if (login.length === 0) return problem('invalid_login', 'Choose a login name for your VM, e.g. "alice".', field);
  if (!LOGIN_RE.test(login)) {
    // Never suggest a name that would be refused next ("Root" → "root").
    const lower = login.toLowerCase();
    const hint = /[A-Z]/.test(login) && LOGIN_RE.test(lower) && !isReservedLogin(lower) ? ` Try "${lower}".` : '';
    return problem(
      'invalid_login',
      `The login name must start with a lower-case letter or "_", then use only lower-case letters, digits, "_" or "-", at most 32 characters.${hint}`,
      field,
    );
  }
  if (isReservedLogin(login)) {
    return problem('invalid_login', `"${login}" is a system account or group on common cloud images; pick another name, e.g. your own.`, field);
  }
  return null;
}

export function validateReason(reason: string): Result<string> {
  const field = 'reason';
  const text = reason.replace(/\r\n?/g, '\n').trim();
  const length = [...text].length;
  if (length === 0) return fail(problem('invalid_reason', 'Say briefly what the VM is for; the admins read it before approving.', field));
  if (length > MAX_REASON) return fail(problem('invalid_reason', `The reason is ${length} characters long; keep it to ${MAX_REASON}.`, field));
  if (REASON_FORBIDDEN_RE.test(text)) return fail(problem('invalid_reason', 'The reason contains control characters (tabs, escapes or direction overrides); type it as plain text.', field));
  return ok(text);
}

function validateChoice(value: string, options: ReadonlyArray<{ name: string }>, what: 'distro' | 'size'): Problem | null {
  if (options.some((o) => o.name === value)) return null;
  const list = options.map((o) => o.name).join(', ');
  return problem(what === 'distro' ? 'unknown_distro' : 'unknown_size', `${value ? `"${value}" is not an available ${what}` : `Choose a ${what}`}; choose one of: ${list}.`, what);
}

/** Checks a whole request and reports ALL problems at once (a form shows each by its field). */
export function validateRequest(input: RequestInput, catalog: Catalog): Result<ValidRequest> {
  const name = input.name.trim();
  const login = input.login.trim();
  const distro = input.distro.trim();
  const size = input.size.trim();
  const problems: Problem[] = [];

  const nameProblem = validateVmName(name, catalog.jobPrefix);
  if (nameProblem) problems.push(nameProblem);
  const distroProblem = validateChoice(distro, catalog.distros, 'distro');
  if (distroProblem) problems.push(distroProblem);
  const sizeProblem = validateChoice(size, catalog.sizes, 'size');
  if (sizeProblem) problems.push(sizeProblem);
  const loginProblem = validateLogin(login);
  if (loginProblem) problems.push(loginProblem);
  const keys = parseSshKeys(input.sshKeys);
  if (!keys.ok) problems.push(...keys.problems);
  const reason = validateReason(input.reason);
  if (!reason.ok) problems.push(...reason.problems);

  if (problems.length > 0 || !keys.ok || !reason.ok) return fail(...problems);
  return ok({ name, distro, size, login, sshKeys: keys.value, reason: reason.value });
}
