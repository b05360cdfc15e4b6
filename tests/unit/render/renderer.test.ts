import { cp, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { VmbotError } from '../../../src/domain/problem.js';
import { loadRenderer, renderVars, TEMPLATE_FILES } from '../../../src/render/index.js';
import type { Renderer } from '../../../src/render/types.js';
import { makeTempDir } from '../../support/tmp.js';
import { baseVars, cloudInitSchema, parseJob, topLevelKeys } from './support.js';

const TEMPLATES = join(import.meta.dirname, '../../../templates');
const USER_DATA_KEYS = ['hostname', 'fqdn', 'manage_etc_hosts', 'users', 'ssh_pwauth', 'disable_root'];

let renderer: Renderer;
let tmp: Awaited<ReturnType<typeof makeTempDir>>;
beforeAll(async () => {
  renderer = await loadRenderer(TEMPLATES);
  tmp = await makeTempDir('render');
});
afterAll(() => tmp.cleanup());

describe('the default templates', () => {
  it('render a job in the admins shape, as HashiCorp HCL parses it', async () => {
    const vars = baseVars();
    const job = await parseJob(renderer.render(vars).job);
    expect(job.id).toBe('uservm-web-1');
    expect(job.datacenters).toEqual(['aperture']);
    expect(job.meta).toEqual({ vmbot_request: 'k3x9q2m7bz' });
    expect(job.groupName).toBe('web-1');
    expect(job.network).toEqual({ mode: 'host' });
    expect(job.service).toEqual({ name: 'web-1' });
    expect(job.taskName).toBe('vm');
    expect(job.task.driver).toBe('qemu');
    expect(job.task.artifact).toEqual({ source: vars.distro.image, destination: 'local/web-1.qcow2', mode: 'file' });
    expect(job.task.config).toEqual({
      image_path: 'local/web-1.qcow2',
      accelerator: 'kvm',
      drive_interface: 'virtio',
      args: ['-netdev', 'bridge,id=hn0', '-device', 'virtio-net-pci,netdev=hn0,id=nic1,mac=52:54:84:ba:49:03', '-smbios', `type=1,serial=ds=nocloud-net;s=${vars.seedUrl}`],
    });
    expect(job.task.resources).toEqual({ cpu: 2000, memory: 2048 });
  });

  it('render user-data that Debian cloud-init accepts, with exactly the keys the template wrote', async () => {
    const vars = { ...baseVars(), sshKeys: [baseVars().sshKeys[0]!, 'ssh-rsa AAAAB3NzaC1yc2E second'] };
    const { userData } = renderer.render(vars);
    expect(userData.split('\n')[0]).toBe('#cloud-config');
    const schema = await cloudInitSchema(tmp.dir, 'user-data', userData);
    expect(schema.output).toMatch(/Valid cloud-config/);
    expect(schema.ok).toBe(true);
    expect(topLevelKeys(userData)).toEqual(USER_DATA_KEYS);
    const doc = parseYaml(userData) as Record<string, unknown>;
    expect(doc).toMatchObject({ hostname: 'web-1', fqdn: 'web-1', ssh_pwauth: false, disable_root: true });
    expect(doc.users).toEqual([
      'default',
      { name: 'alice', shell: '/bin/bash', sudo: 'ALL=(ALL) NOPASSWD:ALL', lock_passwd: true, ssh_authorized_keys: vars.sshKeys },
    ]);
  });

  it('render meta-data with instance-id and local-hostname', () => {
    const { metaData } = renderer.render(baseVars());
    expect(parseYaml(metaData)).toEqual({ 'instance-id': 'k3x9q2m7bz-web-1', 'local-hostname': 'web-1' });
  });

  it('render the same text for the same variables (render is pure)', () => {
    const vars = Object.freeze(baseVars());
    expect(renderer.render(vars)).toEqual(renderer.render(baseVars()));
  });
});

describe('renderVars', () => {
  it('builds the job ID from the prefix and fixes the task name', () => {
    const vars = renderVars(
      {
        requestId: 'r1',
        name: 'web-1',
        distro: { name: 'debian-12', label: 'Debian 12', image: 'http://x/d.qcow2' },
        size: { name: 'small', label: 's', cpu: 1, memory: 2 },
        login: 'alice',
        sshKeys: ['ssh-ed25519 AAAA'],
        mac: '52:54:84:ba:49:03',
        seedUrl: 'http://x/nocloud/t/',
      },
      { jobPrefix: 'uservm-', datacenters: ['dc1'] },
    );
    expect(vars).toMatchObject({ jobId: 'uservm-web-1', taskName: 'vm', datacenters: ['dc1'] });
  });
});

describe('templates an admin supplies', () => {
  async function templatesWith(file: string, text: string): Promise<string> {
    const dir = join(tmp.dir, `custom-${Math.random().toString(36).slice(2)}`);
    await cp(TEMPLATES, dir, { recursive: true });
    await mkdir(join(dir, file, '..'), { recursive: true });
    await writeFile(join(dir, file), text);
    return dir;
  }

  async function loadError(dir: string): Promise<VmbotError> {
    const err = await loadRenderer(dir).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(VmbotError);
    expect((err as VmbotError).code).toBe('template_error');
    return err as VmbotError;
  }

  it('are refused at load time when they print a bare {{x}}, naming the file, line and expression', async () => {
    const dir = await templatesWith(TEMPLATE_FILES.userData, '#cloud-config\nhostname: {{yaml name}}\nruncmd:\n  - echo {{login}}\n');
    const err = await loadError(dir);
    expect(err.message).toContain(join(dir, 'cloud-init/user-data.hbs'));
    expect(err.message).toMatch(/line 4, column 10: \{\{login\}\}: a bare value is not allowed/);
  });

  it('are refused when they use a triple-stash, a partial or an unknown helper', async () => {
    const dir = await templatesWith(TEMPLATE_FILES.metaData, 'a: {{{name}}}\n{{> other}}\nb: {{hcl (lookup distro "image")}}\n{{#raw}}x{{/raw}}\n');
    const err = await loadError(dir);
    expect(err.message).toMatch(/line 1, column 4: \{\{\{name\}\}\}: triple-stash/);
    expect(err.message).toMatch(/line 2, column 1: PartialStatement/);
    expect(err.message).toMatch(/line 3, .*unknown helper "lookup"/);
    expect(err.message).toMatch(/line 4, .*unknown block helper "raw"/);
  });

  it('may use #if/#unless/#each/#with, else branches, comments, ../ and @root, and concat inside a helper', async () => {
    const text = [
      '{{!-- a comment --}}',
      'instance-id: {{yaml (concat requestId "-" name)}}',
      '{{#with size}}cpu: {{hcl cpu}}{{/with}}',
      '{{#each sshKeys}}k{{yaml @index}}: {{yaml this}} {{yaml ../login}} {{yaml @root.name}}',
      '{{else}}none',
      '{{/each}}',
      '{{#if login}}yes{{else}}no{{/if}} {{#unless mac}}nomac{{/unless}}',
      '',
    ].join('\n');
    const custom = await loadRenderer(await templatesWith(TEMPLATE_FILES.metaData, text));
    expect(custom.render(baseVars()).metaData).toBe(
      ['instance-id: "k3x9q2m7bz-web-1"', 'cpu: 2000', `k0: "${baseVars().sshKeys[0]}" "alice" "web-1"`, 'yes ', ''].join('\n'),
    );
  });

  it('are refused when the Handlebars syntax is broken, or a file is missing', async () => {
    expect((await loadError(await templatesWith(TEMPLATE_FILES.job, 'job {{hcl jobId} {\n'))).message).toMatch(/vm\.hcl\.hbs: is not valid Handlebars: Parse error on line 1/);
    expect((await loadError(join(tmp.dir, 'no-such-dir'))).message).toMatch(/cannot be read \(ENOENT\); templates.dir must hold nomad\/vm\.hcl\.hbs/);
  });

  it('fail to render when they use a variable that does not exist, naming the template and the variable', async () => {
    const custom = await loadRenderer(await templatesWith(TEMPLATE_FILES.job, 'job {{hcl jobId}} {\n  x = {{hcl distro.imag}}\n}\n'));
    expect(() => custom.render(baseVars())).toThrowError(/template .*nomad\/vm\.hcl\.hbs: "distro\.imag" is not a template variable/);
    const each = await loadRenderer(await templatesWith(TEMPLATE_FILES.metaData, '{{#each sshkeys}}k: {{yaml this}}\n{{/each}}'));
    expect(() => each.render(baseVars())).toThrowError(/meta-data\.hbs: "sshkeys" is not a template variable/);
  });

  it('fail to render an object where a string belongs, naming the line', async () => {
    const custom = await loadRenderer(await templatesWith(TEMPLATE_FILES.job, 'job {{hcl jobId}} {\n  x = {{hcl distro}}\n}\n'));
    expect(() => custom.render(baseVars())).toThrowError(/\{\{hcl\}\} can print a string, number, boolean or a list of those, not an object \(line 2\)/);
  });

  it('fail when user-data does not start with #cloud-config', async () => {
    const custom = await loadRenderer(await templatesWith(TEMPLATE_FILES.userData, 'hostname: {{yaml name}}\n'));
    expect(() => custom.render(baseVars())).toThrowError(/must start with the line "#cloud-config"/);
  });
});
