// renderVars: the one builder of template variables (provisioning and `vmbot render`).
import { describe, expect, it } from 'vitest';
import { renderVars as fromRender } from '../../../src/render/index.js';
import { renderVars, type RenderInput } from '../../../src/workflow/render-vars.js';

const input: RenderInput = {
  requestId: 'r1',
  name: 'web-1',
  distro: { name: 'debian-12', label: 'Debian 12', image: 'http://x/d.qcow2' },
  size: { name: 'small', label: 's', cpu: 1, memory: 2 },
  login: 'alice',
  sshKeys: ['ssh-ed25519 AAAA'],
  mac: '52:54:84:ba:49:03',
  seedUrl: 'http://x/nocloud/t/',
};
const nomad = { jobPrefix: 'uservm-', datacenters: ['dc1'] };

describe('renderVars', () => {
  it('is the same function for the workflow and the render module', () => {
    expect(fromRender).toBe(renderVars);
  });

  it('gives the instance-id stem: the request id until a rebuild, then <id>-r<n>', () => {
    expect(renderVars(input, nomad).instanceId).toBe('r1');
    expect(renderVars({ ...input, rebuilds: 0 }, nomad).instanceId).toBe('r1');
    expect(renderVars({ ...input, rebuilds: 1 }, nomad).instanceId).toBe('r1-r1');
    expect(renderVars({ ...input, rebuilds: 12 }, nomad).instanceId).toBe('r1-r12');
  });

  it('keeps the job id a request recorded at approval, even if jobPrefix changed since', () => {
    expect(renderVars({ ...input, jobId: 'oldvm-web-1' }, nomad).jobId).toBe('oldvm-web-1');
    expect(renderVars(input, nomad).jobId).toBe('uservm-web-1');
  });
});
