// Live updates for open pages, by server-sent events: every card change goes to every page
// allowed to see that card, and a member's notices go to that member's pages only.
import type { ServerResponse } from 'node:http';
import { noticeWording, type Wording } from '../../workflow/notices.js';
import type { MemberNotice, RequestCardView } from '../../workflow/views.js';
import { HttpError } from './http-util.js';

export interface LiveClient {
  /** undefined: sees every card (admin view, production viewer). */
  onlyMember?: string;
  /** The member whose notices this page shows (local mode). */
  member?: string;
}

/** A notice as the page gets it: the view plus its words (src/workflow/notices.ts), which the page only formats. */
export type WebNotice = MemberNotice & { wording: Wording };

interface Stream extends LiveClient {
  res: ServerResponse;
}

/** How often a comment line keeps idle connections (and proxies) from timing out. */
const HEARTBEAT_MS = 25_000;
/** Notices a page that opens later still shows. */
const NOTICE_BACKLOG = 20;
/** Live-update streams open at once by default: each holds a connection for as long as its page is open. */
export const DEFAULT_MAX_LIVE_STREAMS = 64;

export class LiveHub {
  private readonly streams = new Set<Stream>();
  private readonly notices = new Map<string, WebNotice[]>();
  private readonly heartbeat: NodeJS.Timeout;

  constructor(private readonly maxStreams = DEFAULT_MAX_LIVE_STREAMS) {
    this.heartbeat = setInterval(() => {
      for (const s of this.streams) s.res.write(': keep-alive\n\n');
    }, HEARTBEAT_MS);
    this.heartbeat.unref();
  }

  /** Starts a stream on `res`; throws a 503 HttpError (nothing written) when maxStreams are open. */
  open(res: ServerResponse, client: LiveClient): void {
    if (this.streams.size >= this.maxStreams) {
      throw new HttpError(503, `too many live-update streams are open (${this.maxStreams}): close other console tabs, or reload later; the page still works without live updates`, 'too_many_streams');
    }
    res.writeHead(200, { 'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-store', Connection: 'keep-alive', 'X-Accel-Buffering': 'no' });
    // The first bytes tell the browser the stream is open (and how soon to reconnect).
    res.write('retry: 2000\n: open\n\n');
    const stream: Stream = { ...client, res };
    this.streams.add(stream);
    res.on('close', () => this.streams.delete(stream));
  }

  get size(): number {
    return this.streams.size;
  }

  card(card: RequestCardView): void {
    const data = frame('card', card);
    for (const s of this.streams) {
      if (s.onlyMember === undefined || (card.requester.platform === 'web' && card.requester.userId === s.onlyMember)) s.res.write(data);
    }
  }

  notice(memberId: string, view: MemberNotice): void {
    const notice: WebNotice = { ...view, wording: noticeWording(view) };
    const list = this.notices.get(memberId) ?? [];
    list.push(notice);
    if (list.length > NOTICE_BACKLOG) list.splice(0, list.length - NOTICE_BACKLOG);
    this.notices.set(memberId, list);
    const data = frame('notice', notice);
    for (const s of this.streams) if (s.member === memberId) s.res.write(data);
  }

  backlog(memberId: string): WebNotice[] {
    return [...(this.notices.get(memberId) ?? [])];
  }

  close(): void {
    clearInterval(this.heartbeat);
    for (const s of this.streams) s.res.end();
    this.streams.clear();
  }
}

function frame(event: string, data: unknown): string {
  // JSON never contains a raw newline, so one data: line carries the whole object.
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}
