// DESIGN §4 for templates, end to end: the free-text reason never reaches the Nomad job or the
// cloud-init files, and hostile text in an SSH key's comment arrives in user-data inert.
import { afterEach, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { TEST_SSH_KEY, startHarness, type Harness } from '../../support/harness.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

describe('security: what reaches the job and user-data', () => {
  it('the reason is nowhere in the submitted job or the published files; a key comment cannot inject YAML or HCL', async () => {
    h = await startHarness();
    const marker = 'REASON-9f3c ${jndi} %{ if } " \\ \n- evil: yes';
    const key = `${TEST_SSH_KEY.split(' ').slice(0, 2).join(' ')} bob"}: \${x} %{y} #z`;
    const sent = await h.core.workflow.submitRequest(h.member(), h.input({ name: 'sec-tpl', reason: marker, sshKeys: key }));
    if (!sent.ok) throw new Error(JSON.stringify(sent.problems));
    expect((await h.core.workflow.approve(h.admin(), sent.value.requestId)).ok).toBe(true);
    const req = await h.waitFor(async () => {
      const r = await h!.core.store.requests.get(sent.value.requestId);
      return r?.state === 'running' && r;
    }, { what: 'sec-tpl running' });

    const job = JSON.stringify(h.sim.control.jobs().find((j) => j.id === 'uservm-sec-tpl'));
    expect(job).toContain('sec-tpl');
    expect(job).not.toContain('REASON-9f3c');
    const seed = `${h.nocloudUrl}/nocloud/${req.seedToken}/`;
    const userData = await (await fetch(`${seed}user-data`)).text();
    const metaData = await (await fetch(`${seed}meta-data`)).text();
    expect(userData.startsWith('#cloud-config\n')).toBe(true);
    expect(userData + metaData).not.toContain('REASON-9f3c');

    // The document has exactly the shape the template gives it: one user, its keys, no extra keys.
    const doc = parseYaml(userData) as { users: Array<string | { name: string; ssh_authorized_keys: string[] }> } & Record<string, unknown>;
    expect(Object.keys(doc).sort()).toEqual(['disable_root', 'fqdn', 'hostname', 'manage_etc_hosts', 'ssh_pwauth', 'users']);
    const user = doc.users[1] as { name: string; ssh_authorized_keys: string[] };
    expect(user.name).toBe('alice');
    expect(user.ssh_authorized_keys).toHaveLength(1);
    expect(user.ssh_authorized_keys[0]!.startsWith(TEST_SSH_KEY.split(' ').slice(0, 2).join(' '))).toBe(true);
    expect(user.ssh_authorized_keys[0]).not.toMatch(/["${}%]/);
  });
});
