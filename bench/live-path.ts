/**
 * live-path: the per-token cost of the live delivery path, in-process: `TurnWriter.emit` through a real
 * EventLog, group commit and SQLite store (`:memory:`), the in-memory bus, each session's live ring and
 * one push subscription per session whose sink builds the SSE bytes as the HTTP writer does (the run as
 * one HTTP/1.1 chunk, `eventsChunk`; catch-up pages as framed). No sockets: what is left out is the
 * write itself. 500 sessions each emit one delta per tick, as in the sessions benchmark; every 20 ticks
 * all writers `settle`. Reports CPU us per token and GC per 10k tokens, median of 3 rounds.
 *
 * The store's commit is free by default (seqs counted in memory, nothing written: the SQLite commit is
 * more than half of this path's CPU and the noise of an A/B would be mostly its); `LIVE_STORE=sqlite`
 * commits to SQLite `:memory:` for real.
 *
 *   flock /work/wt/bench.lock npx tsx bench/live-path.ts [tokens]
 *   LIVE_ROOT=/work/main npx tsx bench/live-path.ts      # the same path in another tree, for an A/B
 */
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type * as BusModule from '../src/bus/index.js';
import type * as WriterModule from '../src/core/agent/turn-writer.js';
import type * as LogModule from '../src/core/event-log/index.js';
import type * as StoreModule from '../src/store/sqlite/index.js';
import type * as FixturesModule from '../src/store/testing/fixtures.js';
import type * as ForwardingModule from '../src/store/testing/forwarding.js';
import type * as EventsModule from '../src/protocol/events.js';
import type * as SseModule from '../src/transports/http/sse.js';
import type { CommitEntry, CommitResult, SessionRecord, Store } from '../src/store/types.js';
import { watchGc } from './lib/gc-watch.js';
import { emitTokens } from './lib/token-loop.js';
import { benchSessionId } from './lib/ids.js';

const ROOT = process.env.LIVE_ROOT ?? path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const load = <T>(rel: string): Promise<T> => import(pathToFileURL(path.join(ROOT, rel)).href) as Promise<T>;
const { MemoryBus } = await load<typeof BusModule>('src/bus/index.ts');
const { TurnWriter } = await load<typeof WriterModule>('src/core/agent/turn-writer.ts');
const { EventLog } = await load<typeof LogModule>('src/core/event-log/index.ts');
const { openSqliteStore } = await load<typeof StoreModule>('src/store/sqlite/index.ts');
const { testSessionRecord } = await load<typeof FixturesModule>('src/store/testing/fixtures.ts');
const { SSE_FORMAT, batchBytes, eventsChunk } = await load<typeof SseModule>('src/transports/http/sse.ts');
const { ForwardingStore } = await load<typeof ForwardingModule>('src/store/testing/forwarding.ts');
const { storedEventOf } = await load<typeof EventsModule>('src/protocol/events.ts');

/** Commits that cost nothing: seqs counted per session in memory (see the header). */
class FreeCommits extends ForwardingStore {
  private readonly heads = new Map<string, number>();

  override commit(entries: CommitEntry[]): Promise<CommitResult[]> {
    const out = new Array<CommitResult>(entries.length);
    for (let i = 0; i < entries.length; i++) {
      const e = entries[i] as CommitEntry;
      const seq = (this.heads.get(e.session_id) ?? 0) + 1;
      this.heads.set(e.session_id, seq);
      out[i] = { event: storedEventOf(e.session_id, seq, e.type, e.data, e.timestamp) };
    }
    return Promise.resolve(out);
  }
}

const openStore = (): Store => {
  const sqlite = openSqliteStore(':memory:');
  return process.env.LIVE_STORE === 'sqlite' ? sqlite : new FreeCommits(sqlite);
};

const TOKENS = Number(process.argv[2] ?? 200_000);
const SESSIONS = Number(process.env.LIVE_SESSIONS ?? 500);
const TICKS_PER_SETTLE = 20;

function session(i: number): SessionRecord {
  return testSessionRecord(benchSessionId(i), { working_dir: os.tmpdir() });
}

interface Row {
  cpuUs: number;
  gcs: number;
  gcMs: number;
}

/** Counts what reaches the sinks (and the bytes, so the frames are not optimised away). */
const seen = { events: 0, bytes: 0 };

const sink: LogModule.FramedSink = {
  frameFormat: SSE_FORMAT,
  onBatch(batch) {
    if (batch.from === 'live') {
      // What sse-node writes to a chunked socket; the text arguments are ignored by a tree without them.
      const extra = batch as { dataJson?: unknown; sessionJson?: unknown };
      const chunk = (eventsChunk as (...args: unknown[]) => Uint8Array)(batch.events, extra.dataJson, extra.sessionJson);
      seen.bytes += chunk.byteLength;
      seen.events += batch.events.length;
    } else {
      seen.bytes += batchBytes(batch).byteLength;
      seen.events += batch.end - batch.start;
    }
    return true;
  },
};

async function round(tokens: number): Promise<Row> {
  const store = openStore();
  const log = new EventLog(store, new MemoryBus());
  const writers: WriterModule.TurnWriter[] = [];
  const subs: LogModule.SinkSubscription[] = [];
  for (let i = 0; i < SESSIONS; i++) {
    const s = session(i);
    await store.createSession(s);
    subs.push(log.subscribeSink(s.id, 0, sink));
    writers.push(new TurnWriter(log, s.id));
  }
  await new Promise((resolve) => setTimeout(resolve, 20));
  const start = seen.events;
  const gc = watchGc();
  const cpu0 = process.cpuUsage();
  const emitted = await emitTokens(writers, tokens, TICKS_PER_SETTLE);
  await log.flush();
  await new Promise((resolve) => setImmediate(resolve));
  const cpu = process.cpuUsage(cpu0);
  await new Promise((resolve) => setTimeout(resolve, 20));
  const { count: gcs, ms: gcMs } = gc();
  for (const sub of subs) sub.close();
  await log.close();
  await store.close();
  const delivered = seen.events - start;
  if (delivered < emitted) throw new Error(`delivered ${delivered} of ${emitted}`);
  return { cpuUs: (cpu.user + cpu.system) / emitted, gcs: (gcs * 10_000) / emitted, gcMs: (gcMs * 10_000) / emitted };
}

await round(20_000); // warm-up
const rows: Row[] = [];
for (let i = 0; i < 3; i++) rows.push(await round(TOKENS));
const med = (k: keyof Row): string => rows.map((r) => r[k]).sort((a, b) => a - b)[1]?.toFixed(2) ?? '-';
const t = performance.now();
console.log(
  `live-path ${ROOT} ${SESSIONS} sessions ${TOKENS} tokens x3: cpu ${med('cpuUs')} us/token ` +
    `(rounds ${rows.map((r) => r.cpuUs.toFixed(2)).join(' ')}), gc ${med('gcs')} per 10k tokens, ${med('gcMs')} ms per 10k (${(t / 1000).toFixed(0)} s)`,
);
