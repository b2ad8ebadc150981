/**
 * writer-commit-cost: what one small SQLite group commit costs, by size, inline (the store's own
 * connection, on the event loop) and on the writer thread. At 500 sessions most commits hold a few
 * to a few hundred events, each of a different session (one delta per session per batch), so the
 * "wide" shape (n sessions, one event each) is the sessions bench's; "narrow" (one session, n events)
 * is a burst of one turn.
 *
 * Per commit: main-thread busy time (event-loop utilisation over the round / commits: for inline
 * commits that is the commit itself, for thread commits the hand-over, the reply and building the
 * events), wall time (a commit awaited before the next), the thread's own commit time, and the WAL
 * frames (4 KB pages) each commit appends, read from a second connection's PASSIVE checkpoint
 * (the store's checkpointer never runs during a round).
 *
 *   npx tsx bench/writer-commit-cost.ts      (BENCH_COMMITS per size, default 400)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import Database from 'better-sqlite3';
import { SqliteStore } from '../src/store/sqlite/store.js';
import { testEntry, testSessionRecord } from '../src/store/testing/fixtures.js';
import type { CommitEntry } from '../src/store/types.js';
import { emitBench, sig } from './lib/report.js';

const COMMITS = Number(process.env.BENCH_COMMITS ?? 400);
const SIZES = [1, 2, 4, 16, 64];
const SESSIONS = Number(process.env.BENCH_SESSIONS ?? 500);
/** Events each session holds before the round: its rows span several b-tree pages, as in a live store. */
const PREFILL = 200;

interface Row {
  place: 'inline' | 'thread';
  shape: 'wide' | 'narrow';
  size: number;
  mainUs: number;
  wallUs: number;
  threadUs: number;
  frames: number;
}

async function round(place: Row['place'], shape: Row['shape'], size: number): Promise<Row> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tower-commit-cost-'));
  const file = path.join(dir, 'tower.db');
  // The checkpointer's timer never fires during the round; its thread is what turns auto-checkpoint off.
  const store = new SqliteStore(file, {
    checkpointer: { intervalMs: 3_600_000 },
    writerThread: place === 'thread' ? { minBatch: 1 } : false,
  });
  const side = new Database(file);
  try {
    const seqs = new Map<string, number>();
    const next = (id: string): CommitEntry => {
      const n = (seqs.get(id) ?? 0) + 1;
      seqs.set(id, n);
      return testEntry(id, n, { data: { content: `token ${n} `.padEnd(24, '.') } });
    };
    const ids = Array.from({ length: SESSIONS }, (_, i) => `s${i}`);
    for (const id of ids) await store.createSession(testSessionRecord(id));
    for (const id of ids) await store.commit(Array.from({ length: PREFILL }, () => next(id)));
    await store.writerThread?.ready();
    side.pragma('wal_checkpoint(TRUNCATE)');
    let cursor = 0;
    const batch = (): CommitEntry[] => {
      if (shape === 'narrow') return Array.from({ length: size }, () => next(ids[cursor % SESSIONS] as string));
      return Array.from({ length: size }, () => next(ids[cursor++ % SESSIONS] as string));
    };
    const batches = Array.from({ length: COMMITS }, () => {
      const b = batch();
      if (shape === 'narrow') cursor++;
      return b;
    });
    const threadMs0 = store.writerThread?.busyMs ?? 0;
    const elu0 = performance.eventLoopUtilization();
    const t0 = performance.now();
    for (const b of batches) await store.commit(b);
    const wall = performance.now() - t0;
    const elu = performance.eventLoopUtilization(elu0);
    const threadMs = (store.writerThread?.busyMs ?? 0) - threadMs0;
    const [wal] = side.pragma('wal_checkpoint(PASSIVE)') as Array<{ busy: number; log: number }>;
    const frames = wal?.log ?? 0;
    return {
      place,
      shape,
      size,
      mainUs: (elu.active / COMMITS) * 1000,
      wallUs: (wall / COMMITS) * 1000,
      threadUs: (threadMs / COMMITS) * 1000,
      frames: frames / COMMITS,
    };
  } finally {
    side.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const rows: Row[] = [];
for (const shape of ['wide', 'narrow'] as const) {
  for (const size of SIZES) {
    for (const place of ['inline', 'thread'] as const) rows.push(await round(place, shape, size));
  }
}
console.log('| shape | events | place | main busy us/commit | wall us/commit | thread us/commit | WAL frames/commit |');
console.log('|---|---|---|---|---|---|---|');
for (const r of rows) {
  console.log(`| ${r.shape} | ${r.size} | ${r.place} | ${sig(r.mainUs)} | ${sig(r.wallUs)} | ${sig(r.threadUs)} | ${sig(r.frames)} |`);
}
const one = rows.find((r) => r.shape === 'wide' && r.size === 1 && r.place === 'inline') as Row;
const sixtyFour = rows.find((r) => r.shape === 'wide' && r.size === 64 && r.place === 'inline') as Row;
emitBench({
  name: 'writer-commit-cost',
  value: one.mainUs,
  unit: 'us main busy per 1-event inline commit',
  baseline: sixtyFour.mainUs / 64,
  ratio: one.mainUs / (sixtyFour.mainUs / 64),
  target: 'report',
  met: true,
  notes: rows.map((r) => `${r.shape} ${r.size} ${r.place}: main ${sig(r.mainUs)} us, frames ${sig(r.frames)}`).join('; ') + `; load ${os.loadavg()[0]?.toFixed(2)}`,
});
