import { describe, expect, it } from 'vitest';
import { limitTitler } from './titles.js';

/** A titler whose calls stay open until the test answers them. */
function heldTitler() {
  const calls: Array<{ first: string; answer: (title: string) => void }> = [];
  const titler = (_model: string, first: string): Promise<string | undefined> =>
    new Promise((resolve) => calls.push({ first, answer: resolve }));
  return { calls, titler };
}

const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('limitTitler', () => {
  it('keeps at most the limit in flight and starts the waiters in order', async () => {
    const { calls, titler } = heldTitler();
    const limited = limitTitler(titler, 2);
    const signal = new AbortController().signal;
    const results = ['a', 'b', 'c', 'd'].map((m) => limited('model', m, signal));
    await flush();
    expect(calls.map((c) => c.first)).toEqual(['a', 'b']);
    calls[1]?.answer('B');
    expect(await results[1]).toBe('B');
    await flush();
    expect(calls.map((c) => c.first)).toEqual(['a', 'b', 'c']);
    calls[0]?.answer('A');
    await flush();
    expect(calls.map((c) => c.first)).toEqual(['a', 'b', 'c', 'd']);
    calls[2]?.answer('C');
    calls[3]?.answer('D');
    expect(await Promise.all(results)).toEqual(['A', 'B', 'C', 'D']);
  });

  it('frees the slot when the titler fails', async () => {
    let n = 0;
    const limited = limitTitler(async () => {
      n++;
      if (n === 1) throw new Error('model down');
      return 'ok';
    }, 1);
    const signal = new AbortController().signal;
    const first = limited('model', 'x', signal);
    const second = limited('model', 'y', signal);
    await expect(first).rejects.toThrow('model down');
    expect(await second).toBe('ok');
  });

  it('drops an aborted waiter without calling the titler', async () => {
    const { calls, titler } = heldTitler();
    const limited = limitTitler(titler, 1);
    const running = limited('model', 'a', new AbortController().signal);
    const abort = new AbortController();
    const waiter = limited('model', 'b', abort.signal);
    const after = limited('model', 'c', new AbortController().signal);
    abort.abort(new Error('session deleted'));
    await expect(waiter).rejects.toThrow('session deleted');
    calls[0]?.answer('A');
    expect(await running).toBe('A');
    await flush();
    expect(calls.map((c) => c.first)).toEqual(['a', 'c']);
    calls[1]?.answer('C');
    expect(await after).toBe('C');
    const already = new AbortController();
    already.abort(new Error('gone'));
    const blocked = limited('model', 'd', new AbortController().signal);
    await expect(limited('model', 'e', already.signal)).rejects.toThrow('gone');
    calls[2]?.answer('D');
    expect(await blocked).toBe('D');
    expect(calls.map((c) => c.first)).toEqual(['a', 'c', 'd']);
  });
});
