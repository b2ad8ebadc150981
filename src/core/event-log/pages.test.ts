import { describe, expect, it } from 'vitest';
import type { FrameFormat, FramedRows } from '../../protocol/wire-frames.js';
import type { Store } from '../../store/types.js';
import { PageCache } from './pages.js';

const FORMAT: FrameFormat = ['seq'];

/** A store whose framed reads cost `msPerRow` on the given clock, synchronously (as SQLite) or after an await. */
function costlyStore(clock: { ms: number }, msPerRow: number, sync = true) {
  const asked: number[] = [];
  const frames = (afterSeq: number, limit: number): FramedRows => {
    const seqs = Array.from({ length: limit }, (_, i) => afterSeq + i + 1);
    return { bytes: new Uint8Array(limit), seqs, deletedSeqs: [] };
  };
  const store = {
    async readEventFrames(_sessionId: string, afterSeq: number, limit: number): Promise<FramedRows> {
      asked.push(limit);
      if (!sync) await Promise.resolve();
      clock.ms += limit * msPerRow;
      return frames(afterSeq, limit);
    },
  };
  return { store: store as unknown as Store, asked };
}

describe('PageCache read budget', () => {
  it("shrinks a session's pages to what fits the budget at its measured cost per row", async () => {
    const clock = { ms: 0 };
    const { store, asked } = costlyStore(clock, 0.1);
    const pages = new PageCache(store, { readBudgetMs: 3, now: () => clock.ms });
    pages.retain('s');
    const first = await pages.read('s', 0, 500, 0, FORMAT);
    const second = await pages.read('s', first.page.lastSeq, 500, 0, FORMAT);
    // 500 rows held the loop 50 ms: the next read asks for 3 ms worth (30 rows), and says the log goes on.
    expect(asked).toEqual([500, 30]);
    expect(second.page.length).toBe(30);
    expect(second.more).toBe(true);
  });

  it('keeps the asked limit for cheap rows and for a store that reads asynchronously', async () => {
    const clock = { ms: 0 };
    const cheap = costlyStore(clock, 0.001);
    const pages = new PageCache(cheap.store, { readBudgetMs: 3, now: () => clock.ms });
    pages.retain('s');
    await pages.read('s', 0, 500, 0, FORMAT);
    await pages.read('s', 500, 500, 0, FORMAT);
    expect(cheap.asked).toEqual([500, 500]);

    const remote = costlyStore(clock, 0.1, false);
    const far = new PageCache(remote.store, { readBudgetMs: 3, now: () => clock.ms });
    far.retain('s');
    await far.read('s', 0, 500, 0, FORMAT);
    await far.read('s', 500, 500, 0, FORMAT);
    // Waiting on a network store does not hold the loop: nothing to shrink for.
    expect(remote.asked).toEqual([500, 500]);
  });
});

describe('PageCache shared slices', () => {
  // The fake frames are 1 byte a row, and a framed page counts 8 more per row: 900 bytes is ~100 rows.
  it('hands a shared page out in slices of about sliceBytes, each from the same cached page', async () => {
    const clock = { ms: 0 };
    const { store, asked } = costlyStore(clock, 0);
    const pages = new PageCache(store, { sliceBytes: 900 });
    pages.retain('s');
    // The reader that read the page takes it whole (a replay is not cut up).
    const own = await pages.read('s', 0, 500, 0, FORMAT);
    expect([own.start, own.end, own.shared]).toEqual([0, 500, false]);
    // Another subscriber behind: ~100 rows a delivery, then on from where it stopped, with no store read.
    const seen: Array<[number, number]> = [];
    let cursor = 10;
    for (;;) {
      const slice = await pages.read('s', cursor, 500, 0, FORMAT);
      if (!slice.shared) break;
      seen.push([slice.page.seqAt(slice.start), slice.page.seqAt(slice.end - 1)]);
      cursor = slice.page.seqAt(slice.end - 1);
      if (slice.end === slice.page.length) {
        expect(slice.more).toBe(true);
        break;
      }
      expect(slice.more).toBe(true);
    }
    // 490 rows: four slices of 100, then the 90 left go with the fifth (a tail under a quarter is kept).
    expect(seen).toEqual([
      [11, 110],
      [111, 210],
      [211, 310],
      [311, 410],
      [411, 500],
    ]);
    expect(asked).toEqual([500]);
  });

  it('takes a small tail along rather than leaving it for another turn, and never slices below 16 rows', async () => {
    const clock = { ms: 0 };
    const { store } = costlyStore(clock, 0);
    const pages = new PageCache(store, { sliceBytes: 1 });
    pages.retain('s');
    await pages.read('s', 0, 100, 0, FORMAT);
    const slice = await pages.read('s', 0, 100, 0, FORMAT);
    expect([slice.start, slice.end]).toEqual([0, 16]);
    const tail = await pages.read('s', 80, 100, 0, FORMAT);
    expect([tail.start, tail.end]).toEqual([80, 100]);
  });
});
