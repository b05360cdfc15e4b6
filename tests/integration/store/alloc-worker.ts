// A separate process for the allocation race (forked with tsx by race.test.ts): opens the
// same SQLite file, reports "ready", and on "go" allocates a MAC for each request id at
// once, then reports what it got.
import { openStore } from '../../../src/store/index.js';

interface Job {
  path: string;
  pool: { ranges: string[]; reserved: Array<{ mac: string; note: string }> };
  requestIds: string[];
}

const send = (msg: unknown) => new Promise<void>((resolve) => process.send!(msg, () => resolve()));

process.once('message', (job: Job) => {
  void (async () => {
    const store = await openStore({ path: job.path, pool: job.pool });
    process.once('message', () => {
      void (async () => {
        const results = await Promise.allSettled(job.requestIds.map((id) => store.macs.allocate(id)));
        await store.close();
        await send({ results: results.map((r) => (r.status === 'fulfilled' ? { mac: r.value } : { error: String((r.reason as Error).message) })) });
        process.disconnect();
      })();
    });
    await send('ready');
  })().catch(async (err: unknown) => {
    await send({ fatal: String(err) });
    process.exit(1);
  });
});
