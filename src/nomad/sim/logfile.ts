// One task's stdout (or stderr) in the simulated cluster: an append-only byte log that
// readers follow. Closing it (the allocation stopped) ends every follower.

export type LogListener = (event: { type: 'data'; data: Buffer; end: number } | { type: 'closed' }) => void;

export class LogFile {
  private readonly chunks: Buffer[] = [];
  private length = 0;
  private isClosed = false;
  private readonly listeners = new Set<LogListener>();

  get size(): number {
    return this.length;
  }

  get closed(): boolean {
    return this.isClosed;
  }

  append(data: Buffer): void {
    if (this.isClosed || data.length === 0) return;
    this.chunks.push(data);
    this.length += data.length;
    for (const listener of [...this.listeners]) listener({ type: 'data', data, end: this.length });
  }

  /** Bytes from `offset` to the current end (empty when offset is at or past the end). */
  read(offset: number): Buffer {
    if (offset >= this.length) return Buffer.alloc(0);
    return Buffer.concat(this.chunks).subarray(Math.max(0, offset));
  }

  /** Everything written so far. */
  all(): Buffer {
    return Buffer.concat(this.chunks);
  }

  close(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    for (const listener of [...this.listeners]) listener({ type: 'closed' });
    this.listeners.clear();
  }

  /** Returns the unsubscribe function. A closed file calls back at once with 'closed'. */
  follow(listener: LogListener): () => void {
    if (this.isClosed) {
      listener({ type: 'closed' });
      return () => {};
    }
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
