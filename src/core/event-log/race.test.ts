import { afterEach, describe, expect, it } from 'vitest';
import type { StoredEvent } from '../../protocol/events.js';
import { EventLog } from './event-log.js';
import { fixture, nextTick, rng, type Fixture } from './test-helpers.js';
import type { EventSubscription } from './types.js';

const SESSIONS = ['s1', 's2', 's3'];
const END = 'END';

interface Joined {
  sessionId: string;
  from: number;
  sub: EventSubscription;
  got: StoredEvent[];
  done: Promise<void>;
}

/** A random pause: none, a microtask, a tick, or a short timer. */
function pause(rand: () => number): Promise<void> {
  const r = rand();
  if (r < 0.3) return Promise.resolve();
  if (r < 0.7) return nextTick();
  return new Promise((resolve) => setTimeout(resolve, Math.floor(rand() * 3)));
}

describe('EventLog race: concurrent writers and subscribers joining at random', () => {
  let f: Fixture;
  afterEach(async () => f.dispose());

  for (const seed of [1, 2, 3]) {
    it(`every subscriber receives exactly the stored log from its join seq (seed ${seed})`, async () => {
      f = await fixture(SESSIONS);
      const rand = rng(seed);
      const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)] as T;
      // Small pages and queues so catch-up paging and overflow both happen under the race.
      const log = new EventLog(f.store, f.bus, { pageSize: 7, liveQueueLimit: 32 });
      let writing = true;

      const writer = async (w: number): Promise<void> => {
        for (let i = 0; i < 120; i++) {
          const id = pick(SESSIONS);
          const burst = 1 + Math.floor(rand() * 5);
          const appends = Array.from({ length: burst }, (_, k) =>
            log.append(id, { type: 'agent_choice', data: { content: `w${w}-${i}-${k}` } }),
          );
          if (rand() < 0.5) await Promise.all(appends);
          await pause(rand);
        }
      };

      const joined: Joined[] = [];
      const consume = async (j: Joined): Promise<void> => {
        const it = j.sub[Symbol.asyncIterator]();
        for (;;) {
          const r = await it.next();
          if (r.done) return;
          j.got.push(...r.value);
          if (r.value.some((e) => e.type === 'session_title' && e.data.title === END)) return;
          if (rand() < 0.6) await pause(rand);
        }
      };
      const spawner = async (): Promise<void> => {
        while (writing) {
          const sessionId = pick(SESSIONS);
          const last = (await f.store.lastSeq(sessionId)) ?? 0;
          const from = Math.floor(rand() * (last + 1));
          const limit = rand() < 0.5 ? 4 : 32;
          const sub = log.subscribe(sessionId, from, { liveQueueLimit: limit });
          const j: Joined = { sessionId, from, sub, got: [], done: Promise.resolve() };
          j.done = consume(j);
          joined.push(j);
          for (let k = Math.floor(rand() * 6); k >= 0; k--) await pause(rand);
        }
      };

      const spawning = spawner();
      await Promise.all([0, 1, 2, 3].map(writer));
      writing = false;
      await spawning;
      // A last event per session tells each consumer where the log ends.
      await Promise.all(SESSIONS.map((id) => log.append(id, { type: 'session_title', data: { title: END } })));
      await Promise.all(joined.map((j) => j.done));

      expect(joined.length).toBeGreaterThan(20);
      let overflowed = 0;
      for (const j of joined) {
        const stored = await f.store.readEvents(j.sessionId, j.from, 1_000_000);
        const got = j.got.map((e) => e.seq);
        expect(got, `subscriber of ${j.sessionId} from ${j.from}`).toEqual(stored.map((e) => e.seq));
        expect(got).toEqual(Array.from({ length: got.length }, (_, i) => j.from + 1 + i));
        expect(j.got).toEqual(stored);
        if (j.sub.stats.overflows > 0) overflowed++;
        j.sub.close();
      }
      // The scenario must have exercised the overflow path, or it proves less than it claims.
      expect(overflowed).toBeGreaterThan(0);
      await log.close();
    });
  }
});
