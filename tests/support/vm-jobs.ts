// Real VM jobs (the bundled templates) for tests and benches that drive the watcher or the
// cluster directly, without the workflow: one renderer, one job per (jobId, MAC).
import { fileURLToPath } from 'node:url';
import { VM_TASK_NAME } from '../../src/nomad/port.js';
import { loadRenderer } from '../../src/render/index.js';

const TEMPLATES = fileURLToPath(new URL('../../templates', import.meta.url));

/** Loads the bundled templates once; returns a function that renders the job of one small VM. */
export async function vmJobRenderer(login = 'alice'): Promise<(vm: { jobId: string; mac: string }) => string> {
  const renderer = await loadRenderer(TEMPLATES);
  return ({ jobId, mac }) =>
    renderer.render({
      requestId: jobId,
      instanceId: jobId,
      name: jobId,
      jobId,
      datacenters: ['dc1'],
      mac,
      seedUrl: 'http://127.0.0.1:8000/nocloud/x/',
      distro: { name: 'debian-12', label: 'Debian 12', image: 'http://127.0.0.1/debian.qcow2' },
      size: { name: 'small', label: 'small', cpu: 100, memory: 128 },
      login,
      sshKeys: [],
      taskName: VM_TASK_NAME,
    }).job;
}
