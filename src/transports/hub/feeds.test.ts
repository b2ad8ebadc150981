import { describe, expect, it } from 'vitest';
import { FeedError, pump, type FeedTarget } from './feeds.js';
import type { Outbox } from './outbox.js';

function target(): FeedTarget & { sent: string[] } {
  const sent: string[] = [];
  const outbox = { send: (t: string) => sent.push(t), full: false, room: async () => undefined } as unknown as Outbox;
  return { sent, outbox, closed: false };
}

const opts = (from: number, last: number) => ({
  fromSeq: from,
  lastAtSubscribe: last,
  seqOf: (n: number) => n,
  batch: (items: readonly number[], more: boolean) => `batch ${items.length} ${items[0] ?? '-'}..${items.at(-1) ?? '-'} ${more}`,
  live: (n: number) => `live ${n}`,
});

async function* source(...batches: number[][]): AsyncGenerator<number[]> {
  for (const b of batches) yield b;
}

const range = (a: number, b: number) => Array.from({ length: b - a + 1 }, (_, i) => a + i);

describe('pump', () => {
  it('sends batches of 50 up to the seq at subscribe, has_more until then, then live frames', async () => {
    const t = target();
    await pump(t, source(range(1, 70), range(71, 103)), opts(0, 100));
    expect(t.sent).toEqual(['batch 50 1..50 true', 'batch 20 51..70 true', 'batch 30 71..100 false', 'live 101', 'live 102', 'live 103']);
  });

  it('sends one empty batch when the subscriber is already at the head', async () => {
    const t = target();
    await pump(t, source([6]), opts(5, 5));
    expect(t.sent).toEqual(['batch 0 -..- false', 'live 6']);
  });

  it('reports whether it failed while catching up or once live', async () => {
    async function* failing(after: number[][]): AsyncGenerator<number[]> {
      yield* after;
      throw new Error('disk');
    }
    await expect(pump(target(), failing([range(1, 10)]), opts(0, 100))).rejects.toMatchObject({ phase: 'catch_up' });
    const err = await pump(target(), failing([range(1, 100), [101]]), opts(0, 100)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FeedError);
    expect(err).toMatchObject({ phase: 'live' });
  });
});
