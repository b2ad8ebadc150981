/**
 * Iterates `source` until it ends or `signal` aborts, whichever comes first. The AI SDK also ends its
 * stream on abort, but only once the aborted fetch settles and the next read returns; racing the signal
 * makes a cancel take effect at once, whatever the provider or a proxy in between does.
 */
export async function* untilAborted<T>(source: AsyncIterable<T>, signal: AbortSignal): AsyncGenerator<T> {
  const iterator = source[Symbol.asyncIterator]();
  let onAbort = () => {};
  const aborted = new Promise<'aborted'>((resolve) => {
    onAbort = () => resolve('aborted');
  });
  if (signal.aborted) onAbort();
  else signal.addEventListener('abort', onAbort, { once: true });
  try {
    while (!signal.aborted) {
      const pending = iterator.next();
      // A read left behind by an abort may still reject (AbortError); nobody waits for it any more.
      pending.catch(() => {});
      const next = await Promise.race([pending, aborted]);
      // Checked apart from the race: when both are settled the race picks the source's value.
      if (next === 'aborted' || next.done === true || signal.aborted) return;
      yield next.value;
    }
  } finally {
    signal.removeEventListener('abort', onAbort);
    // Not awaited: with a read still pending, `return()` waits for it, which is what we avoid here.
    iterator.return?.()?.catch(() => {});
  }
}
