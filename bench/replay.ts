/**
 * replay: a client resuming from seq 0 on a 100,000-event session (GET /api/sessions/:id/events?since=0,
 * in another process, over loopback) until it has the last event: events per second received. Baseline:
 * the same rows read straight from SQLite in the server process (a second connection, pages of 500 like
 * Tower's, rows not decoded). Medians of several runs each. Also measured: how long the server took to
 * answer a no-op request sent while a replay was in flight (event-loop responsiveness), and the longest
 * wait of a stream of no-op requests (HTTP `GET /health`, one after another 5 ms apart) over the whole
 * replay: the bar is that no other request waits more than 10 ms while a replay is served. A second
 * session of payloads with nested `type` keys (tool-call content parts, elicitation schemas, as real
 * sessions have) is replayed the same way and reported in the notes against raw reads of its rows.
 *
 * `BENCH_SERVER_NODE_ARGS`: extra node/V8 flags for the server process (space-separated), for example
 * `--single-threaded-gc` to see what V8's GC helper threads cost the no-op waits on a small machine.
 *
 * `BENCH_STORE=postgres`: the server runs on PostgreSQL (TOWER_TEST_PG_URL, a fresh schema dropped
 * after) instead of its SQLite file, and the baseline reads the same rows with `pg` in this process
 * (pages of 500, one connection); the default is SQLite. The events table is ANALYZEd after each seed,
 * as autovacuum would soon after a bulk insert: without statistics PostgreSQL plans a page as a bitmap
 * scan of the session's remaining rows plus a sort (~20 ms a page here), which would measure the
 * planner, not Tower (`BENCH_PG_ANALYZE=0` keeps that state).
 */
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { TEST_PG_URL, assertPostgresReachable, dropSchema, uniqueSchema } from '../src/store/postgres/test-db.js';
import { pick, profArgs } from './lib/cli.js';
import { sleep } from './lib/clock.js';
import { median } from './lib/hist.js';
import { httpNoop, maxOf, probe } from './lib/probe.js';
import { spawnChild, stopAll } from './lib/proc.js';
import { emitBench, human, progress, sig, summary } from './lib/report.js';

const EVENTS = 100_000;
const REPS = pick(2, 5);
const PAGE = 500;
const PG_SCHEMA = process.env.BENCH_STORE === 'postgres' ? uniqueSchema('bench_replay') : undefined;
const BACKEND = PG_SCHEMA ? 'Postgres' : 'SQLite';

interface Replay {
  ms: number;
  frames: number;
  lastSeq: number;
  lost: number;
  dups: number;
  timedOut: boolean;
}

/** Statistics for the planner after a seed (see the header); a no-op on SQLite. */
async function analyze(): Promise<void> {
  if (!PG_SCHEMA || process.env.BENCH_PG_ANALYZE === '0') return;
  const client = new pg.Client({ connectionString: TEST_PG_URL, options: `-c search_path=${PG_SCHEMA}` });
  await client.connect();
  try {
    await client.query('ANALYZE events');
  } finally {
    await client.end();
  }
}

/** The baseline on Postgres: the rows of one session in pages of PAGE, `reps` times, with `pg` here. */
async function readBarePg(schema: string, sessionId: string, reps: number): Promise<{ rates: number[] }> {
  const client = new pg.Client({ connectionString: TEST_PG_URL, options: `-c search_path=${schema}` });
  await client.connect();
  try {
    const rates: number[] = [];
    for (let r = 0; r < reps; r++) {
      const t0 = performance.now();
      let rows = 0;
      for (let cursor = 0; ; ) {
        const got = await client.query<{ seq: string }>({
          name: 'bare',
          text: 'SELECT seq, type, data, created_at FROM events WHERE session_id = $1 AND seq > $2 ORDER BY seq LIMIT $3',
          values: [sessionId, cursor, PAGE],
        });
        if (got.rows.length === 0) break;
        rows += got.rows.length;
        cursor = Number(got.rows[got.rows.length - 1]!.seq);
      }
      rates.push((rows / (performance.now() - t0)) * 1000);
    }
    return { rates };
  } finally {
    await client.end();
  }
}

if (PG_SCHEMA) await assertPostgresReachable();
const serverArgs = (process.env.BENCH_SERVER_NODE_ARGS ?? '').split(' ').filter(Boolean);
const server = spawnChild('tower', 'servers/tower-server.ts', { nodeArgs: [...serverArgs, ...profArgs('replay')] });
const clients = spawnChild('replay-client', 'loadgen/sse-clients.ts');
try {
  const { port, db } = await server.request<{ port: number; db: string }>(
    PG_SCHEMA ? { type: 'init', storeUrl: `${TEST_PG_URL}?schema=${PG_SCHEMA}` } : { type: 'init' },
    60_000,
  );
  const readBare = (id: string) =>
    PG_SCHEMA
      ? readBarePg(PG_SCHEMA, id, REPS)
      : server.request<{ rates: number[] }>({ type: 'readBare', db, sessionId: id, pageSize: PAGE, reps: REPS }, 120_000);
  const sessionId = (await server.request<{ ids: string[] }>({ type: 'create', n: 1 })).ids[0]!;
  const seeded = await server.request<{ lastSeq: number; ms: number }>({ type: 'seed', sessionId, count: EVENTS, batch: 1_000 }, 120_000);
  progress(`replay: seeded ${seeded.lastSeq} events in ${Math.round(seeded.ms)} ms`);
  await analyze();

  const noop = httpNoop('127.0.0.1', port);
  await noop();

  /** REPS replays of a session from seq 0, each with a stream of no-op requests and an IPC ping during it. */
  const replayAll = async (id: string, lastSeq: number, label: string) => {
    const path = `/api/sessions/${id}/events?since=0`;
    const replays: Replay[] = [];
    const stalls: number[] = [];
    const httpWaits: number[] = [];
    for (let r = 0; r < REPS; r++) {
      const pending = clients.request<Replay>({ type: 'replay', host: '127.0.0.1', port, path, target: lastSeq, timeoutMs: 60_000 }, 70_000);
      // No-op HTTP requests one after another for the whole replay: the longest wait is the bar's figure.
      const probing = probe(noop);
      // A no-op IPC request while the replay is being served: how long is everything else kept waiting?
      await sleep(30);
      const t0 = performance.now();
      await server.request({ type: 'cpu' }, 60_000);
      stalls.push(performance.now() - t0);
      const replay = await pending;
      const waits = await probing.stop();
      httpWaits.push(...waits);
      replays.push(replay);
      progress(
        `${label} ${r + 1}: ${human((replay.frames / replay.ms) * 1000)} events/s, server answered a ping after ${Math.round(stalls.at(-1)!)} ms; ` +
          `${waits.length} no-op HTTP requests during it waited up to ${sig(maxOf(waits))} ms`,
      );
    }
    const clean = replays.every((r) => r.lost === 0 && r.dups === 0 && !r.timedOut && r.lastSeq === lastSeq);
    return { replays, stalls, httpWaits, clean, rate: median(replays.map((r) => (r.frames / r.ms) * 1000)) };
  };

  await server.request({ type: 'loopDelay' });
  const { replays, stalls, httpWaits, clean } = await replayAll(sessionId, seeded.lastSeq, 'replay');
  const httpMax = maxOf(httpWaits);
  const delay = await server.request<{ maxMs: number }>({ type: 'loopDelay' });
  const bare = await readBare(sessionId);

  // Variant: payloads with nested `type` keys (tool-call content parts, elicitation schemas), as real
  // sessions have; reported in the notes against raw reads of the same rows.
  const nestedId = (await server.request<{ ids: string[] }>({ type: 'create', n: 1 })).ids[0]!;
  const nestedSeed = await server.request<{ lastSeq: number }>({ type: 'seed', sessionId: nestedId, count: EVENTS, batch: 1_000, nested: true }, 120_000);
  await analyze();
  await server.request({ type: 'loopDelay' });
  const nested = await replayAll(nestedId, nestedSeed.lastSeq, 'replay (nested type keys)');
  const nestedDelay = await server.request<{ maxMs: number }>({ type: 'loopDelay' });
  const nestedBare = median((await readBare(nestedId)).rates);
  const nestedRatio = nested.rate / nestedBare;

  const towerRate = median(replays.map((r) => (r.frames / r.ms) * 1000));
  const bareRate = median(bare.rates);
  const ratio = towerRate / bareRate;
  summary(`replay (${seeded.lastSeq} events, median of ${REPS})`, [
    ['tower over SSE: events/s', human(towerRate)],
    ['tower: ms per full replay', sig(median(replays.map((r) => r.ms)))],
    [`bare ${BACKEND} read: rows/s`, human(bareRate)],
    ['ratio', sig(ratio)],
    ['server answered a ping during replay after (median ms)', sig(median(stalls))],
    [`no-op HTTP requests during replays (${httpWaits.length}): longest wait (ms)`, sig(httpMax)],
    ['server event loop blocked up to (ms)', Math.round(delay.maxMs)],
    ['every replay complete, gap-free, no duplicates', clean ? 'yes' : 'NO'],
    ['nested type keys: tower over SSE events/s', human(nested.rate)],
    [`nested type keys: bare ${BACKEND} read rows/s`, human(nestedBare)],
    ['nested type keys: ratio', sig(nestedRatio)],
    ['nested type keys: longest no-op wait (ms), loop max (ms)', `${sig(maxOf(nested.httpWaits))}, ${Math.round(nestedDelay.maxMs)}`],
    ['nested type keys: complete, gap-free, no duplicates', nested.clean ? 'yes' : 'NO'],
    ['load average (1 min)', sig(os.loadavg()[0]!)],
  ]);
  emitBench({
    name: PG_SCHEMA ? 'replay-postgres' : 'replay',
    value: towerRate,
    unit: 'events/s',
    baseline: bareRate,
    ratio,
    target: 'ratio >= 0.5, no request waits > 10 ms during a replay',
    met: ratio >= 0.5 && httpMax <= 10 && clean,
    loop_max_ms: delay.maxMs,
    notes:
      `${PG_SCHEMA ? 'Postgres store; ' : ''}${seeded.lastSeq} events (100-byte agent_choice); full replay ${sig(median(replays.map((r) => r.ms)))} ms; ` +
      `a request arriving during a replay waited ${sig(median(stalls))} ms (median), event loop blocked up to ` +
      `${Math.round(delay.maxMs)} ms; ${httpWaits.length} no-op HTTP requests sent during the replays waited up to ` +
      `${sig(httpMax)} ms (median ${sig(median(httpWaits))}); ${clean ? 'lossless' : 'LOSS OR DUPLICATES'}; ` +
      `payloads with nested "type" keys: ${human(nested.rate)} events/s, ratio ${sig(nestedRatio)} of raw reads ` +
      `(${human(nestedBare)} rows/s), no-op waits up to ${sig(maxOf(nested.httpWaits))} ms, loop max ` +
      `${Math.round(nestedDelay.maxMs)} ms, ${nested.clean ? 'lossless' : 'LOSS OR DUPLICATES'}`,
  });
} finally {
  await stopAll(server, clients);
  if (PG_SCHEMA) await dropSchema(PG_SCHEMA);
}
