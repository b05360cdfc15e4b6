// The built-in NoCloud publisher and its HTTP server, over real HTTP and real files.
import { readdir, stat } from 'node:fs/promises';
import { request } from 'node:http';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { createBuiltinPublisher } from '../../../src/cloudinit/builtin.js';
import { createPublisher, NoCloudListenError, nocloudServerComponent } from '../../../src/cloudinit/index.js';
import { startNoCloudServer } from '../../../src/cloudinit/nocloud-server.js';
import type { Publisher, PublishTarget } from '../../../src/cloudinit/port.js';
import { isSeedToken, newSeedToken } from '../../../src/cloudinit/token.js';
import { parseConfig } from '../../../src/config/load.js';
import { createLogger } from '../../../src/log.js';
import { makeTempDir } from '../../support/tmp.js';

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (closers.length) await closers.pop()!();
});

const FILES = { metaData: 'instance-id: vm-1\nlocal-hostname: alice-vm\n', userData: '#cloud-config\nusers: []\n' };

function target(seedToken = newSeedToken(), vmName = 'alice-vm'): PublishTarget {
  return { requestId: 'req-1', vmName, seedToken };
}

async function setup(logger = createLogger({ level: 'silent', pretty: false })): Promise<{ dir: string; url: string; publisher: Publisher }> {
  const tmp = await makeTempDir('nocloud');
  closers.push(() => tmp.cleanup());
  const server = await startNoCloudServer({ dir: tmp.dir, host: '127.0.0.1', port: 0, logger });
  closers.push(() => server.close());
  return { dir: tmp.dir, url: server.url, publisher: createBuiltinPublisher({ dir: tmp.dir, publicUrl: server.url }) };
}

/** A request with the path sent exactly as written (fetch would normalise `..`). */
function raw(url: string, path: string, method = 'GET'): Promise<{ status: number; body: string; headers: Record<string, string | string[] | undefined> }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request({ hostname, port, path, method }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('newSeedToken', () => {
  it('makes 32 lower-case base32 characters (160 bits), different every time', () => {
    const tokens = Array.from({ length: 1000 }, newSeedToken);
    for (const token of tokens) {
      expect(token).toMatch(/^[a-z2-7]{32}$/);
      expect(isSeedToken(token)).toBe(true);
    }
    expect(new Set(tokens).size).toBe(1000);
  });

  it('accepts only 26-64 lower-case letters and digits', () => {
    expect(isSeedToken('a'.repeat(26))).toBe(true);
    expect(isSeedToken('a'.repeat(25))).toBe(false);
    expect(isSeedToken('a'.repeat(65))).toBe(false);
    expect(isSeedToken('A'.repeat(30))).toBe(false);
    expect(isSeedToken(`${'a'.repeat(28)}/../`)).toBe(false);
  });
});

describe('builtin publisher', () => {
  it('builds the seed URL with exactly one slash between parts and one at the end', () => {
    const t = target('abcdefghijklmnopqrstuvwxyz234567');
    expect(createBuiltinPublisher({ dir: '/x', publicUrl: 'http://10.10.0.5:8000' }).seedUrl(t)).toBe('http://10.10.0.5:8000/nocloud/abcdefghijklmnopqrstuvwxyz234567/');
    expect(createBuiltinPublisher({ dir: '/x', publicUrl: 'http://10.10.0.5:8000/' }).seedUrl(t)).toBe('http://10.10.0.5:8000/nocloud/abcdefghijklmnopqrstuvwxyz234567/');
    expect(createBuiltinPublisher({ dir: '/x', publicUrl: 'https://vmbot.example.org/seed//' }).seedUrl(t)).toBe('https://vmbot.example.org/seed/nocloud/abcdefghijklmnopqrstuvwxyz234567/');
  });

  it('refuses tokens that could leave its folder', async () => {
    const { publisher } = await setup();
    for (const bad of ['../../etc', 'short', 'UPPERCASEUPPERCASEUPPERCASE1', '']) {
      expect(() => publisher.seedUrl(target(bad))).toThrow(/seed token/);
      await expect(publisher.publish(target(bad), FILES)).rejects.toThrow(/seed token/);
    }
  });

  it('writes the files under <dir>/<token>/ readable by the bot alone, leaving no temporary files', async () => {
    const { dir, publisher } = await setup();
    const t = target();
    await publisher.publish(t, { ...FILES, vendorData: '#cloud-config\n{}\n' });
    expect((await readdir(join(dir, t.seedToken))).sort()).toEqual(['meta-data', 'user-data', 'vendor-data']);
    expect((await stat(join(dir, t.seedToken, 'user-data'))).mode & 0o777).toBe(0o600);
    expect((await stat(join(dir, t.seedToken))).mode & 0o777).toBe(0o700);
  });
});

describe('NoCloud server', () => {
  it('serves each VM\'s own files at its seed URL, as text/plain', async () => {
    const { publisher } = await setup();
    const alice = target(newSeedToken(), 'alice-vm');
    const bob = target(newSeedToken(), 'bob-vm');
    await publisher.publish(alice, FILES);
    await publisher.publish(bob, { metaData: 'instance-id: vm-2\n', userData: '#cloud-config\nhostname: bob\n', vendorData: '#cloud-config\n' });
    const res = await fetch(`${publisher.seedUrl(alice)}user-data`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(await res.text()).toBe(FILES.userData);
    expect(await (await fetch(`${publisher.seedUrl(alice)}meta-data`)).text()).toBe(FILES.metaData);
    expect(await (await fetch(`${publisher.seedUrl(bob)}user-data`)).text()).toBe('#cloud-config\nhostname: bob\n');
    expect(await (await fetch(`${publisher.seedUrl(bob)}vendor-data`)).text()).toBe('#cloud-config\n');
  });

  it('answers an empty vendor-data for a published VM without one (cloud-init treats it as optional)', async () => {
    const { publisher } = await setup();
    const t = target();
    await publisher.publish(t, { ...FILES, vendorData: 'old vendor data' });
    await publisher.publish(t, FILES); // re-published without: the old copy goes
    const res = await fetch(`${publisher.seedUrl(t)}vendor-data`);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('');
  });

  it('answers HEAD with the headers and no body', async () => {
    const { url, publisher } = await setup();
    const t = target();
    await publisher.publish(t, FILES);
    const res = await raw(url, `/nocloud/${t.seedToken}/user-data`, 'HEAD');
    expect(res.status).toBe(200);
    expect(res.headers['content-length']).toBe(String(Buffer.byteLength(FILES.userData)));
    expect(res.body).toBe('');
  });

  it('404s everything else: other tokens, listings, other names, traversal, encoded slashes', async () => {
    const { url, publisher } = await setup();
    const t = target();
    const other = target();
    await publisher.publish(t, FILES);
    const paths = [
      `/nocloud/${other.seedToken}/user-data`, // not published
      `/nocloud/${other.seedToken}/vendor-data`, // vendor-data only for published VMs
      `/nocloud/${t.seedToken}/`, // the folder: no listing
      `/nocloud/${t.seedToken}`,
      '/nocloud/',
      '/',
      `/nocloud/${t.seedToken}/network-config`,
      `/nocloud/${t.seedToken}/user-data/`,
      `/nocloud/${t.seedToken}/../${t.seedToken}/user-data`,
      `/nocloud/${t.seedToken}/%2e%2e/${t.seedToken}/user-data`,
      `/nocloud/${t.seedToken}%2Fuser-data`,
      `/nocloud/${t.seedToken.toUpperCase()}/user-data`,
      `/nocloud/..%2F..%2Fetc/passwd`,
      `//nocloud/${t.seedToken}/user-data`,
    ];
    for (const path of paths) {
      const res = await raw(url, path);
      expect({ path, status: res.status }).toEqual({ path, status: 404 });
      expect(res.body).not.toContain('#cloud-config');
    }
  });

  it('answers 405 to methods other than GET and HEAD', async () => {
    const { url, publisher } = await setup();
    const t = target();
    await publisher.publish(t, FILES);
    for (const method of ['POST', 'PUT', 'DELETE', 'OPTIONS']) {
      const res = await raw(url, `/nocloud/${t.seedToken}/user-data`, method);
      expect(res.status).toBe(405);
      expect(res.headers.allow).toBe('GET, HEAD');
    }
  });

  it('stops serving a VM\'s files once they are unpublished (idempotently)', async () => {
    const { dir, publisher } = await setup();
    const t = target();
    await publisher.publish(t, FILES);
    await publisher.unpublish(t);
    await publisher.unpublish(t);
    expect((await fetch(`${publisher.seedUrl(t)}user-data`)).status).toBe(404);
    expect(await readdir(dir)).toEqual([]);
  });

  it('replaces files atomically: a reader sees the old or the new file, never half of one', async () => {
    const { publisher } = await setup();
    const t = target();
    const versions = ['a', 'b'].map((c) => `#cloud-config\n# ${c.repeat(256 * 1024)}\n`);
    await publisher.publish(t, { ...FILES, userData: versions[0]! });
    let writing = true;
    const writer = (async () => {
      for (let i = 1; i <= 10; i++) await publisher.publish(t, { ...FILES, userData: versions[i % 2]! });
      writing = false;
    })();
    let reads = 0;
    while (writing) {
      const body = await (await fetch(`${publisher.seedUrl(t)}user-data`)).text();
      expect(versions).toContain(body);
      reads++;
    }
    await writer;
    expect(reads).toBeGreaterThan(0);
  });

  it('never logs the token', async () => {
    const out = new PassThrough();
    let logged = '';
    out.on('data', (c: Buffer) => (logged += c.toString()));
    const { publisher } = await setup(createLogger({ level: 'trace', pretty: false, destination: out }));
    const t = target();
    await publisher.publish(t, FILES);
    await fetch(`${publisher.seedUrl(t)}user-data`);
    await fetch(`${publisher.seedUrl(target())}user-data`);
    expect(logged).toContain('nocloud file served');
    expect(logged).not.toContain(t.seedToken);
  });
});

describe('createPublisher and the NoCloud server component', () => {
  it('"builtin" only writes files: the server is a component of its own, and a second one on the same port is refused by name', async () => {
    const tmp = await makeTempDir('nocloud-config');
    closers.push(() => tmp.cleanup());
    const config = parseConfig({ nomad: { adapter: 'http' }, cloudInit: { publish: 'builtin', builtin: { listen: '127.0.0.1:0', publicUrl: 'http://127.0.0.1:1', dir: tmp.dir } } });
    const publisher = await createPublisher(config, createLogger({ level: 'silent', pretty: false }));
    const t = target();
    await publisher.publish(t, FILES);
    expect(publisher.seedUrl(t)).toBe(`http://127.0.0.1:1/nocloud/${t.seedToken}/`);
    expect((await readdir(join(tmp.dir, t.seedToken))).sort()).toEqual(['meta-data', 'user-data']);
    await publisher.close();

    const logger = createLogger({ level: 'silent', pretty: false });
    const first = nocloudServerComponent({ dir: tmp.dir, host: '127.0.0.1', port: 0, publicUrl: 'http://127.0.0.1:1', logger });
    expect(await first.start()).toMatch(/^cloud-init files served on http:\/\/127\.0\.0\.1:\d+/);
    closers.push(() => first.stop());
    const res = await fetch(`${first.url}/nocloud/${t.seedToken}/meta-data`);
    expect(await res.text()).toBe(FILES.metaData);
    const port = Number(new URL(first.url).port);
    const second = nocloudServerComponent({ dir: tmp.dir, host: '127.0.0.1', port, publicUrl: 'http://127.0.0.1:1', logger });
    await expect(second.start()).rejects.toThrow(NoCloudListenError);
    await expect(second.start()).rejects.toThrow(/cloudInit\.builtin\.listen.*already in use/);
  });
});
