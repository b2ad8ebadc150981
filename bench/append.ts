/**
 * append: events per second through EventLog.append (group commit, durable, published on the bus) vs a
 * bare better-sqlite3 loop inserting the same rows into the same schema, same pragmas, in transactions
 * of the same size. In-process by nature (it measures an API, no sockets); run in its own process by
 * bench/run.ts. Rounds alternate Tower/bare on fresh databases; the median of each is reported.
 *
 * - concurrent (the target): 100 appends issued in one tick, awaited, repeat: one 100-event transaction
 *   per tick, as when many sessions stream at once. Bare: 100 rows per transaction.
 * - serial: each append awaited before the next: one transaction per event. Bare: one row per transaction.
 * - serial, async caller: the same, each append awaited through an async helper that returns its promise
 *   (as the session code awaits appends): its next append comes a few microtasks after the commit settled.
 *
 * Both sides checkpoint the WAL the same way: Tower's store turns SQLite's auto-checkpoint off and runs
 * PASSIVE checkpoints in a worker thread every 200 ms after writes (src/store/sqlite/checkpointer.ts); the
 * bare loop runs that same WalCheckpointer on its file, with auto-checkpoint off too. (With SQLite's
 * auto-checkpoint left on, the bare loop copied the WAL into the database and fsynced it inside its own
 * commits every 1,000 pages, and its serial figure swung 2-3x between runs.) So that the checkpointer's
 * timer can fire, the bare loop yields to the event loop once a millisecond (a few microseconds per
 * millisecond of work), which also keeps it from blocking the loop for the whole round. One difference:
 * Tower's store bounds its WAL under a writer that never pauses (src/store/sqlite/wal-bound.ts: commits
 * held for a catch-up checkpoint once the WAL passes 4096 frames), the bare loop does not (its WAL grows
 * for the whole round). The notes give both WALs' size at the end of a round.
 *
 * `loop_max_ms` is this process's event-loop delay during Tower's timed rounds only (the bare rounds
 * run in the same process; theirs is in the notes).
 */
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import Database from 'better-sqlite3';
import { MemoryBus } from '../src/bus/index.js';
import { EventLog } from '../src/core/event-log/index.js';
import { openSqliteStore } from '../src/store/sqlite/index.js';
import { WalCheckpointer } from '../src/store/sqlite/checkpointer.js';
import { runMigrations } from '../src/store/sqlite/migrations.js';
import type { SessionRecord } from '../src/store/types.js';
import { pick } from './lib/cli.js';
import { median } from './lib/hist.js';
import { describeStalls, startLoopMonitor, type Stall } from './lib/loop-monitor.js';
import { emitBench, human, progress, sig, summary } from './lib/report.js';

const ROUNDS = pick(2, 5);
const CONCURRENT_EVENTS = pick(50_000, 150_000);
const SERIAL_EVENTS = pick(5_000, 20_000);
const BATCH = 100;
const SESSION_ID = '00000000-0000-4000-8000-000000000001';
const CONTENT = 'x'.repeat(100);
/** The bare loop yields to the event loop after this much work (ms), so timers (the checkpointer's) run. */
const BARE_SLICE_MS = 1;

/** The event-loop watch of this process; each round reads (and resets) it around its timed part only. */
const loopDelay = startLoopMonitor();
type Side = 'tower' | 'bare';
const loop: Record<Side, { maxMs: number; stalls: Stall[] }> = { tower: { maxMs: 0, stalls: [] }, bare: { maxMs: 0, stalls: [] } };
/**
 * Starts watching a timed part; the returned function records its loop delay for `side`. One turn of
 * the loop first, so a delay from before (start-up, the other side's close) is not counted here.
 */
async function watchLoop(side: Side): Promise<() => void> {
  await new Promise((resolve) => setTimeout(resolve, 15));
  loopDelay();
  return () => {
    const d = loopDelay();
    loop[side].maxMs = Math.max(loop[side].maxMs, d.maxMs);
    loop[side].stalls.push(...d.stalls);
  };
}

/**
 * The WAL file's size at the end of each timed round (before the close's final checkpoint), by round
 * label: under a writer that never pauses the WAL only starts over where the store bounds it.
 */
const walEnd: Record<string, { tower: number[]; bare: number[] }> = {};
let roundLabel = '';
const walBytes = (file: string): number => (existsSync(`${file}-wal`) ? statSync(`${file}-wal`).size : 0);
function recordWal(side: Side, file: string): void {
  if (roundLabel) (walEnd[roundLabel] ??= { tower: [], bare: [] })[side].push(walBytes(file));
}
const walMB = (label: string, side: Side): string => String(sig(median(walEnd[label]?.[side] ?? [0]) / 1e6));

function session(): SessionRecord {
  const now = new Date().toISOString();
  return {
    id: SESSION_ID,
    title: '',
    created_at: now,
    updated_at: now,
    working_dir: os.tmpdir(),
    model: 'fake/gpt-test',
    permissions: { allow: [], ask: [], deny: [], policy: 'balanced', auto_approve: false },
    starred: false,
    input_tokens: 0,
    output_tokens: 0,
    cost: 0,
    message_count: 0,
    last_event_seq: 0,
  };
}

async function withDir<T>(work: (file: string) => Promise<T> | T): Promise<T> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tower-bench-append-'));
  try {
    return await work(path.join(dir, 'tower.db'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** EventLog over the real SQLite store and the in-memory bus (one listener counting what is published). */
function towerRound(count: number, batch: number, viaHelper = false): Promise<number> {
  return withDir(async (file) => {
    const store = openSqliteStore(file);
    // The writer thread starts as the store opens; a server's store opened long before its first
    // appends, so its start-up is not timed here (bench/writer-startup.ts measures it).
    await store.writerThread?.ready();
    const bus = new MemoryBus();
    const log = new EventLog(store, bus);
    await store.createSession(session());
    let published = 0;
    bus.subscribe(SESSION_ID, () => published++);
    const watched = await watchLoop('tower');
    const append = () => log.append(SESSION_ID, { type: 'agent_choice', data: { content: CONTENT } });
    const appendVia = async () => append();
    const t0 = performance.now();
    if (viaHelper) for (let done = 0; done < count; done++) await appendVia();
    else
      for (let done = 0; done < count; done += batch) {
        let last;
        for (let i = 0; i < batch; i++) last = append();
        await last;
      }
    const ms = performance.now() - t0;
    watched();
    recordWal('tower', file);
    await log.close();
    await store.close();
    if (published !== count) throw new Error(`published ${published} of ${count}`);
    return (count / ms) * 1000;
  });
}

/**
 * The bare loop: same schema (Tower's migrations), same pragmas, the same row values built per event,
 * the same checkpoint policy (Tower's checkpointer thread; SQLite's auto-checkpoint off).
 */
function bareRound(count: number, batch: number): Promise<number> {
  return withDir(async (file) => {
    const db = new Database(file);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    runMigrations(db);
    db.pragma('wal_autocheckpoint = 0');
    const changes = db.prepare<[], number>('SELECT total_changes()').pluck();
    const checkpointer = new WalCheckpointer(file, {
      changes: () => changes.get() ?? 0,
      onFailure: (err) => {
        throw err;
      },
    });
    const s = session();
    db.prepare(
      `INSERT INTO sessions (id, title, created_at, updated_at, working_dir, model, permissions)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
    ).run(s.id, s.title, s.created_at, s.updated_at, s.working_dir, s.model, JSON.stringify(s.permissions));
    const insert = db.prepare<[string, number, string, string, string]>(
      'INSERT INTO events (session_id, seq, type, data, created_at) VALUES (?, ?, ?, ?, ?)',
    );
    let seq = 0;
    const tx = db.transaction((n: number) => {
      for (let i = 0; i < n; i++) {
        insert.run(SESSION_ID, ++seq, 'agent_choice', JSON.stringify({ content: CONTENT }), new Date().toISOString());
      }
    });
    const watched = await watchLoop('bare');
    const t0 = performance.now();
    let sliceEnd = t0 + BARE_SLICE_MS;
    for (let done = 0; done < count; done += batch) {
      tx.immediate(batch);
      if (performance.now() >= sliceEnd) {
        await yieldToLoop();
        sliceEnd = performance.now() + BARE_SLICE_MS;
      }
    }
    const ms = performance.now() - t0;
    watched();
    recordWal('bare', file);
    await checkpointer.close();
    db.close();
    return (count / ms) * 1000;
  });
}

async function compare(label: string, count: number, batch: number, viaHelper = false): Promise<{ tower: number; bare: number }> {
  const tower: number[] = [];
  const bare: number[] = [];
  // Warm both paths (JIT, page cache) before measuring.
  await towerRound(Math.min(count, 5_000), batch, viaHelper);
  await bareRound(Math.min(count, 5_000), batch);
  roundLabel = label;
  for (let r = 0; r < ROUNDS; r++) {
    tower.push(await towerRound(count, batch, viaHelper));
    bare.push(await bareRound(count, batch));
    progress(`append ${label} round ${r + 1}: tower ${human(tower.at(-1)!)}/s, bare ${human(bare.at(-1)!)}/s`);
  }
  roundLabel = '';
  return { tower: median(tower), bare: median(bare) };
}

const concurrent = await compare('concurrent', CONCURRENT_EVENTS, BATCH);
const serial = await compare('serial', SERIAL_EVENTS, 1);
const serialAsync = await compare('serial, async caller', SERIAL_EVENTS, 1, true);
const ratio = concurrent.tower / concurrent.bare;
summary(`append (median of ${ROUNDS} alternating rounds)`, [
  [`concurrent (${BATCH}/tx): tower events/s`, human(concurrent.tower)],
  [`concurrent (${BATCH}/tx): bare events/s`, human(concurrent.bare)],
  ['concurrent ratio', sig(ratio)],
  ['serial (1/tx): tower events/s', human(serial.tower)],
  ['serial (1/tx): bare events/s', human(serial.bare)],
  ['serial ratio', sig(serial.tower / serial.bare)],
  ['serial, async caller: tower events/s', human(serialAsync.tower)],
  ['serial, async caller: bare events/s', human(serialAsync.bare)],
  ['serial, async caller ratio', sig(serialAsync.tower / serialAsync.bare)],
  ['WAL at the end of a serial round (MB, median): tower / bare', `${walMB('serial', 'tower')} / ${walMB('serial', 'bare')}`],
  ['WAL at the end of a concurrent round (MB, median): tower / bare', `${walMB('concurrent', 'tower')} / ${walMB('concurrent', 'bare')}`],
  ['event loop max (ms) in timed rounds: tower / bare', `${sig(loop.tower.maxMs)} / ${sig(loop.bare.maxMs)}`],
  ['tower stalls (late, this process\'s CPU meanwhile)', describeStalls(loop.tower.stalls)],
  ['bare stalls', describeStalls(loop.bare.stalls)],
  ['load average (1 min)', sig(os.loadavg()[0]!)],
]);
emitBench({
  loop_max_ms: loop.tower.maxMs,
  name: 'append',
  value: concurrent.tower,
  unit: 'events/s',
  baseline: concurrent.bare,
  ratio,
  target: 'ratio >= 0.6',
  met: ratio >= 0.6,
  notes:
    `${BATCH} appends per tick (one group commit) vs ${BATCH} rows per bare transaction; serial (each append awaited): ` +
    `${human(serial.tower)}/s vs ${human(serial.bare)}/s, ratio ${sig(serial.tower / serial.bare)}; serial through an async caller ` +
    `${human(serialAsync.tower)}/s vs ${human(serialAsync.bare)}/s, ratio ${sig(serialAsync.tower / serialAsync.bare)}; both checkpoint in a ` +
    `thread every 200 ms (auto-checkpoint off; the bare loop's WAL is unbounded); WAL at the end of a serial round ` +
    `${walMB('serial', 'tower')} MB Tower, ${walMB('serial', 'bare')} MB bare (concurrent ${walMB('concurrent', 'tower')} / ` +
    `${walMB('concurrent', 'bare')} MB); loop max in timed rounds ${sig(loop.tower.maxMs)} ms Tower ` +
    `(${describeStalls(loop.tower.stalls)}), ${sig(loop.bare.maxMs)} ms bare; load avg ${sig(os.loadavg()[0]!)}`,
});
