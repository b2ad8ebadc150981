import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testEntry, testSessionRecord } from '../testing/fixtures.js';
import { isTowerError } from '../../protocol/errors.js';
import { PostgresStore } from './store.js';
import { NO_POSTGRES, TEST_PG_URL, assertPostgresReachable, dropSchema, uniqueSchema, withSchemaClient } from './test-db.js';

interface CommitCutter {
  url: string;
  /** Cut at the next COMMIT's answer; with `down`, Postgres stays unreachable from then until `up`. */
  arm: (opts?: { down?: boolean }) => void;
  up: () => void;
  cuts: () => number;
  close: () => Promise<void>;
}

/**
 * A TCP proxy in front of Postgres that, once armed, cuts the connection at the server's answer to a
 * COMMIT (its CommandComplete "COMMIT"): the transaction has committed and the client never hears it,
 * the window a real connection loss leaves open. Down, it ends every connection and refuses new ones.
 */
async function commitCutter(): Promise<CommitCutter> {
  const target = new URL(TEST_PG_URL);
  let armed = false;
  let downAtCut = false;
  let down = false;
  let cuts = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    if (down) {
      client.destroy();
      return;
    }
    const upstream = net.connect(Number(target.port || 5432), target.hostname);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => undefined);
      s.on('close', () => sockets.delete(s));
    }
    client.pipe(upstream);
    let pending = Buffer.alloc(0);
    upstream.on('data', (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      // Whole server messages only: a type byte, then a length that counts itself.
      let at = 0;
      while (pending.length - at >= 5) {
        const length = pending.readUInt32BE(at + 1);
        if (pending.length - at < 1 + length) break;
        const message = pending.subarray(at, at + 1 + length);
        if (armed && message[0] === 0x43 && message.subarray(5).toString('latin1') === 'COMMIT\0') {
          armed = false;
          cuts++;
          client.write(pending.subarray(0, at));
          client.destroy();
          upstream.destroy();
          if (downAtCut) {
            down = true;
            for (const s of sockets) s.destroy();
          }
          return;
        }
        at += 1 + length;
      }
      client.write(pending.subarray(0, at));
      pending = pending.subarray(at);
    });
    upstream.on('close', () => client.destroy());
    client.on('close', () => upstream.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  const url = new URL(TEST_PG_URL);
  url.host = `127.0.0.1:${port}`;
  return {
    url: url.toString(),
    arm: (opts = {}) => {
      armed = true;
      downAtCut = opts.down ?? false;
    },
    up: () => (down = false),
    cuts: () => cuts,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe.skipIf(NO_POSTGRES)('Postgres commit marks', () => {
  const schema = uniqueSchema('marks');
  beforeAll(assertPostgresReachable);
  afterAll(() => dropSchema(schema));

  /** Runs `test` on a store behind a fresh cutter, with session `id` created and holding one event. */
  async function behindCutter(id: string, test: (store: PostgresStore, proxy: CommitCutter) => Promise<void>): Promise<void> {
    const proxy = await commitCutter();
    const store = await PostgresStore.open(proxy.url, { schema, max: 4 });
    try {
      await store.createSession(testSessionRecord(id));
      await store.commit([testEntry(id, 0)]);
      await test(store, proxy);
    } finally {
      await store.close();
      await proxy.close();
    }
  }

  it('answers a commit whose COMMIT landed and whose answer was lost: a retry never stores it twice', async () => {
    await behindCutter('s1', async (store, proxy) => {
      const entries = Array.from({ length: 25 }, (_, i) => testEntry('s1', 1 + i));
      proxy.arm();
      // What group commit does with a failed batch: commit it again. Without the mark, the first call
      // fails although its COMMIT landed, and the retry stores the 25 events a second time.
      const results = await store.commit(entries).catch(() => store.commit(entries));
      expect(proxy.cuts()).toBe(1);
      expect(results.map((r) => r.event.seq)).toEqual(Array.from({ length: 25 }, (_, i) => 2 + i));
      expect(await store.lastSeq('s1')).toBe(26);
      const events = await store.readEvents('s1', 0, 100);
      expect(events.map((e) => e.seq)).toEqual(Array.from({ length: 26 }, (_, i) => 1 + i));
      expect(new Set(events.map((e) => JSON.stringify(e.data))).size).toBe(26);
      // The next commit goes on right after, on a new connection.
      expect((await store.commit([testEntry('s1', 99)]))[0]?.event.seq).toBe(27);
    });
    // Answered marks are pruned as commits go, and the rest at close.
    const left = await withSchemaClient(schema, async (c) => (await c.query('SELECT count(*)::int AS n FROM commit_marks')).rows[0]?.n);
    expect(left).toBe(0);
  });

  it('fails a commit whose outcome cannot be known with commit_outcome_unknown, not a code that is retried', async () => {
    await behindCutter('s2', async (store, proxy) => {
      const entries = Array.from({ length: 5 }, (_, i) => testEntry('s2', 1 + i));
      // The COMMIT lands, its answer is lost, and Postgres is unreachable when the mark is looked up.
      proxy.arm({ down: true });
      const err = await store.commit(entries).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(proxy.cuts()).toBe(1);
      expect(isTowerError(err) ? err.code : err).toBe('commit_outcome_unknown');
      // It had landed: stored once, and group commit (group-commit.test.ts) does not commit it again.
      proxy.up();
      expect(await store.lastSeq('s2')).toBe(6);
      expect((await store.readEvents('s2', 0, 100)).map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6]);
      expect((await store.commit([testEntry('s2', 99)]))[0]?.event.seq).toBe(7);
    });
  });
});
