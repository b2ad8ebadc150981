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
