import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { TowerError } from '../../protocol/errors.js';
import { describeError } from './module-worker.js';
import { WalBoundPolicy, type WalStats } from './wal-bound.js';

/**
 * SQLite's WAL checkpoints, off the event loop. With `wal_autocheckpoint` on, the commit that pushes the
 * WAL past 1000 pages also copies the WAL into the database file and fsyncs both, inside the writer's
 * COMMIT, synchronously on the event loop: the longest stalls of a busy server. The writer connection
 * turns it off and this worker thread, on its own connection to the same file, checkpoints instead:
 * PASSIVE (never waits for, nor blocks, the writer or readers) on the first tick after a write (seen
 * as a moved `total_changes()` of the writer connection, one cheap query per tick), and
 * TRUNCATE on the first tick with no write since (so an idle database's WAL shrinks to nothing). After
 * a PASSIVE checkpoint has copied every frame, the writer's next transaction restarts the WAL from its
 * start, so under sustained writes the file stays as large as one interval's writes.
 *
 * A writer that never pauses would keep the WAL from ever restarting: with `bound`, a timer checkpoint
 * that finds the WAL past `restartFrames` is followed by a catch-up one while the store holds commits
 * (wal-bound.ts). Each reply carries the WAL file's size and checkpoint sequence (its header, read on
 * the thread), which say whether the WAL started over and feed `stats`.
 *
 * Durability is the writer's settings (WAL, `synchronous = NORMAL`): checkpoints only move committed
 * frames into the database file. If the worker fails, `onFailure` runs (the store turns SQLite's own
 * auto-checkpoint back on). The worker is plain CommonJS source (`eval`), requiring better-sqlite3 by
 * its resolved path, so it runs the same from source (tsx), under the test runner and from the build.
 */

const driverPath = createRequire(import.meta.url).resolve('better-sqlite3');

// `require` is absent when the process runs with `--input-type=module` (workers inherit it and then
// read eval'd source as ESM): the source loads its modules through createRequire then.
const WORKER_SOURCE = `
const load = typeof require === 'function' ? require : process.getBuiltinModule('node:module').createRequire(process.cwd() + '/');
const { parentPort, workerData } = load('node:worker_threads');
const Database = load(workerData.driverPath);
const fs = load('node:fs');
const db = new Database(workerData.path, { fileMustExist: true });
const walPath = workerData.path + '-wal';
const head = Buffer.alloc(16);
// The WAL file's size, and its header's checkpoint sequence (bumped at every restart of the log).
function walFile() {
  let fd;
  try { fd = fs.openSync(walPath, 'r'); } catch { return { bytes: 0, seq: -1 }; }
  try {
    const bytes = fs.fstatSync(fd).size;
    return { bytes, seq: fs.readSync(fd, head, 0, 16, 0) === 16 ? head.readUInt32BE(12) : -1 };
  } finally { fs.closeSync(fd); }
}
// A TRUNCATE that would have to wait for the writer gives up at once (busy) and is retried next tick.
db.pragma('busy_timeout = 0');
parentPort.on('message', (msg) => {
  if (msg.close) {
    db.close();
    parentPort.close();
    return;
  }
  try {
    const [row] = db.pragma('wal_checkpoint(' + msg.mode + ')');
    const wal = walFile();
    parentPort.postMessage({ id: msg.id, busy: row.busy, log: row.log, checkpointed: row.checkpointed, walBytes: wal.bytes, walSeq: wal.seq });
  } catch (err) {
    parentPort.postMessage({ id: msg.id, error: String(err && err.message || err) });
  }
});
parentPort.postMessage({ ready: true });
`;

export type CheckpointMode = 'PASSIVE' | 'TRUNCATE';

export interface CheckpointResult {
  mode: CheckpointMode;
  /** The checkpoint could not finish (a TRUNCATE that met a writer or a reader); retried later. */
  busy: boolean;
  /** Frames in the WAL, and how many of them are now in the database file. */
  logFrames: number;
  checkpointedFrames: number;
  /** The WAL file's size in bytes after the checkpoint, and its header's checkpoint sequence (-1: none). */
  walBytes: number;
  walSeq: number;
}

/** The WAL bound under sustained writes (wal-bound.ts); the store supplies the hold. */
export interface WalBound {
  /** A timer checkpoint finding at least this many frames in the WAL leads to a catch-up. */
  restartFrames: number;
  /**
   * Runs `checkpoint` with commits held; its result, or undefined if the hold ended before it did, or
   * false if no hold could start (another one is on; `checkpoint` not called).
   */
  hold: (checkpoint: () => Promise<CheckpointResult>) => Promise<CheckpointResult | undefined | false>;
}

export interface CheckpointerOptions {
  /** How often the timer looks for work. Default 200 ms. */
  intervalMs?: number;
  /** The writer connection's `total_changes()`: a write happened when it moved since the last tick. */
  changes: () => number;
  /** The worker could not start or stopped unexpectedly. */
  onFailure: (err: Error) => void;
  /** Bounds the WAL under writes that never pause; absent: PASSIVE after writes only. */
  bound?: WalBound;
  /**
   * Runs the idle TRUNCATE (which holds the write lock while it copies and truncates): the store keeps
   * its own writes off the lock meanwhile, so none waits in the busy handler on the event loop. Its
   * result, or undefined if the store stopped waiting first (the checkpoint then still runs).
   */
  idle?: (checkpoint: () => Promise<CheckpointResult>) => Promise<CheckpointResult | undefined>;
}

interface Reply {
  id?: number;
  ready?: boolean;
  busy?: number;
  log?: number;
  checkpointed?: number;
  walBytes?: number;
  walSeq?: number;
  error?: string;
}

interface Waiter {
  mode: CheckpointMode;
  resolve: (r: CheckpointResult) => void;
  reject: (err: Error) => void;
}

export class WalCheckpointer {
  private readonly worker: Worker;
  private readonly timer: NodeJS.Timeout;
  private readonly waiters = new Map<number, Waiter>();
  private readonly listeners = new Set<(r: CheckpointResult) => void>();
  private nextId = 1;
  private written = false;
  private lastChanges = -1;
  /** The WAL was truncated and nothing was written since: the idle tick has nothing to do. */
  private clean = true;
  private inFlight = false;
  private failed = false;
  private closing = false;
  private readonly exited: Promise<void>;
  private readonly policy: WalBoundPolicy;

  constructor(path: string, private readonly opts: CheckpointerOptions) {
    this.policy = new WalBoundPolicy(opts.bound?.restartFrames ?? Number.POSITIVE_INFINITY);
    this.worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { path, driverPath } });
    this.worker.on('message', (reply: Reply) => this.onReply(reply));
    // A driver error reaches this thread as a plain clone (a SqliteError keeps only its `code`).
    this.worker.on('error', (err: unknown) => this.fail(describeError(err)));
    this.exited = new Promise((resolve) => {
      this.worker.once('exit', (code) => {
        if (!this.closing) this.fail(new Error(`checkpointer exited with code ${code}`));
        resolve();
      });
    });
    // Unreferenced only now: a Worker's first 'message' listener references its port again, so an unref()
    // before the listeners would leave a never-closed store holding the process open.
    this.worker.unref();
    this.timer = setInterval(() => this.tick(), Math.max(1, opts.intervalMs ?? 200));
    this.timer.unref();
  }

  /** Listens to every finished checkpoint (for tests and metrics); returns the unsubscribe. */
  onCheckpoint(listener: (r: CheckpointResult) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Runs one checkpoint now, whatever the timer is doing. */
  checkpoint(mode: CheckpointMode): Promise<CheckpointResult> {
    if (this.failed || this.closing) return Promise.reject(new TowerError('internal', 'checkpointer is not running'));
    const id = this.nextId++;
    // Referenced while a checkpoint is in flight (as the writer thread is while a batch is), so that a
    // caller awaiting one is answered; idle, the thread never keeps the process alive.
    if (this.waiters.size === 0) this.worker.ref();
    return new Promise<CheckpointResult>((resolve, reject) => {
      this.waiters.set(id, { mode, resolve, reject });
      this.worker.postMessage({ id, mode });
    });
  }

  /** The WAL's size at the last checkpoint, and what the bound did (holds, restarts, readers in the way). */
  get stats(): Readonly<WalStats> {
    return this.policy.stats;
  }

  /** The thread has not failed nor been closed: it can take a checkpoint. */
  get running(): boolean {
    return !this.failed && !this.closing;
  }

  /** Stops the timer and the worker (the store checkpoints through it first: see `SqliteStore.close`). */
  async close(): Promise<void> {
    if (this.closing) return this.exited;
    this.closing = true;
    clearInterval(this.timer);
    // Referenced again, so that a process awaiting close() stays alive until the thread has exited.
    this.worker.ref();
    if (!this.failed) this.worker.postMessage({ close: true });
    await this.exited;
    this.rejectAll(new TowerError('internal', 'checkpointer closed'));
  }

  private tick(): void {
    if (this.inFlight || this.failed || this.closing) return;
    const changes = this.opts.changes();
    if (changes !== this.lastChanges) {
      this.lastChanges = changes;
      this.written = true;
      this.clean = false;
    }
    let mode: CheckpointMode;
    if (this.written) mode = 'PASSIVE';
    else if (!this.clean) mode = 'TRUNCATE';
    else return;
    this.written = false;
    this.inFlight = true;
    if (mode === 'TRUNCATE' && this.opts.idle) {
      this.idleTruncate(this.opts.idle);
      return;
    }
    this.checkpoint(mode).then((r) => this.finished(r), () => (this.inFlight = false));
  }

  /** The idle TRUNCATE through the store's `idle`; the timer waits for the checkpoint itself (in flight). */
  private idleTruncate(idle: NonNullable<CheckpointerOptions['idle']>): void {
    let checkpoint: Promise<CheckpointResult> | undefined;
    idle(() => (checkpoint = this.checkpoint('TRUNCATE'))).then(
      (r) => {
        if (r) return this.finished(r);
        if (!checkpoint) return void (this.inFlight = false);
        checkpoint.then((late) => this.finished(late), () => (this.inFlight = false));
      },
      () => (this.inFlight = false),
    );
  }

  /** A timer checkpoint's answer: whether the WAL is clean, and whether the bound catches up now. */
  private finished(r: CheckpointResult): void {
    // A TRUNCATE that met a writer leaves the WAL as it was: try again next idle tick.
    if (r.mode === 'TRUNCATE' && !r.busy && !this.written) this.clean = true;
    const bound = this.opts.bound;
    if (bound && this.policy.next(r, this.lastChanges) && this.running) this.catchUp(bound);
    else this.inFlight = false;
  }

  /** The catch-up checkpoint, under the store's hold; the timer waits for it (it stays in flight). */
  private catchUp(bound: WalBound): void {
    let checkpoint: Promise<CheckpointResult> | undefined;
    const run = (): Promise<CheckpointResult> => (checkpoint = this.checkpoint('PASSIVE'));
    bound.hold(run).then(
      (r) => {
        // No hold could be taken (another was on: a drain for a write, main-writes.ts): no chance was
        // taken, so none is judged; the next timer checkpoint decides again.
        if (r === false) return void (this.inFlight = false);
        // Writes the hold let through before this line count as before it: the verdict waits for one more.
        this.policy.caughtUp(r, this.opts.changes());
        // The hold's own quiet is not idleness: the next tick checkpoints PASSIVE, not an idle TRUNCATE
        // (which would take the write lock just as the held commits resume).
        this.written = true;
        // A hold that ended first left its checkpoint running: the next one waits for it.
        const pending = r ? undefined : checkpoint;
        if (!pending) this.inFlight = false;
        else pending.then(() => (this.inFlight = false), () => (this.inFlight = false));
      },
      () => {
        this.policy.caughtUp(undefined, this.opts.changes());
        this.inFlight = false;
      },
    );
  }

  private onReply(reply: Reply): void {
    if (reply.ready || reply.id === undefined) return;
    const waiter = this.waiters.get(reply.id);
    if (!waiter) return;
    this.waiters.delete(reply.id);
    if (this.waiters.size === 0 && !this.closing) this.worker.unref();
    if (reply.error !== undefined) {
      waiter.reject(new TowerError('internal', `sqlite checkpoint: ${reply.error}`));
      return;
    }
    const result: CheckpointResult = {
      mode: waiter.mode,
      busy: reply.busy === 1,
      logFrames: reply.log ?? 0,
      checkpointedFrames: reply.checkpointed ?? 0,
      walBytes: reply.walBytes ?? 0,
      walSeq: reply.walSeq ?? -1,
    };
    waiter.resolve(result);
    for (const listener of this.listeners) listener(result);
  }

  private fail(err: Error): void {
    if (this.failed) return;
    this.failed = true;
    clearInterval(this.timer);
    this.rejectAll(new TowerError('internal', `sqlite checkpointer failed: ${err.message}`));
    this.opts.onFailure(err);
  }

  private rejectAll(err: Error): void {
    for (const waiter of this.waiters.values()) waiter.reject(err);
    this.waiters.clear();
  }
}
