// Shared by the render tests: the real parsers each target is read by.
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parse as parseHcl } from '@cdktf/hcl2json';
import { parse as parseYaml } from 'yaml';
import { expect } from 'vitest';
import type { RenderVars } from '../../../src/render/types.js';

const run = promisify(execFile);

export const baseVars = (): RenderVars => ({
  requestId: 'k3x9q2m7bz',
  instanceId: 'k3x9q2m7bz',
  name: 'web-1',
  jobId: 'uservm-web-1',
  datacenters: ['aperture'],
  mac: '52:54:84:ba:49:03',
  seedUrl: 'http://10.10.0.5:8000/nocloud/0123456789abcdef0123456789abcdef/',
  distro: { name: 'debian-12', label: 'Debian 12', image: 'http://vm-resources.service.consul:8000/base-images/debian-12-genericcloud-amd64-30G.qcow2' },
  size: { name: 'small', label: '2 GB', cpu: 2000, memory: 2048 },
  login: 'alice',
  sshKeys: ['ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIIwvH7dSTXY0Q3pD7nmGQ9hBUm3hQxN2+o0b7m4JhV4H alice@laptop'],
  taskName: 'vm',
});

/** The shape @cdktf/hcl2json gives a job: every block is a list of bodies, labels are keys. */
export interface ParsedJob {
  id: string;
  datacenters: unknown;
  meta: Record<string, unknown>;
  groupName: string;
  network: Record<string, unknown>;
  service: Record<string, unknown>;
  taskName: string;
  task: { driver: unknown; artifact: Record<string, unknown>; config: Record<string, unknown>; resources: Record<string, unknown> };
}

type Blocks = Record<string, Array<Record<string, unknown>>>;

function only<T>(list: T[] | undefined, what: string): T {
  if (!list || list.length !== 1) throw new Error(`expected exactly one ${what}, got ${list?.length ?? 0}`);
  return list[0]!;
}

function onlyLabel(blocks: unknown, what: string): [string, Record<string, unknown>] {
  const entries = Object.entries((blocks ?? {}) as Blocks);
  if (entries.length !== 1) throw new Error(`expected exactly one ${what}, got ${entries.length}`);
  const [label, bodies] = entries[0]!;
  return [label, only(bodies, what)];
}

/** Parses the job with HashiCorp's HCL parser and pulls out the parts the admins' shape has. */
export async function parseJob(hcl: string): Promise<ParsedJob> {
  const doc = (await parseHcl('job.nomad.hcl', hcl)) as Record<string, unknown>;
  expect(Object.keys(doc)).toEqual(['job']);
  const [id, job] = onlyLabel(doc.job, 'job');
  const [groupName, group] = onlyLabel(job.group, 'group');
  const [taskName, task] = onlyLabel(group.task, 'task');
  return {
    id,
    datacenters: job.datacenters,
    meta: only(job.meta as Array<Record<string, unknown>>, 'meta'),
    groupName,
    network: only(group.network as Array<Record<string, unknown>>, 'network'),
    service: only(group.service as Array<Record<string, unknown>>, 'service'),
    taskName,
    task: {
      driver: task.driver,
      artifact: only(task.artifact as Array<Record<string, unknown>>, 'artifact'),
      config: only(task.config as Array<Record<string, unknown>>, 'config'),
      resources: only(task.resources as Array<Record<string, unknown>>, 'resources'),
    },
  };
}

/**
 * What hcl2json reports for an HCL string holding `value`: it decodes backslash escapes but
 * hands template escapes back as written (`$${`, `%%{`), which in its JSON output is again
 * the literal `${` / `%{` — i.e. inert.
 */
export const hclAsParsed = (value: string): string => value.replace(/([$%])\{/g, '$1$1{');

/** The user-data's top-level keys, as a YAML parser sees them. */
export function topLevelKeys(yamlText: string): string[] {
  return Object.keys(parseYaml(yamlText) as Record<string, unknown>);
}

/** Debian's `cloud-init schema` (the same version as Debian 12's guests). */
export async function cloudInitSchema(dir: string, fileName: string, text: string): Promise<{ ok: boolean; output: string }> {
  const file = join(dir, fileName);
  await writeFile(file, text);
  try {
    const { stdout, stderr } = await run('/usr/bin/cloud-init', ['schema', '-c', file]);
    return { ok: true, output: stdout + stderr };
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string };
    return { ok: false, output: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

/** Loads YAML files with PyYAML, the parser cloud-init itself uses (one process for all). */
export async function loadWithPyYaml(files: string[]): Promise<unknown[]> {
  const script = 'import json,sys,yaml\nprint(json.dumps([yaml.safe_load(open(f, encoding="utf-8")) for f in sys.argv[1:]]))';
  const { stdout } = await run('/usr/bin/python3', ['-c', script, ...files], { maxBuffer: 64 * 1024 * 1024 });
  return JSON.parse(stdout) as unknown[];
}
