// Hostile input either never gets past validation, or is carried as inert data: the real
// parsers (HashiCorp HCL, PyYAML as cloud-init uses it, Debian's `cloud-init schema`) read
// back exactly the value that went in, and the documents keep exactly their own keys.
import { join } from 'node:path';
import { writeFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { parseSshKeys } from '../../../src/domain/sshkeys.js';
import { validateLogin, validateReason, validateVmName } from '../../../src/domain/validation.js';
import { loadRenderer } from '../../../src/render/index.js';
import type { Renderer, RenderVars } from '../../../src/render/types.js';
import { makeTempDir } from '../../support/tmp.js';
import { baseVars, cloudInitSchema, hclAsParsed, loadWithPyYaml, parseJob, topLevelKeys } from './support.js';

const CORPUS: Record<string, string> = {
  doubleQuote: 'a"b',
  singleQuote: "it's",
  backslash: 'a\\b\\"c\\',
  newlineHcl: 'x"\n}\njob "evil" {\n',
  newlineYaml: 'x\nruncmd: [reboot]',
  crlf: 'a\r\nb',
  hclInterpolation: '${file("/etc/shadow")}',
  hclDirective: '%{ if true }x%{ endif }',
  escapedSigils: '$${x} %%{y} $ % {z}',
  handlebars: '{{login}} {{{name}}}',
  colonSpace: 'key: value',
  hashComment: 'a # comment',
  dashSpace: '- item',
  anchor: '&anchor *alias',
  pythonTag: '!!python/object/apply:os.system ["reboot"]',
  yamlBool: 'yes',
  yamlNull: '~',
  yamlDoc: '---\n...',
  flow: '[a, {b: c}]',
  shellSubst: '$(reboot)',
  backticks: '`reboot`',
  semicolon: 'a; rm -rf / && b | c > d',
  controls: 'nul\u0000bell\u0007esc\u001b[31mdel\u007f',
  c1: 'nel\u0085csi\u009b',
  nonAscii: 'héllo wörld 日本語 😀 \u202eevil',
  bom: '\ufeffx',
  long: 'x'.repeat(5000),
  tab: 'a\tb',
};

const USER_DATA_KEYS = ['hostname', 'fqdn', 'manage_etc_hosts', 'users', 'ssh_pwauth', 'disable_root'];
const SAFE_KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIIwvH7dSTXY0Q3pD7nmGQ9hBUm3hQxN2+o0b7m4JhV4H';

let renderer: Renderer;
let tmp: Awaited<ReturnType<typeof makeTempDir>>;
beforeAll(async () => {
  renderer = await loadRenderer(join(import.meta.dirname, '../../../templates'));
  tmp = await makeTempDir('injection');
});
afterAll(() => tmp.cleanup());

/** Every value a template prints, set to the hostile string (labels excepted: see below). */
function hostileVars(s: string): RenderVars {
  const base = baseVars();
  return {
    ...base,
    requestId: s,
    instanceId: s,
    datacenters: [s, 'dc2'],
    mac: s,
    seedUrl: s,
    distro: { ...base.distro, image: s },
    login: s,
    sshKeys: [s, SAFE_KEY],
  };
}

describe('validation refuses what may never reach a label, a hostname or a login', () => {
  it.each(Object.entries(CORPUS).filter(([label]) => label !== 'yamlBool'))('%s', (_, s) => {
    expect(validateVmName(s, 'uservm-')).not.toBeNull();
    expect(validateLogin(s)).not.toBeNull();
    // Keys are re-serialised from their parsed parts, so hostile text cannot survive as a key:
    // as a comment it is either refused (a line break starts a bad line) or reduced.
    expect(parseSshKeys(s).ok).toBe(false);
    const withComment = parseSshKeys(`${SAFE_KEY} ${s}`);
    if (withComment.ok) expect(withComment.value).toEqual([expect.stringMatching(/^ssh-ed25519 \S+( [A-Za-z0-9@._+=:,\- ]*)?$/)]);
    else expect(withComment.problems[0]!.code).toBe('invalid_ssh_key');
  });

  it('lets "yes" through as a name and login: YAML 1.1 would read it as true unquoted, so it is quoted', async () => {
    expect(validateVmName('yes', 'uservm-')).toBeNull();
    expect(validateLogin('yes')).toBeNull();
    const file = join(tmp.dir, 'user-data-yes');
    await writeFile(file, renderer.render({ ...baseVars(), name: 'yes', login: 'yes' }).userData);
    const [doc] = (await loadWithPyYaml([file])) as Array<{ hostname: unknown; users: [string, { name: unknown }] }>;
    expect(doc!.hostname).toBe('yes');
    expect(doc!.users[1].name).toBe('yes');
  });

  it('lets a reason carry the harmless ones (it is never templated) and refuses control characters', () => {
    expect(validateReason(CORPUS.shellSubst!).ok).toBe(true);
    expect(validateReason(CORPUS.controls!).ok).toBe(false);
    expect(validateReason(CORPUS.nonAscii!).ok).toBe(false); // the bidi override
    expect(validateReason(CORPUS.long!).ok).toBe(false);
  });
});

describe('the renderer carries whatever it is given as inert data', () => {
  it.each(Object.entries(CORPUS))('%s in the job is read back by HCL as the same string', async (_, s) => {
    const job = await parseJob(renderer.render(hostileVars(s)).job);
    // The structure is intact: one job with our ID, our group and task.
    expect(job.id).toBe('uservm-web-1');
    expect(job.taskName).toBe('vm');
    expect(job.task.driver).toBe('qemu');
    expect(job.meta).toEqual({ vmbot_request: hclAsParsed(s) });
    expect(job.datacenters).toEqual([hclAsParsed(s), 'dc2']);
    expect(job.task.artifact.source).toBe(hclAsParsed(s));
    const args = job.task.config.args as string[];
    expect(args).toHaveLength(6);
    expect(args[3]).toBe(hclAsParsed(`virtio-net-pci,netdev=hn0,id=nic1,mac=${s}`));
    expect(args[5]).toBe(hclAsParsed(`type=1,serial=ds=nocloud-net;s=${s}`));
  });

  it.each(Object.entries(CORPUS))('%s in user-data and meta-data is read back by YAML as the same string', (_, s) => {
    const { userData, metaData } = renderer.render(hostileVars(s));
    expect(topLevelKeys(userData)).toEqual(USER_DATA_KEYS);
    const doc = parseYaml(userData) as { users: [string, { name: string; ssh_authorized_keys: string[] }] };
    expect(doc.users[1].name).toBe(s);
    expect(doc.users[1].ssh_authorized_keys).toEqual([s, SAFE_KEY]);
    expect(parseYaml(metaData)).toEqual({ 'instance-id': `${s}-web-1`, 'local-hostname': 'web-1' });
  });

  it('PyYAML, the parser cloud-init uses, reads back every value too', async () => {
    const entries = Object.entries(CORPUS);
    const files = await Promise.all(
      entries.map(async ([label], i) => {
        const file = join(tmp.dir, `user-data-${i}-${label}`);
        await writeFile(file, renderer.render(hostileVars(CORPUS[label]!)).userData);
        return file;
      }),
    );
    const docs = (await loadWithPyYaml(files)) as Array<{ users: [string, { name: string; ssh_authorized_keys: string[] }] }>;
    docs.forEach((doc, i) => {
      const s = entries[i]![1];
      expect(Object.keys(doc)).toEqual(USER_DATA_KEYS);
      expect(doc.users[1].name).toBe(s);
      expect(doc.users[1].ssh_authorized_keys[0]).toBe(s);
    });
  });

  it('Debian cloud-init accepts user-data holding the whole corpus', async () => {
    const all = Object.values(CORPUS);
    const vars: RenderVars = { ...baseVars(), login: all.join(''), sshKeys: all };
    const schema = await cloudInitSchema(tmp.dir, 'user-data-corpus', renderer.render(vars).userData);
    expect(schema.output).toMatch(/Valid cloud-config/);
    expect(schema.ok).toBe(true);
  });

  it('the key check detects an injected runcmd (it is not vacuous)', () => {
    // What a naive template (hostname: {{name}}) would have produced for the newline case.
    const naive = `#cloud-config\nhostname: x\nruncmd: [reboot]\nusers:\n  - default\nssh_pwauth: false\n`;
    expect(topLevelKeys(naive)).not.toEqual(USER_DATA_KEYS);
    expect(topLevelKeys(naive)).toContain('runcmd');
  });
});
