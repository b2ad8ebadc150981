/**
 * messaging-watch: what the SQLite messaging watcher (`SqliteMessaging.watch`, one per Tower process,
 * started by the messaging runtime) costs, idle and while the store commits events, and how fast it
 * delivers a message another connection inserted (the cross-process case; here a worker thread with a
 * better-sqlite3 connection of its own, inserting a thread message every 20 ms) and one this store
 * posted. Variants alternate round by round in one process, on fresh databases: the watcher on or off.
 * Per phase it reports the main thread's busy time (event-loop utilisation, ms per s), the process's
 * CPU (all threads, ms per s), the watcher's checks per s, and delivery p50 / p99 / max.
 *
 * Phases: `idle` (no commits), `inline` (a batch of 20 one-token events over 20 sessions every 2 ms,
 * placed on the main connection, and an own post every 20 ms), `thread` (the same, every batch on the
 * writer thread: `minBatch: 1`, so each commit is another connection's and moves data_version); `+ext`:
 * with the external writer.
 *
 *   npx tsx bench/messaging-watch.ts [--root DIR] [--quick]   (DIR: the tree whose src/ is measured)
 */
import fs, { mkdtempSync, rmSync } from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import { pick } from './lib/cli.js';
import { Histogram, median } from './lib/hist.js';
import { sig } from './lib/report.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const arg = (name: string, fallback: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
};
const root = path.resolve(arg('root', ROOT));
const load = async <T>(file: string): Promise<T> => (await import(pathToFileURL(path.join(root, 'src', file)).href)) as T;

type StoreModule = typeof import('../src/store/sqlite/store.js');
type MessagingModule = typeof import('../src/store/sqlite/messaging.js');
type Store = import('../src/store/sqlite/store.js').SqliteStore;
type Change = import('../src/protocol/messaging.js').MessagingChange;

/** File events the watcher's `fs.watch` delivered, and the time spent in its listener (ms). */
let fileEvents = 0;
let fileMs = 0;
const realWatch = fs.watch;
fs.watch = ((dir: string, opts: fs.WatchOptions, listener: fs.WatchListener<string>) =>
  realWatch(dir, opts, (event, name) => {
    fileEvents++;
    const t = performance.now();
    listener(event, name);
    fileMs += performance.now() - t;
  })) as typeof fs.watch;
syncBuiltinESMExports();

const { SqliteStore } = await load<StoreModule>('store/sqlite/store.ts');
const { SqliteMessaging } = await load<MessagingModule>('store/sqlite/messaging.ts');
const { testSessionRecord } = await load<typeof import('../src/store/testing/fixtures.js')>('store/testing/fixtures.ts');

const PHASE_MS = pick(1500, 2500);
const ROUNDS = pick(1, 3);
const SESSIONS = 20;
const EVERY_MS = 2;

/** Checks the watcher ran (its private `check`, wrapped once for the whole process). */
let checks = 0;
let checkMs = 0;
const proto = SqliteMessaging.prototype as unknown as { check: (own: boolean) => unknown };
const realCheck = proto.check;
proto.check = function (this: unknown, own: boolean) {
  checks++;
  const t = performance.now();
  const out = realCheck.call(this, own);
  checkMs += performance.now() - t;
  return out;
};

const EXTERNAL = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.path);
db.pragma('busy_timeout = 5000');
const insert = db.prepare("INSERT INTO thread_messages (thread_id, from_type, from_id, kind, content) VALUES ('ext', 'agent', 'x', 'status', 'hi')");
const seqOf = db.prepare('SELECT message_seq FROM thread_messages WHERE pos = ?').pluck();
const timer = setInterval(() => {
  const t = performance.timeOrigin + performance.now();
  const info = insert.run();
  parentPort.postMessage({ seq: seqOf.get(info.lastInsertRowid), t });
}, 20);
parentPort.on('message', () => { clearInterval(timer); db.close(); parentPort.close(); });
`;

interface PhaseResult {
  eluMsPerS: number;
  cpuMsPerS: number;
  checksPerS: number;
  /** Time in the watcher's checks and in its file-event listener, ms per s; file events per s. */
  checkMsPerS: number;
  fileMsPerS: number;
  eventsPerS: number;
  ext: Histogram;
  own: Histogram;
}

type Kind = 'idle' | 'inline' | 'thread';

async function phase(store: Store, dbPath: string, kind: Kind, external: boolean, watched: boolean): Promise<PhaseResult> {
  const ext = new Histogram();
  const own = new Histogram();
  const inserted = new Map<number, number>();
  const posted = new Map<number, number>();
  const at = (): number => performance.timeOrigin + performance.now();
  const stop = watched
    ? store.messaging.watch((changes: Change[]) => {
        const now = at();
        for (const c of changes) {
          if (c.kind !== 'thread_message') continue;
          const table = c.thread_id === 'ext' ? inserted : posted;
          const t = table.get(c.message_seq);
          if (t !== undefined) (c.thread_id === 'ext' ? ext : own).record(now - t);
          table.delete(c.message_seq);
        }
      })
    : () => undefined;
  const driver = (await import('node:module')).createRequire(pathToFileURL(path.join(root, 'package.json')).href).resolve('better-sqlite3');
  const worker = external ? new Worker(EXTERNAL, { eval: true, workerData: { path: dbPath, driver } }) : undefined;
  worker?.on('message', (m: { seq: number; t: number }) => inserted.set(m.seq, m.t));
  let n = 0;
  const pending = new Set<Promise<unknown>>();
  const commits = kind === 'idle'
    ? undefined
    : setInterval(() => {
        const entries = Array.from({ length: SESSIONS }, (_, i) => ({
          session_id: `s${i}`,
          type: 'agent_choice' as const,
          data: { content: 'tok ', type: 'text' },
          timestamp: new Date().toISOString(),
        }));
        const done: Promise<unknown> = store.commit(entries).then(
          () => pending.delete(done),
          () => pending.delete(done),
        );
        pending.add(done);
        // One own post every 10th batch (every 20 ms), timed to its delivery.
        if (++n % 10 === 0) {
          const t = at();
          const done: Promise<unknown> = store.messaging
            .postThreadMessage('own', { from_type: 'human', from_id: 'h', to_type: 'broadcast', to_id: '', kind: 'status', content: 'p' })
            .then((r) => posted.set(r.message.message_seq, t))
            .finally(() => pending.delete(done));
          pending.add(done);
        }
      }, EVERY_MS);
  const elu0 = performance.eventLoopUtilization();
  const cpu0 = process.cpuUsage();
  const checks0 = checks;
  const checkMs0 = checkMs;
  const events0 = fileEvents;
  const fileMs0 = fileMs;
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, PHASE_MS));
  const span = performance.now() - t0;
  const elu = performance.eventLoopUtilization(elu0);
  const cpu = process.cpuUsage(cpu0);
  const checked = checks - checks0;
  if (commits) clearInterval(commits);
  await Promise.all([...pending]);
  if (worker) {
    worker.postMessage('stop');
    await new Promise((r) => worker.once('exit', r));
  }
  stop();
  return {
    eluMsPerS: (elu.active / span) * 1000,
    cpuMsPerS: ((cpu.user + cpu.system) / 1000 / span) * 1000,
    checksPerS: (checked / span) * 1000,
    checkMsPerS: ((checkMs - checkMs0) / span) * 1000,
    fileMsPerS: ((fileMs - fileMs0) / span) * 1000,
    eventsPerS: ((fileEvents - events0) / span) * 1000,
    ext,
    own,
  };
}

/** Phases: what this store commits, and whether another connection inserts a message every 20 ms. */
const phases: Array<[Kind, boolean]> = [['idle', false], ['idle', true], ['inline', false], ['inline', true], ['thread', true]];
const rows = new Map<string, PhaseResult[]>();
for (let round = 0; round < ROUNDS; round++) {
  for (const watched of round % 2 === 0 ? [true, false] : [false, true]) {
    for (const [kind, external] of phases) {
      const dir = mkdtempSync(path.join(os.tmpdir(), 'tower-bench-mwatch-'));
      const dbPath = path.join(dir, 'tower.db');
      const store = new SqliteStore(dbPath, { writerThread: { prestart: 'open', ...(kind === 'thread' ? { minBatch: 1 } : {}) } });
      await store.writerThread?.ready();
      for (let i = 0; i < SESSIONS; i++) await store.createSession(testSessionRecord(`s${i}`));
      await store.messaging.createThread({ id: 'ext', title: '' });
      await store.messaging.createThread({ id: 'own', title: '' });
      const r = await phase(store, dbPath, kind, external, watched);
      await store.close();
      rmSync(dir, { recursive: true, force: true });
      const key = `${kind}${external ? '+ext' : ''} watch=${watched ? 'on' : 'off'}`;
      rows.set(key, [...(rows.get(key) ?? []), r]);
    }
  }
}

const med = (xs: number[]): number => sig(median(xs));
for (const [key, rs] of rows) {
  const lat = (pick: (r: PhaseResult) => Histogram): string => {
    const hs = rs.map(pick).filter((h) => h.n > 0);
    if (hs.length === 0) return '-';
    return `${med(hs.map((h) => h.percentile(50)))} / ${med(hs.map((h) => h.percentile(99)))} / ${med(hs.map((h) => h.max))}`;
  };
  process.stdout.write(
    `messaging-watch ${path.basename(root)} ${key}: loop ${med(rs.map((r) => r.eluMsPerS))} ms/s, cpu ${med(rs.map((r) => r.cpuMsPerS))} ms/s, ` +
      `checks ${med(rs.map((r) => r.checksPerS))}/s (${med(rs.map((r) => r.checkMsPerS))} ms/s), file events ${med(rs.map((r) => r.eventsPerS))}/s (${med(rs.map((r) => r.fileMsPerS))} ms/s), external p50/p99/max ${lat((r) => r.ext)} ms, own ${lat((r) => r.own)} ms\n`,
  );
}
