/**
 * The append half of `bench cluster`: a turn's text deltas through Tower's Postgres store vs a bare `pg`
 * loop inserting the same rows in transactions of the same sizes. Each round gets a fresh schema.
 */
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { MemoryBus } from '../../src/bus/index.js';
import { TurnWriter } from '../../src/core/agent/turn-writer.js';
import { EventLog } from '../../src/core/event-log/index.js';
import { PostgresStore } from '../../src/store/postgres/index.js';
import { TEST_PG_URL, dropSchema, uniqueSchema } from '../../src/store/postgres/test-db.js';
import { testSessionRecord } from '../../src/store/testing/fixtures.js';
import type { CommitEntry, SessionRecord } from '../../src/store/types.js';

const SESSION_ID = '00000000-0000-4000-8000-0000000000c1';
const CONTENT = 'x'.repeat(100);
/** Deltas the model "streams" per macrotask (a provider's chunk), as the agent loop emits them. */
const PER_TICK = 5;

const session = (): SessionRecord => testSessionRecord(SESSION_ID, { title: '', working_dir: os.tmpdir(), model: 'fake/gpt-test' });

async function withSchema<T>(work: (schema: string) => Promise<T>): Promise<T> {
  const schema = uniqueSchema('bench_append');
  try {
    return await work(schema);
  } finally {
    await dropSchema(schema);
  }
}

export interface TowerAppendRound {
  eventsPerSec: number;
  /** The entries of each `Store.commit` call the log made, in order: what the bare loop replays. */
  batches: number[];
}

/**
 * `count` deltas emitted through a TurnWriter (never awaited one by one; back-pressure at its high-water
 * mark) over EventLog, PostgresStore and the in-process bus, so the store sees the group commits a
 * streaming turn makes. Throughput is from the first emit to the last commit.
 */
export function towerAppendRound(count: number): Promise<TowerAppendRound> {
  return withSchema(async (schema) => {
    const store = await PostgresStore.open(TEST_PG_URL, { schema, max: 4 });
    const batches: number[] = [];
    const commit = store.commit.bind(store);
    store.commit = (entries: CommitEntry[]) => {
      batches.push(entries.length);
      return commit(entries);
    };
    const log = new EventLog(store, new MemoryBus());
    try {
      await store.createSession(session());
      const writer = new TurnWriter(log, SESSION_ID);
      const t0 = performance.now();
      for (let i = 0; i < count; i++) {
        writer.emit({ type: 'agent_choice', data: { content: CONTENT } });
        if ((i + 1) % PER_TICK === 0) {
          await new Promise((r) => setImmediate(r));
          if (writer.full) await writer.waitForRoom();
        }
      }
      await writer.settle();
      const ms = performance.now() - t0;
      const last = await store.lastSeq(SESSION_ID);
      if (last !== count) throw new Error(`stored ${last} of ${count} events`);
      return { eventsPerSec: (count / ms) * 1000, batches };
    } finally {
      await log.close();
      await store.close();
    }
  });
}

/**
 * The bare loop: the same schema (Tower's migrations), the same rows (session, seq, type, JSON data,
 * timestamp) built per event, one transaction per batch of the given sizes, each one multi-row INSERT
 * on one connection. No session row update, no bus: just durable rows.
 */
export function bareAppendRound(batches: readonly number[]): Promise<number> {
  return withSchema(async (schema) => {
    const store = await PostgresStore.open(TEST_PG_URL, { schema, max: 1 });
    await store.createSession(session());
    await store.close();
    const client = new pg.Client({ connectionString: TEST_PG_URL, options: `-c search_path=${schema}` });
    await client.connect();
    try {
      let seq = 0;
      let total = 0;
      const t0 = performance.now();
      for (const n of batches) {
        const seqs: number[] = [];
        const types: string[] = [];
        const data: string[] = [];
        const times: string[] = [];
        for (let i = 0; i < n; i++) {
          seqs.push(++seq);
          types.push('agent_choice');
          data.push(JSON.stringify({ content: CONTENT }));
          times.push(new Date().toISOString());
        }
        await client.query('BEGIN');
        await client.query(
          `INSERT INTO events (session_id, seq, type, data, created_at)
           SELECT $1, * FROM unnest($2::bigint[], $3::text[], $4::text[], $5::text[])`,
          [SESSION_ID, seqs, types, data, times],
        );
        await client.query('COMMIT');
        total += n;
      }
      return (total / (performance.now() - t0)) * 1000;
    } finally {
      await client.end();
    }
  });
}
