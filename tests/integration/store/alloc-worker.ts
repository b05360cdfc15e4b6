// A separate process for the store race tests (forked with tsx by race.test.ts and
// bench/store.ts): opens the SQLite file named in the first message and reports "ready";
// the second message lists request ids, for which it allocates MACs all at once, then
// reports what it got and exits.
import { openStore } from '../../../src/store/index.js';

interface Open {
  path: string;
  pool: { ranges: string[]; reserved: Array<{ mac: string; note: string }> };
}
interface Go {
  requestIds: string[];
}

const send = (msg: unknown) => new Promise<void>((resolve) => process.send!(msg, () => resolve()));

process.once('message', (open: Open) => {
  void (async () => {
    const store = await openStore({ path: open.path, pool: open.pool });
    process.once('message', (go: Go) => {
      void (async () => {
        const results = await Promise.allSettled(go.requestIds.map((id) => store.macs.allocate(id)));
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
