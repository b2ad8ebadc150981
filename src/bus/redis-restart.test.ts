import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { EventLog } from '../core/event-log/index.js';
import { collect, fixture, type Fixture } from '../core/event-log/test-helpers.js';
import { waitFor } from '../../test/support/wait.js';
import { RedisBus } from './redis.js';
import { TEST_REDIS_URL, uniquePrefix } from './test-redis.js';

const choice = (content: string) => ({ type: 'agent_choice' as const, data: { content } });

/** Kills this run's own connections by name (never other clients of the shared server). */
async function killConnections(admin: Redis, namePrefix: string): Promise<number> {
  const list = (await admin.client('LIST')) as string;
  const ids = list
    .split('\n')
    .filter((line) => / name=(\S+)/.exec(line)?.[1]?.startsWith(namePrefix))
    .map((line) => / ?id=(\d+)/.exec(line)?.[1])
    .filter((id): id is string => id !== undefined);
  for (const id of ids) await admin.client('KILL', 'ID', id);
  return ids.length;
}

describe('RedisBus across a connection loss', () => {
  let f: Fixture;
  const closers: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const close of closers.splice(0).reverse()) await close();
    await f.dispose();
  });

  it('subscribers on another node recover by seq with no loss and no duplicate when Redis drops the connections mid-stream', async () => {
    f = await fixture(['s1']);
    const prefix = uniquePrefix('restart');
    const writerBus = await RedisBus.open(TEST_REDIS_URL, { prefix });
    const readerBus = await RedisBus.open(TEST_REDIS_URL, { prefix });
    const admin = new Redis(TEST_REDIS_URL);
    closers.push(() => writerBus.close(), () => readerBus.close(), () => admin.quit());
    // Two nodes on one store: node A writes, node B's clients watch.
    const writer = new EventLog(f.store, writerBus);
    const reader = new EventLog(f.store, readerBus);
    const subs = [0, 0, 10, 40].map((after) => ({ after, sub: reader.subscribe('s1', after) }));
    const firstHalf = subs.map(({ sub }) => collect(sub, 50));
    for (let i = 0; i < 50; i++) await writer.append('s1', choice(`a${i}`));
    await Promise.all(firstHalf);

    expect(await killConnections(admin, prefix)).toBeGreaterThanOrEqual(2);
    const rest = subs.map(({ sub }) => collect(sub, 150));
    // Some of these publishes fail while the publisher reconnects; every append still commits.
    for (let i = 50; i < 150; i++) await writer.append('s1', choice(`b${i}`));
    const stored = await f.store.readEvents('s1', 0, 1000);
    expect(stored).toHaveLength(150);
    const first = await Promise.all(firstHalf);
    const second = await Promise.all(rest);
    subs.forEach(({ after }, i) => {
      expect([...(first[i] ?? []), ...(second[i] ?? [])]).toEqual(stored.slice(after));
    });
    // The reader's connection did come back (resubscribed), and live delivery works through it again.
    await waitFor(() => readerBus.reconnects >= 1);
    const live = collect(subs[0]!.sub, 151);
    await writer.append('s1', choice('after reconnect'));
    expect((await live).map((e) => e.seq)).toEqual([151]);
    for (const { sub } of subs) sub.close();
  });
});
