// The up notice's host keys (issue 12), worded once in notices.ts for every surface: the
// fingerprints to compare when ssh asks, known_hosts lines to skip the question, or, when the
// console showed none, where to find them later. And the view the boot watch builds.
import { describe, expect, it } from 'vitest';
import { hostKeysView } from '../../../src/workflow/boot-watch.js';
import { noticeWording, plainText } from '../../../src/workflow/notices.js';

const ED = { type: 'ED25519', bits: 256, fingerprint: 'SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU', comment: 'root@vm-a' };
const ED_KEY = { type: 'ssh-ed25519', key: 'AAAAC3NzaC1lZDI1NTE5AAAAIAVetM1RAU3e4XdWWTX8NaglZCn+DtXS1g8BszVPJ+rt', comment: 'root@vm-a' };
const up = { kind: 'up' as const, requestId: 'r1', name: 'vm-a', ipv4: '10.10.0.5', ssh: 'ssh alice@10.10.0.5' };

describe('the up notice and the host keys', () => {
  it('lists the fingerprints and known_hosts lines, each as code', () => {
    const hostKeys = hostKeysView({ fingerprints: [ED], publicKeys: [ED_KEY] }, '10.10.0.5');
    expect(hostKeys).toEqual({ fingerprints: [{ type: 'ED25519', fingerprint: ED.fingerprint }], knownHosts: [`10.10.0.5 ssh-ed25519 ${ED_KEY.key}`] });
    const wording = noticeWording({ ...up, hostKeys });
    expect(wording).toContainEqual({ code: `ED25519 ${ED.fingerprint}` });
    expect(wording).toContainEqual({ code: `10.10.0.5 ssh-ed25519 ${ED_KEY.key}` });
    expect(plainText(wording)).toContain('~/.ssh/known_hosts');
  });

  it('without keys seen: says /vm logs shows them later', () => {
    const text = plainText(noticeWording(up));
    expect(text).toContain('SSH host keys were not on the console yet: /vm logs vm-a shows them');
    expect(text).not.toContain('known_hosts');
  });

  it('an address known_hosts cannot hold gets the fingerprints only', () => {
    expect(hostKeysView({ fingerprints: [ED], publicKeys: [ED_KEY] }, 'not an address!').knownHosts).toEqual([]);
  });
});
