// The http adapter sends a cluster's namespace and region with every request (namespace= /
// region=) and puts them on the job it registers, over Canonicalize's "default"; without
// them it sends neither. A recording HTTP server plays Nomad.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createHttpNomad } from '../../../src/nomad/http/adapter.js';

interface Seen {
  method: string;
  url: URL;
  body: unknown;
}

let server: Server | undefined;
afterEach(async () => {
  await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
  server = undefined;
});

async function fakeNomad(): Promise<{ address: string; seen: Seen[] }> {
  const seen: Seen[] = [];
  const body = async (req: IncomingMessage): Promise<unknown> => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    return text ? JSON.parse(text) : undefined;
  };
  server = createServer((req, res) => {
    void body(req).then((json) => {
      const url = new URL(req.url ?? '/', 'http://nomad');
      seen.push({ method: req.method ?? '', url, body: json });
      const reply = (value: unknown) => res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify(value));
      if (url.pathname === '/v1/jobs/parse') return reply({ ID: 'uservm-a', Namespace: 'default', Region: 'global', Type: 'service' });
      if (url.pathname === '/v1/jobs' && req.method === 'POST') return reply({ EvalID: 'eval-1' });
      if (url.pathname === '/v1/job/uservm-a') return reply({ ID: 'uservm-a', Status: 'running', Stop: false, Meta: {} });
      return res.writeHead(404).end('not found');
    });
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return { address: `http://127.0.0.1:${(server!.address() as AddressInfo).port}`, seen };
}

describe('the http adapter in a namespace and region', () => {
  it('sends namespace= and region= on every request and registers the job there', async () => {
    const { address, seen } = await fakeNomad();
    const nomad = createHttpNomad({ address, namespace: 'vms', region: 'west', retries: 0 });
    try {
      expect(await nomad.submitJob('job "uservm-a" {}')).toEqual({ jobId: 'uservm-a', evalId: 'eval-1' });
      expect((await nomad.getJob('uservm-a'))?.status).toBe('running');
    } finally {
      await nomad.close();
    }
    expect(seen.map((s) => [s.method, s.url.pathname, s.url.searchParams.get('namespace'), s.url.searchParams.get('region')])).toEqual([
      ['POST', '/v1/jobs/parse', 'vms', 'west'],
      ['POST', '/v1/jobs', 'vms', 'west'],
      ['GET', '/v1/job/uservm-a', 'vms', 'west'],
    ]);
    expect((seen[1]!.body as { Job: Record<string, unknown> }).Job).toMatchObject({ ID: 'uservm-a', Namespace: 'vms', Region: 'west', Type: 'service' });
  });

  it('sends neither without them, and registers the job as Nomad parsed it', async () => {
    const { address, seen } = await fakeNomad();
    const nomad = createHttpNomad({ address, retries: 0 });
    try {
      await nomad.submitJob('job "uservm-a" {}');
    } finally {
      await nomad.close();
    }
    expect(seen.every((s) => !s.url.searchParams.has('namespace') && !s.url.searchParams.has('region'))).toBe(true);
    expect((seen[1]!.body as { Job: Record<string, unknown> }).Job).toMatchObject({ Namespace: 'default', Region: 'global' });
  });
});
