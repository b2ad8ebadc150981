import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryBus } from '../../bus/memory.js';
import { isTowerError } from '../../protocol/errors.js';
import { PostgresStore } from '../../store/postgres/store.js';
import { commitCutter, type CommitCutter } from '../../store/postgres/test-cutter.js';
import { NO_POSTGRES, assertPostgresReachable, dropSchema, uniqueSchema } from '../../store/postgres/test-db.js';
import { testSessionRecord } from '../../store/testing/fixtures.js';
import { EventLog } from './event-log.js';
import { choice, range, Recorder } from './test-helpers.js';

/**
 * A commit whose COMMIT landed while its answer was lost, with Postgres unreachable for the mark check:
 * its appends fail with `commit_outcome_unknown` and its events are stored but never published. A live
 * subscriber (in-process bus: nothing re-checks on a timer) must still get them, once each and in order.
 */
describe.skipIf(NO_POSTGRES)('events of a commit of unknown outcome reach live subscribers', () => {
  const schema = uniqueSchema('doubt');
  beforeAll(assertPostgresReachable);
  afterAll(() => dropSchema(schema));

  /** An event log on Postgres behind a COMMIT cutter; session `id` holds `e0`, a subscriber from 0 has it. */
  async function rig(id: string, test: (log: EventLog, sink: Recorder, proxy: CommitCutter) => Promise<void>): Promise<void> {
    const proxy = await commitCutter();
    const store = await PostgresStore.open(proxy.url, { schema, max: 4 });
    const bus = new MemoryBus();
    const log = new EventLog(store, bus);
    try {
      await store.createSession(testSessionRecord(id));
      await log.append(id, choice('e0'));
      const sink = new Recorder();
      const sub = log.subscribeSink(id, 0, sink);
      await sink.until(1);
      // Three appends in one batch: the COMMIT lands, its answer is lost, Postgres stays down.
      proxy.arm({ down: true });
      const outcomes = await Promise.allSettled([1, 2, 3].map((i) => log.append(id, choice(`lost${i}`))));
      expect(proxy.cuts()).toBe(1);
      expect(outcomes.map((o) => (o.status === 'rejected' && isTowerError(o.reason) ? o.reason.code : o.status))).toEqual([
        'commit_outcome_unknown',
        'commit_outcome_unknown',
        'commit_outcome_unknown',
      ]);
      await test(log, sink, proxy);
      expect(sink.ends).toEqual([]);
      sub.close();
    } finally {
      await log.close();
      await bus.close();
      await store.close();
      await proxy.close();
    }
  }

  const contents = (sink: Recorder): unknown[] => sink.events.map((e) => (e.data as { content: string }).content);

  it('with the session\'s next event: the gap is read from the store, no event twice', async () => {
    await rig('s1', async (log, sink, proxy) => {
      proxy.up();
      const next = await log.append('s1', choice('next'));
      expect(next.event.seq).toBe(5);
      await sink.until(5);
      expect(sink.seqs).toEqual(range(1, 5));
      expect(contents(sink)).toEqual(['e0', 'lost1', 'lost2', 'lost3', 'next']);
    });
  });

  it('with no further event: once Postgres answers again, the subscriber reads them from the store', async () => {
    await rig('s2', async (log, sink, proxy) => {
      proxy.up();
      await sink.until(4);
      expect(sink.seqs).toEqual(range(1, 4));
      expect(contents(sink)).toEqual(['e0', 'lost1', 'lost2', 'lost3']);
      // Later events go on live, after them.
      await log.append('s2', choice('later'));
      await sink.until(5);
      expect(sink.seqs).toEqual(range(1, 5));
    });
  });
});
