// Draws request cards and sends member notices. Card updates are coalesced per request: a
// burst of progress inside one window makes one drawCard (chat APIs are rate-limited and
// an admin channel flickering through five edits helps nobody). Notices go out at once.
// A surface that throws is logged, never fails a request.
import type { Logger } from '../log.js';
import type { MemberRef, Platform, VmRequest } from '../domain/request.js';
import type { ChatSurface, MemberNotice, RequestCardView } from './views.js';
import type { Store } from '../store/types.js';

interface Pending {
  timer?: NodeJS.Timeout;
  drawing?: Promise<void>;
  /** A change arrived while drawing: draw once more afterwards. */
  again: boolean;
}

export interface NotifierOptions {
  store: Store;
  logger: Logger;
  /** Trailing window in ms; the first change opens it, the draw happens when it closes. */
  coalesceMs: number;
  toCard(req: VmRequest, version: number): RequestCardView | Promise<RequestCardView>;
  now(): Date;
}

export class Notifier {
  private readonly surfaces = new Map<Platform, ChatSurface>();
  private readonly listeners = new Set<(card: RequestCardView) => void>();
  private readonly pending = new Map<string, Pending>();
  private readonly versions = new Map<string, number>();
  private closed = false;
  private readonly unsubscribe: () => void;

  constructor(private readonly opts: NotifierOptions) {
    // Every committed change of what a card shows comes from the store, so no use case
    // has to remember to redraw.
    this.unsubscribe = opts.store.requests.onChange((req) => this.cardChanged(req.id));
  }

  attach(surface: ChatSurface): void {
    this.surfaces.set(surface.platform, surface);
  }

  onCard(listener: (card: RequestCardView) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Monotonic per request, also across restarts (a process clock would restart at 1 and
   * adapters drop views older than one they drew): the wall clock in ms, bumped if equal.
   */
  nextVersion(requestId: string): number {
    const version = Math.max((this.versions.get(requestId) ?? 0) + 1, this.opts.now().getTime());
    this.versions.set(requestId, version);
    return version;
  }

  currentVersion(requestId: string): number {
    return this.versions.get(requestId) ?? this.nextVersion(requestId);
  }

  /** The request changed (the store's onChange): draw its card when the window closes. */
  cardChanged(requestId: string): void {
    if (this.closed) return;
    let entry = this.pending.get(requestId);
    if (!entry) {
      entry = { again: false };
      this.pending.set(requestId, entry);
    }
    if (entry.timer) return;
    if (entry.drawing) {
      entry.again = true;
      return;
    }
    entry.timer = setTimeout(() => this.flush(requestId), this.opts.coalesceMs);
  }

  async notify(member: MemberRef, notice: MemberNotice): Promise<void> {
    const surface = this.surfaces.get(member.platform);
    if (!surface) return;
    try {
      await surface.notifyMember(member, notice);
    } catch (err) {
      this.opts.logger.warn({ err, requestId: notice.requestId, notice: notice.kind, platform: member.platform }, 'could not notify the member');
    }
  }

  /** Draws every card still waiting for its window, then waits for draws in flight. */
  async close(): Promise<void> {
    this.closed = true;
    this.unsubscribe();
    for (const [id, entry] of this.pending) {
      if (entry.timer) {
        clearTimeout(entry.timer);
        entry.timer = undefined;
        if (!entry.drawing) this.flush(id);
      }
    }
    await Promise.all([...this.pending.values()].map((entry) => entry.drawing));
  }

  private flush(requestId: string): void {
    const entry = this.pending.get(requestId);
    if (!entry) return;
    entry.timer = undefined;
    entry.drawing = this.draw(requestId).finally(() => {
      entry.drawing = undefined;
      if (entry.again && !this.closed) {
        entry.again = false;
        this.cardChanged(requestId);
      } else if (!entry.timer) {
        this.pending.delete(requestId);
      }
    });
  }

  private async draw(requestId: string): Promise<void> {
    const { store, logger } = this.opts;
    try {
      const req = await store.requests.get(requestId);
      if (!req) return;
      const card = await this.opts.toCard(req, this.nextVersion(requestId));
      for (const listener of this.listeners) {
        try {
          listener(card);
        } catch (err) {
          logger.warn({ err, requestId }, 'a card listener threw');
        }
      }
      const platform = req.requester.platform;
      const surface = this.surfaces.get(platform);
      if (!surface) return;
      const ref = await store.cards.get(requestId, platform);
      const drawn = await surface.drawCard(card, ref);
      if (drawn && drawn !== ref) await store.cards.set(requestId, platform, drawn);
    } catch (err) {
      logger.warn({ err, requestId }, 'could not draw the request card');
    }
  }
}
