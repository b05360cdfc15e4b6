// Render and validation figures: loading the templates, rendering one VM's three files,
// parsing pasted SSH keys (RSA 4096 is the slowest: its modulus is the longest) and
// validating a whole request. Run: npx tsx bench/render.ts
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseSshKeys } from '../src/domain/sshkeys.js';
import { validateRequest } from '../src/domain/validation.js';
import { loadRenderer, renderVars } from '../src/render/index.js';
import { timed as timedLine } from './timed.js';

const ROOT = join(fileURLToPath(import.meta.url), '../..');
const key = (file: string): string => readFileSync(join(ROOT, 'tests/fixtures/keys', file), 'utf8').trim();

const timed = (label: string, ops: number, work: () => void): void => timedLine(label, ops, work, 52);

let start = process.hrtime.bigint();
const renderer = await loadRenderer(join(ROOT, 'templates'));
console.log(`${'load and check the three templates'.padEnd(52)} ${(Number(process.hrtime.bigint() - start) / 1e6).toFixed(1)} ms`);

const distro = { name: 'debian-12', label: 'Debian 12', image: 'http://vm-resources.service.consul:8000/base-images/debian-12-genericcloud-amd64-30G.qcow2' };
const size = { name: 'small', label: '2 GB', cpu: 2000, memory: 2048 };
const vars = renderVars(
  { requestId: 'k3x9q2m7bz', name: 'web-1', distro, size, login: 'alice', sshKeys: [key('ed25519.pub'), key('rsa-4096.pub')], mac: '52:54:84:ba:49:03', seedUrl: 'http://10.10.0.5:8000/nocloud/0123456789abcdef/' },
  { jobPrefix: 'uservm-', datacenters: ['aperture'] },
);
start = process.hrtime.bigint();
renderer.render(vars);
console.log(`${'first render (Handlebars compiles lazily)'.padEnd(52)} ${(Number(process.hrtime.bigint() - start) / 1e6).toFixed(1)} ms`);
timed('render job + user-data + meta-data (2 keys)', 20_000, () => renderer.render(vars));
const ed25519 = key('ed25519.pub');
const rsa4096 = key('rsa-4096.pub');
timed('parseSshKeys: one ed25519 key', 100_000, () => parseSshKeys(ed25519));
timed('parseSshKeys: one RSA 4096 key', 100_000, () => parseSshKeys(rsa4096));
const ten = ['ed25519.pub', 'ecdsa-256.pub', 'ecdsa-384.pub', 'ecdsa-521.pub', 'rsa-2048.pub', 'rsa-4096.pub', 'sk-ed25519.pub', 'sk-ecdsa-256.pub'].map(key).join('\n');
timed('parseSshKeys: 8 keys of every type', 20_000, () => parseSshKeys(ten));
const catalog = { distros: [distro], sizes: [size], jobPrefix: 'uservm-' };
timed('validateRequest (ed25519 key)', 100_000, () => validateRequest({ name: 'web-1', distro: 'debian-12', size: 'small', login: 'alice', sshKeys: ed25519, reason: 'Course project' }, catalog));
const mem = process.memoryUsage();
console.log(`memory after the runs: rss ${(mem.rss / 2 ** 20).toFixed(0)} MiB, heap used ${(mem.heapUsed / 2 ** 20).toFixed(0)} MiB`);
