// The deployment files are code too: the Nomad job is parsed by HashiCorp's HCL parser, its
// embedded config is parsed by vmbot's own schema, the systemd unit by systemd-analyze.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { parse } from '@cdktf/hcl2json';
import { parse as parseYaml } from 'yaml';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/load.js';
import { SECRET_NAMES } from '../../../src/config/secrets.js';

const root = new URL('../../../', import.meta.url);
const read = (path: string) => readFile(new URL(path, root), 'utf8');

interface Template { data: string; destination: string; perms?: string }
interface Task {
  driver: string;
  config: Array<{ image: string; ports: string[] }>;
  env: Array<Record<string, string>>;
  template: Template[];
  volume_mount: Array<{ volume: string; destination: string }>;
}
interface Group { count: number; volume: Record<string, Array<{ type: string; source: string }>>; task: Record<string, Task[]> }

async function nomadJob() {
  const json = (await parse('vmbot.nomad.hcl', await read('deploy/nomad/vmbot.nomad.hcl'))) as { job: Record<string, Array<{ group: Record<string, Group[]> }>> };
  const group = json.job.vmbot![0]!.group.vmbot![0]!;
  return { group, task: group.task.vmbot![0]! };
}

describe('deploy/nomad/vmbot.nomad.hcl', () => {
  it('runs one docker task with the data volume mounted at /app/data', async () => {
    const { group, task } = await nomadJob();
    expect(group.count).toBe(1);
    expect(task.driver).toBe('docker');
    expect(task.config[0]!.image).toBe('${var.image}');
    expect(group.volume['vmbot-data']![0]).toMatchObject({ type: 'host', source: 'vmbot-data' });
    expect(task.volume_mount[0]).toEqual(expect.objectContaining({ volume: 'vmbot-data', destination: '/app/data' }));
  });

  it('hands every secret over as a file under /secrets rendered from a Nomad variable, never as a value in env', async () => {
    const { task } = await nomadJob();
    const env = Object.assign({}, ...task.env) as Record<string, string>;
    const fileVars = Object.entries(env).filter(([k]) => k.endsWith('_FILE'));
    expect(fileVars.length).toBeGreaterThanOrEqual(3);
    for (const name of SECRET_NAMES) expect(env).not.toHaveProperty(name);
    for (const [name, path] of fileVars) {
      expect(SECRET_NAMES).toContain(name.replace(/_FILE$/, ''));
      const template = task.template.find((t) => `/${t.destination}` === path);
      expect(template, `${name} -> ${path} has a template`).toBeDefined();
      expect(template!.destination).toMatch(/^secrets\//);
      expect(template!.perms).toBe('0400');
      expect(template!.data).toMatch(/nomadVar "nomad\/jobs\/vmbot"/);
    }
  });

  it('renders a config file that vmbot itself accepts', async () => {
    const { task } = await nomadJob();
    const env = Object.assign({}, ...task.env) as Record<string, string>;
    const template = task.template.find((t) => `/${t.destination}` === env.VMBOT_CONFIG);
    expect(template).toBeDefined();
    // What Nomad's template engine would fill in at run time.
    const rendered = template!.data.replace(/\{\{ env "([^"]+)" \}\}/g, (_m, key: string) => (key.startsWith('NOMAD_HOST_PORT') ? '8000' : '10.10.0.5'));
    expect(rendered).not.toContain('{{');
    const config = parseConfig(parseYaml(rendered), 'nomad template');
    expect(config.nomad.http?.address).toBe('http://10.10.0.5:4646');
    expect(config.cloudInit.builtin.publicUrl).toBe('http://10.10.0.5:8000');
    expect(config.database.path.startsWith('data/')).toBe(true);
  });
});

describe('deploy/systemd/vmbot.service', () => {
  const file = 'deploy/systemd/vmbot.service';

  it('runs as vmbot, hardened, writing only to data/, secrets through credentials', async () => {
    const text = await read(file);
    const keys = text.split('\n').filter((l) => /^[A-Za-z]+=/.test(l)).map((l) => l.split('=')[0]! + '=' + l.slice(l.indexOf('=') + 1));
    for (const line of ['User=vmbot', 'NoNewPrivileges=yes', 'ProtectSystem=strict', 'ReadWritePaths=/opt/vmbot/data', 'WorkingDirectory=/opt/vmbot', 'CapabilityBoundingSet=']) {
      expect(keys).toContain(line);
    }
    const fileEnv = keys.filter((k) => /^Environment=[A-Z_]+_FILE=/.test(k));
    expect(fileEnv.length).toBeGreaterThanOrEqual(3);
    for (const env of fileEnv) expect(env).toMatch(/=%d\//);
    expect(keys.some((k) => k.startsWith('MemoryDenyWriteExecute='))).toBe(false); // V8's JIT needs W+X
  });

  it('passes systemd-analyze verify without a warning about the unit (when systemd is installed)', async () => {
    const path = new URL(file, root).pathname;
    if (!existsSync('/usr/bin/systemd-analyze')) {
      // Not every CI image has systemd; docs/deploy.md says so. The structure test above still runs.
      expect(await read(file)).toContain('[Service]');
      return;
    }
    const { stderr } = await promisify(execFile)('systemd-analyze', ['verify', path]);
    expect(stderr.split('\n').filter((l) => l.includes('vmbot.service'))).toEqual([]);
  });
});
