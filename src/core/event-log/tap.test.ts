import { afterEach, describe, expect, it } from 'vitest';
import type { StoredEvent } from '../../protocol/events.js';
import { EventLog } from './event-log.js';
import { choice, deferred, fixture, nextTick, type Fixture } from './test-helpers.js';


describe('EventLog.tap', () => {
  let f: Fixture;
  afterEach(async () => f.dispose());

  it('sees every committed event of every session, after commit, in commit order, until untapped', async () => {
    f = await fixture(['s1', 's2']);
    const gate = deferred();
    f.store.beforeCommit = () => gate.promise;
    const log = new EventLog(f.store, f.bus);
    const seen: StoredEvent[] = [];
    const untap = log.tap((events) => seen.push(...events));
    const appends = [log.append('s1', choice('a')), log.append('s2', choice('b')), log.append('s1', choice('c'))];
    for (let i = 0; i < 5; i++) await nextTick();
    expect(seen).toHaveLength(0);
    gate.resolve();
    await Promise.all(appends);
    expect(seen.map((e) => [e.session_id, e.seq, e.data])).toEqual([
      ['s1', 1, { content: 'a' }],
      ['s2', 1, { content: 'b' }],
      ['s1', 2, { content: 'c' }],
    ]);
    untap();
    await log.append('s1', choice('d'));
    expect(seen).toHaveLength(3);
  });

  it('keeps serving the log and other taps when a tap throws', async () => {
    f = await fixture(['s1']);
    const log = new EventLog(f.store, f.bus);
    const seen: number[] = [];
    log.tap(() => {
      throw new Error('bad tap');
    });
    log.tap((events) => seen.push(...events.map((e) => e.seq)));
    const r = await log.append('s1', choice('a'));
    expect(r.event.seq).toBe(1);
    await log.append('s1', choice('b'));
    expect(seen).toEqual([1, 2]);
  });
});
