// Acknowledgement is the adapter's business: Discord wants an answer within 3 s. Work that
// finishes within `deferAfterMs` is answered directly; slower work is deferred first (the
// member sees "thinking…") and answered by editing or following up once it is done.

/** Runs `work`; if it is not done after `afterMs`, calls `defer` (once) while it goes on. */
export async function withDeferral<T>(work: Promise<T>, afterMs: number, defer: () => Promise<unknown>): Promise<{ value: T; deferred: boolean }> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => {
    timer = setTimeout(() => resolve('late'), afterMs);
  });
  const first = await Promise.race([work.then(() => 'done' as const, () => 'done' as const), late]);
  clearTimeout(timer);
  if (first === 'late') {
    await defer();
    return { value: await work, deferred: true };
  }
  return { value: await work, deferred: false };
}

/** `work`'s value, or `fallback` if it takes longer than `ms` (for prefill a modal cannot wait for). */
export async function within<T>(work: Promise<T>, ms: number, fallback: T): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<T>((resolve) => {
    timer = setTimeout(() => resolve(fallback), ms);
  });
  try {
    return await Promise.race([work.catch(() => fallback), late]);
  } finally {
    clearTimeout(timer);
  }
}
