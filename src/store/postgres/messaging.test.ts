import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MessagingChange } from '../../protocol/messaging.js';
import { describeMessagingConformance } from '../conformance-messaging.js';
import { describeRunnerTokenConformance } from '../testing/runner-tokens-conformance.js';
import { PostgresStore } from './store.js';
import { NO_POSTGRES, TEST_PG_URL, assertPostgresReachable, dropSchema, uniqueSchema } from './test-db.js';

const schemas: string[] = [];
async function openFresh(tag: string): Promise<PostgresStore> {
  const schema = uniqueSchema(tag);
  schemas.push(schema);
  return PostgresStore.open(TEST_PG_URL, { schema, max: 4 });
}

const post = { from_type: 'human', from_id: 'h', to_type: 'broadcast', to_id: '', kind: 'status' } as const;

function collect(store: PostgresStore): { seen: MessagingChange[]; until(n: number): Promise<void>; stop(): void } {
  const seen: MessagingChange[] = [];
  let wake: (() => void) | undefined;
  const stop = store.messaging.watch((c) => {
    seen.push(...c);
    wake?.();
  });
  return {
    seen,
    stop,
    until: async (n) => {
      while (seen.length < n) await new Promise<void>((r) => (wake = r));
    },
  };
}

describe.skipIf(NO_POSTGRES)('Postgres messaging and runner tokens', () => {
  beforeAll(assertPostgresReachable);
  afterAll(async () => {
    for (const s of schemas.splice(0)) await dropSchema(s);
  });

  describeMessagingConformance('postgres', () => openFresh('msgconf'));
  describeRunnerTokenConformance('postgres', async () => {
    const store = await openFresh('tokconf');
    return { tokens: store.runnerTokens(), close: () => store.close() };
  });

  describe('several nodes and external writers on one schema', () => {
    const schema = uniqueSchema('msgnodes');
    const opened: PostgresStore[] = [];
    let raw: pg.Client;
    beforeAll(async () => {
      schemas.push(schema);
      opened.push(await PostgresStore.open(TEST_PG_URL, { schema, max: 4 }), await PostgresStore.open(TEST_PG_URL, { schema, max: 4 }));
      raw = new pg.Client({ connectionString: TEST_PG_URL, options: `-c search_path=${schema}` });
      await raw.connect();
    });
    afterAll(async () => {
      await raw.end();
      for (const s of opened) await s.close();
    });

    it('a watcher on one node sees what another node and an external writer commit, in commit order', async () => {
      const [a, b] = opened as [PostgresStore, PostgresStore];
      const w = collect(b);
      try {
        await a.messaging.createThread({ id: 'x', title: 'X' });
        await a.messaging.postThreadMessage('x', { ...post, content: 'from a' });
        await raw.query("INSERT INTO thread_messages (thread_id, content) VALUES ('x', 'external')");
        await raw.query("INSERT INTO thread_messages (thread_id, content) VALUES ('new', 'creates the thread')");
        const inbox = await a.messaging.insertInboxMessage({ from_agent: 'a', to_inbox: 'me', message_type: 'info', title: '' });
        await raw.query("UPDATE threads SET status = 'paused' WHERE id = 'x'");
        await w.until(7);
        expect(w.seen.map(({ id: _id, ...c }) => c)).toEqual([
          { kind: 'thread_state', thread_id: 'x' },
          { kind: 'thread_message', thread_id: 'x', message_seq: 1 },
          { kind: 'thread_message', thread_id: 'x', message_seq: 2 },
          { kind: 'thread_state', thread_id: 'new' },
          { kind: 'thread_message', thread_id: 'new', message_seq: 1 },
          { kind: 'inbox_message', inbox_message_id: inbox.id },
          { kind: 'thread_state', thread_id: 'x' },
        ]);
        expect(await b.messaging.getThread('new')).toMatchObject({ last_seq: 1, status: 'active' });
        expect((await b.messaging.readThreadMessages('x', 0, 10)).map((m) => m.content)).toEqual(['from a', 'external']);
      } finally {
        w.stop();
      }
    });

    it('two nodes posting to one thread at once never share or skip a seq', async () => {
      const [a, b] = opened as [PostgresStore, PostgresStore];
      await a.messaging.createThread({ id: 'race', title: '' });
      const posts = Array.from({ length: 60 }, (_, i) => (i % 2 ? a : b).messaging.postThreadMessage('race', { ...post, content: `m${i}` }));
      const seqs = (await Promise.all(posts)).map((r) => r.message.message_seq).sort((x, y) => x - y);
      expect(seqs).toEqual(Array.from({ length: 60 }, (_, i) => i + 1));
      expect((await a.messaging.getThread('race'))?.last_seq).toBe(60);
    });

    it('refuses an external row reusing a seq or giving one below 1, and moves last_seq past a given one', async () => {
      const [a] = opened as [PostgresStore];
      await a.messaging.createThread({ id: 'given', title: '' });
      await raw.query("INSERT INTO thread_messages (thread_id, message_seq, content) VALUES ('given', 3, 'x')");
      await expect(raw.query("INSERT INTO thread_messages (thread_id, message_seq, content) VALUES ('given', 3, 'dup')")).rejects.toThrow(/unique/i);
      await expect(raw.query("INSERT INTO thread_messages (thread_id, message_seq, content) VALUES ('given', 0, 'zero')")).rejects.toThrow(/positive/);
      expect((await a.messaging.postThreadMessage('given', { ...post, content: 'y' })).message.message_seq).toBe(4);
    });

    it('round-trips text PostgreSQL cannot hold as is', async () => {
      const [a, b] = opened as [PostgresStore, PostgresStore];
      const odd = 'a\u0000b';
      await a.messaging.createThread({ id: 'odd', title: odd });
      await a.messaging.postThreadMessage('odd', { ...post, content: odd, subject: odd });
      expect(await b.messaging.readThreadMessages('odd', 0, 1)).toMatchObject([{ content: odd, subject: odd }]);
      expect((await b.messaging.getThread('odd'))?.title).toBe(odd);
      const m = await a.messaging.insertInboxMessage({ from_agent: 'a', to_inbox: 'i', message_type: 'info', title: odd, payload: odd });
      expect(await b.messaging.getInboxMessage(m.id)).toMatchObject({ title: odd, payload: odd });
    });

    it('runner tokens are shared by the nodes and found only by their exact hash', async () => {
      const [a, b] = opened as [PostgresStore, PostgresStore];
      const hash = 'ab'.repeat(32);
      await a.runnerTokens().createRunnerToken({ id: 'r1', name: 'n', labels: ['x'], token_hash: hash, created_at: '2026-01-01T00:00:00.000Z' });
      expect(await b.runnerTokens().findRunnerTokenByHash(hash)).toMatchObject({ id: 'r1', labels: ['x'] });
      expect(await b.runnerTokens().findRunnerTokenByHash(hash.toUpperCase())).toBeUndefined();
      expect(await b.runnerTokens().findRunnerTokenByHash('')).toBeUndefined();
    });
  });
});
