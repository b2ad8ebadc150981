import { afterEach, describe, expect, it } from 'vitest';
import type { StoredEvent } from '../../protocol/events.js';
import { EventLog } from './event-log.js';
import { appendMany, collect, fixture, range, type Fixture } from './test-helpers.js';

const seqs = (events: StoredEvent[]): number[] => events.map((e) => e.seq);

describe('subscribers catching up over shared pages in slices', () => {
  let f: Fixture;
  afterEach(async () => f.dispose());

  it('20 subscribers that overflowed together each get every event once, in order, from shared slices', async () => {
    f = await fixture(['s1']);
    // 16-row slices of 100-row pages (sliceBytes 1 means the fewest rows a slice holds).
    const log = new EventLog(f.store, f.bus, { pageSize: 100, pages: { sliceBytes: 1 } });
    const subs = Array.from({ length: 20 }, () => log.subscribe('s1', 0, { liveQueueLimit: 16 }));
    // Nobody pulls while 2,000 events are appended: every subscriber overflows.
    await appendMany(log, 's1', 2000, 50);
    for (const sub of subs) expect(sub.stats.overflows).toBeGreaterThan(0);
    // They catch up together while more events keep coming live.
    const all = Promise.all(subs.map((sub) => collect(sub, 2200)));
    await appendMany(log, 's1', 200, 20);
    for (const got of await all) expect(seqs(got)).toEqual(range(1, 2200));
    const reads = subs.reduce((n, s) => n + s.stats.storeReads, 0);
    const shared = subs.reduce((n, s) => n + s.stats.sharedReads, 0);
    // Slices come from pages others read: most deliveries are not store reads of their own.
    expect(shared).toBeGreaterThan(reads / 2);
    for (const sub of subs) sub.close();
  });
});
