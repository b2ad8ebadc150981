import { describe, expect, it } from 'vitest';
import { untilAborted } from './abortable.js';

/** Yields its values, then blocks forever; `returned` records that cleanup ran. */
function stuckSource(values: number[]) {
  const state = { returned: false };
  const iterable: AsyncIterable<number> = {
    [Symbol.asyncIterator]() {
      let i = 0;
      return {
        next: () => (i < values.length ? Promise.resolve({ done: false, value: values[i++] as number }) : new Promise(() => {})),
        return: () => {
          state.returned = true;
          return Promise.resolve({ done: true, value: undefined });
        },
      };
    },
  };
  return { iterable, state };
}

describe('untilAborted', () => {
  it('passes values through and ends with the source', async () => {
    async function* three() {
      yield 1;
      yield 2;
      yield 3;
    }
    const out: number[] = [];
    for await (const v of untilAborted(three(), new AbortController().signal)) out.push(v);
    expect(out).toEqual([1, 2, 3]);
  });

  it('ends a stuck source as soon as the signal aborts, and releases it', async () => {
    const { iterable, state } = stuckSource([1, 2]);
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 20);
    const out: number[] = [];
    for await (const v of untilAborted(iterable, controller.signal)) out.push(v);
    expect(out).toEqual([1, 2]);
    expect(state.returned).toBe(true);
  });

  it('yields nothing for an already aborted signal', async () => {
    const { iterable } = stuckSource([1]);
    const out: number[] = [];
    for await (const v of untilAborted(iterable, AbortSignal.abort())) out.push(v);
    expect(out).toEqual([]);
  });
});
