// Where each platform drew a request's card (an opaque ref the adapter understands,
// e.g. "C123:1712345678.000100"), so later events edit that card instead of posting anew.
import type { Db } from './db.js';
import type { CardStore } from './types.js';

export function createCardStore(db: Db): CardStore {
  return {
    get: (requestId, platform) =>
      db.read(async (sql) => {
        const row = await sql.get<{ ref: string }>('SELECT ref FROM cards WHERE request_id = ? AND platform = ?', [requestId, platform]);
        return row?.ref;
      }),

    set: (requestId, platform, ref) =>
      db.transaction(async (sql) => {
        await sql.run('INSERT INTO cards (request_id, platform, ref) VALUES (?, ?, ?) ON CONFLICT (request_id, platform) DO UPDATE SET ref = excluded.ref', [requestId, platform, ref]);
      }),
  };
}
