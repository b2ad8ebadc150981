import { randomUUID } from 'node:crypto';
import { chmodSync, closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type { StoredMessage } from '../../protocol/conversation.js';
import { TowerError, isTowerError } from '../../protocol/errors.js';
import type { StoredEvent } from '../../protocol/events.js';
import { framedRows, type FrameFormat, type FramedRows } from '../../protocol/wire-frames.js';
import type { RawStoredEvent } from '../../protocol/wire-json.js';
import { spliceFlag } from '../../protocol/wire-splice.js';
import type { CommitEntry, CommitResult, SessionPage, SessionRecord, Snapshot, Store } from '../types.js';
import { WalCheckpointer, type CheckpointResult } from './checkpointer.js';
import { CommitWriter } from './commit.js';
import { resultsOf } from './results.js';
import { settleHeads } from './heads.js';
import { decodeCursor, encodeCursor } from './cursor.js';
import { SqliteFrames } from './frames.js';
import { SqliteMessaging, type SqliteMessagingOptions } from './messaging.js';
import { runMigrations } from './migrations.js';
import { SqliteRunnerTokens } from './runner-tokens.js';
import { SessionStatements } from './statements.js';
import { eventFromRow, messageFromRow, rawEventFromTuple, sessionFromRow, sessionToRow } from './rows.js';
import { checkImport } from '../import-check.js';
import { WriterThread } from './writer-thread.js';
import { CommitGate } from './wal-bound.js';
import { CommitPlacement, LoopLoad, type LoadSignal, type PlacementOptions } from './placement.js';
import { MainWrites } from './main-writes.js';

export interface SqliteStoreOptions extends SqliteMessagingOptions {
  /** How long a write waits for another connection's lock before failing. Default 5000 ms. */
  busyTimeoutMs?: number;
  /**
   * WAL checkpoints in a worker thread, every `intervalMs` after writes (default 200 ms), instead of
   * SQLite's auto-checkpoint inside a commit on the event loop; `false` keeps SQLite's. File stores only.
   */
  checkpointer?: CheckpointerSettings | false;
  /**
   * Commits run in a writer thread on its own connection, off the event loop, where `placement.ts`
   * says: those of at least `minBatch` entries (default 256), those behind a thread batch in flight, and,
   * while the event loop is saturated, those spanning `minSessions` sessions; the rest run on this
   * connection (a round trip would cost them more than it saves). `false`: every commit here. File
   * stores only. The thread starts ahead of need, a macrotask after the store's first commit
   * (`prestart: 'commit'`, the default: a store that never commits, a CLI reading sessions or most
   * tests, never pays its ~120 ms of start-up CPU), or right after the store opens (`'open'`), or, with
   * `false`, on the first batch that needs it. `load` replaces the event-loop signal (tests).
   */
  writerThread?: (PlacementOptions & { prestart?: 'commit' | 'open' | false; load?: LoadSignal }) | false;
}

export interface CheckpointerSettings {
  intervalMs?: number;
  /**
   * The WAL bound under writes that never pause (wal-bound.ts): a timer checkpoint finding more frames
   * than this (default 4096: 16 MB at 4 KB pages) holds commits, for at most `maxHoldMs` (default 25),
   * while a catch-up checkpoint lets the WAL start over. `false`: no bound (PASSIVE only).
   */
  restartFrames?: number | false;
  maxHoldMs?: number;
  /** `journal_size_limit` of the writer connections: a restarted WAL is cut back to this. Default 64 MiB. */
  walLimitBytes?: number;
}

const DEFAULT_RESTART_FRAMES = 4096;
const DEFAULT_MAX_HOLD_MS = 25;
const DEFAULT_WAL_LIMIT = 64 * 1024 * 1024;

/**
 * The embedded Store. better-sqlite3 is synchronous, so every method does its work before returning;
 * the Promise signatures exist for the Postgres backend. Work done inside one method call therefore
 * never interleaves with another call on this connection.
 */
export class SqliteStore implements Store {
  private readonly db: Database.Database;
  private readonly writer: CommitWriter;
  private readonly q: SessionStatements;
  private readonly frames: SqliteFrames;
  private readonly snapshotTx: Database.Transaction<(sessionId: string) => Snapshot | undefined>;
  private closed = false;
  readonly messaging: SqliteMessaging;
  /** The WAL checkpointer thread, when this store runs one. */
  readonly checkpointer: WalCheckpointer | undefined;
  /** The writer thread (large commits, and small ones while the loop is saturated), when this store runs one. */
  readonly writerThread: WriterThread | undefined;
  private readonly placement: CommitPlacement | undefined;
  /** The thread to start after the first commit (`prestart: 'commit'`), until then. */
  private startAfterCommit: WriterThread | undefined;
  /** Commits wait here while the checkpointer catches up on the WAL (wal-bound.ts). */
  private readonly gate = new CommitGate();
  /**
   * A catch-up just copied the whole WAL: the next commit starts it over, and the first frame of a new
   * WAL fsyncs its header, so that commit goes to the writer thread (when it is up), off the loop.
   */
  private restartOnThread = false;
  /**
   * The idle TRUNCATE's checkpoint, while it runs past its hold: it holds the write lock, so this
   * connection's writes go to the writer thread (which waits for the lock off the loop) or wait for it.
   */
  private idleRunning: Promise<void> | undefined;
  /** This connection's writes other than commits, kept off the locks above (main-writes.ts). */
  private readonly main: MainWrites;

  constructor(path: string, opts: SqliteStoreOptions = {}) {
    if (path !== ':memory:') prepareFile(path);
    this.db = new Database(path);
    const busyTimeoutMs = Math.max(0, Math.floor(opts.busyTimeoutMs ?? 5000));
    this.main = new MainWrites({
      gate: this.gate,
      idleRunning: () => this.idleRunning,
      threadInFlight: () => this.writerThread?.inFlight ?? 0,
      threadDrained: this.threadDrained,
      maxDrainMs: Math.max(1, busyTimeoutMs),
    });
    try {
      this.db.pragma('journal_mode = WAL');
      this.db.pragma('synchronous = NORMAL');
      this.db.pragma(`busy_timeout = ${busyTimeoutMs}`);
      this.db.pragma('foreign_keys = ON');
      runMigrations(this.db);
      // Rows a crash left behind their events (heads.ts) are made exact before anything runs.
      settleHeads(this.db);
      const settings = opts.checkpointer === false ? undefined : opts.checkpointer ?? {};
      const walLimit = settings ? Math.max(0, Math.floor(settings.walLimitBytes ?? DEFAULT_WAL_LIMIT)) : undefined;
      this.checkpointer = path === ':memory:' || !settings ? undefined : this.startCheckpointer(path, settings);
      if (this.checkpointer && walLimit !== undefined) this.db.pragma(`journal_size_limit = ${walLimit}`);
      this.writer = new CommitWriter(this.db);
      this.writerThread =
        path === ':memory:' || opts.writerThread === false
          ? undefined
          : new WriterThread(
              {
                path, busyTimeoutMs, autoCheckpoint: this.checkpointer ? 0 : 1000, writer: randomUUID(),
                ...(this.checkpointer && walLimit !== undefined ? { journalSizeLimit: walLimit } : {}),
              },
              { landed: (writer, from) => this.writer.marks.landed(writer, from), forget: (writer) => this.writer.marks.forget(writer) },
            );
      const threadOpts = opts.writerThread || {};
      const thread = this.writerThread;
      this.placement = thread && new CommitPlacement(threadOpts.load ?? new LoopLoad(() => thread.busyMs), threadOpts);
      const prestart = threadOpts.prestart ?? 'commit';
      if (thread && prestart === 'open') this.prestartThread(thread);
      if (thread && prestart === 'commit') this.startAfterCommit = thread;
      this.q = new SessionStatements(this.db);
      this.frames = new SqliteFrames(this.db);
      this.messaging = new SqliteMessaging(
        this.db,
        { read: (work) => this.guard(work), write: (work) => this.write(work), tryWrite: (work) => this.main.tryNow(() => this.guard(work)) },
        opts,
        path === ':memory:' ? undefined : path,
      );
      // A transaction, so another connection's commit cannot land between the row and the messages.
      this.snapshotTx = this.db.transaction((sessionId: string) => {
        const row = this.q.getSession.get(sessionId);
        if (!row) return undefined;
        return { session: sessionFromRow(row), messages: this.q.listMessages.all(sessionId).map(messageFromRow) };
      });
    } catch (err) {
      void this.checkpointer?.close();
      this.db.close();
      throw err;
    }
  }

  /** The writer thread, started once the current call has returned (a large batch sent first starts it itself). */
  private prestartThread(thread: WriterThread): void {
    setImmediate(() => {
      if (!this.closed) thread.prestart();
    }).unref();
  }

  private startCheckpointer(path: string, opts: CheckpointerSettings): WalCheckpointer {
    const changes = this.db.prepare<[], number>('SELECT total_changes()').pluck();
    this.db.pragma('wal_autocheckpoint = 0');
    const restartFrames = opts.restartFrames === false ? undefined : Math.max(1, Math.floor(opts.restartFrames ?? DEFAULT_RESTART_FRAMES));
    const maxHoldMs = Math.max(0, opts.maxHoldMs ?? DEFAULT_MAX_HOLD_MS);
    return new WalCheckpointer(path, {
      intervalMs: opts.intervalMs,
      ...(restartFrames === undefined ? {} : { bound: { restartFrames, hold: (work) => this.holdCommits(maxHoldMs, work) } }),
      idle: (work) => this.holdForIdle(maxHoldMs, work),
      // The writer thread's commits are writes too, on a connection whose counter this one cannot see.
      changes: () => (changes.get() ?? 0) + (this.writerThread?.commits ?? 0),
      // Without the thread, SQLite's own checkpoints (its default threshold) keep the WAL bounded.
      onFailure: () => {
        if (!this.closed) this.db.pragma('wal_autocheckpoint = 1000');
        this.writerThread?.setAutoCheckpoint(1000);
      },
    });
  }

  /**
   * Runs the checkpointer's catch-up with this store's commits held (wal-bound.ts): the writer thread's
   * batches in flight finish first, and nothing commits until the checkpoint has answered or `maxMs`
   * has passed; this connection's other writes wait too (main-writes.ts). Other processes' writes are
   * not held: they only delay the WAL's restart, since the catch-up checkpoint takes no lock they wait
   * on. False, with nothing run, while another hold is on (a write's drain, or a hold's waiters).
   */
  private async holdCommits(maxMs: number, work: () => Promise<CheckpointResult>): Promise<CheckpointResult | undefined | false> {
    if (this.gate.closed) return false;
    return this.gate.hold(maxMs, this.threadDrained, async () => {
      const r = await work();
      // Set before the hold opens: the first commit through it is the one that restarts the WAL.
      if (!r.busy && r.checkpointedFrames === r.logFrames) this.restartOnThread = true;
      return r;
    });
  }

  /**
   * Runs the idle TRUNCATE with commits held, as a catch-up is: that checkpoint takes the write lock, and
   * a commit on this connection meanwhile would wait in SQLite's busy handler, on the event loop. Past
   * `maxMs`, the gate opens and `idleRunning` sends commits to the writer thread until it answers.
   * The first commit after it starts a new WAL (its header's fsync): that one goes to the thread too.
   */
  private async holdForIdle(maxMs: number, work: () => Promise<CheckpointResult>): Promise<CheckpointResult | undefined> {
    let running: Promise<CheckpointResult> | undefined;
    const r = await this.gate.hold(maxMs, this.threadDrained, () => {
      running = work();
      const settled = running.then(
        () => undefined,
        () => undefined,
      );
      this.idleRunning = settled;
      void settled.then(() => {
        if (this.idleRunning === settled) this.idleRunning = undefined;
      });
      return running;
    });
    if (running && (!r || !r.busy)) this.restartOnThread = true;
    return r;
  }

  async createSession(session: SessionRecord): Promise<void> {
    return this.write(() => {
      // A new session has no events or messages yet, whatever the record says: the counters are the
      // store's, and a non-zero start would leave a hole before the first seq.
      const row = sessionToRow({ ...session, last_event_seq: 0, message_count: 0 });
      if (this.q.insertSessionIfAbsent.run(row).changes === 0) {
        throw new TowerError('conflict', `session ${session.id} already exists`, { session_id: session.id });
      }
    });
  }

  async getSession(id: string): Promise<SessionRecord | undefined> {
    return this.guard(() => {
      const row = this.q.getSession.get(id);
      return row ? sessionFromRow(row) : undefined;
    });
  }

  async getSessions(ids: readonly string[]): Promise<SessionRecord[]> {
    return this.guard(() => (ids.length === 0 ? [] : this.q.getSessions.all(JSON.stringify(ids)).map(sessionFromRow)));
  }

  async listSessions(opts: { limit: number; cursor?: string }): Promise<SessionPage> {
    return this.guard(() => {
      const { limit } = opts;
      if (!Number.isInteger(limit) || limit < 1) {
        throw new TowerError('invalid_request', 'limit must be a positive integer');
      }
      // One row more than asked tells whether an older page exists without a second query.
      const rows =
        opts.cursor === undefined
          ? this.q.listFirst.all(limit + 1)
          : (() => {
              const c = decodeCursor(opts.cursor);
              return this.q.listAfter.all(c.created_at, c.created_at, c.id, limit + 1);
            })();
      const items = rows.slice(0, limit).map(sessionFromRow);
      const last = items[items.length - 1];
      const page: SessionPage = { items };
      if (rows.length > limit && last) page.next_cursor = encodeCursor(last);
      return page;
    });
  }

  async listSessionIds(): Promise<string[]> {
    return this.guard(() => this.q.listIds.all());
  }

  async listSessionsWithState(keys: string[]): Promise<string[]> {
    return this.guard(() => {
      if (keys.length === 0) return [];
      const marks = keys.map(() => '?').join(', ');
      const query = this.db
        .prepare<string[], string>(`SELECT DISTINCT session_id FROM session_state WHERE key IN (${marks}) ORDER BY session_id`)
        .pluck();
      return query.all(...keys);
    });
  }

  async commit(entries: CommitEntry[]): Promise<CommitResult[]> {
    if (this.gate.closed) await this.gate.pass();
    const thread = this.writerThread;
    // The idle TRUNCATE still holds the write lock past its hold: the thread waits for it, off the loop.
    const usable = thread !== undefined && thread.up && !thread.broken;
    if (this.idleRunning && !usable) await this.idleRunning;
    if (this.startAfterCommit) {
      this.prestartThread(this.startAfterCommit);
      this.startAfterCommit = undefined;
    }
    // placement.ts: a thread batch in flight keeps later ones behind it, large ones go, and small ones
    // spanning many sessions go while the loop is saturated; the rest commit here. The first commit
    // after a catch-up goes too (`restartOnThread`).
    const toThread = this.idleRunning ? usable : this.restartOnThread ? thread && this.takeRestart(thread) : thread && this.placement?.place(entries, thread) === 'thread';
    if (thread && toThread) {
      if (this.closed) throw new TowerError('internal', 'store is closed');
      return resultsOf(entries, await thread.write(entries));
    }
    // `guard`'s checks without its closure: this is every serial append's path.
    if (this.closed) throw new TowerError('internal', 'store is closed');
    try {
      return resultsOf(entries, this.writer.place(entries));
    } catch (err) {
      throw driverError(err);
    }
  }

  async readEvents(sessionId: string, afterSeq: number, limit: number): Promise<StoredEvent[]> {
    return this.guard(() => {
      if (limit <= 0) return [];
      return this.q.readEvents.all(sessionId, afterSeq, limit).map((row) => eventFromRow(sessionId, row));
    });
  }

  async readEventsRaw(sessionId: string, afterSeq: number, limit: number): Promise<RawStoredEvent[]> {
    return this.guard(() => {
      if (limit <= 0) return [];
      return this.q.readEventRows.all(sessionId, afterSeq, limit).map((row) => rawEventFromTuple(sessionId, row));
    });
  }

  async readEventFrames(sessionId: string, afterSeq: number, limit: number, format: FrameFormat): Promise<FramedRows> {
    // `read` declines only a page whose columns do not split back into rows (never from the typed API).
    return this.guard(
      () =>
        this.frames.read(sessionId, afterSeq, limit, format) ??
        framedRows(sessionId, this.q.readEventRows.all(sessionId, afterSeq, limit).map((row) => rawEventFromTuple(sessionId, row)), format),
    );
  }

  async lastSeq(sessionId: string): Promise<number | undefined> {
    return this.guard(() => this.q.lastSeq.get(sessionId));
  }

  async listMessages(sessionId: string, afterIndex?: number): Promise<StoredMessage[]> {
    return this.guard(() =>
      (afterIndex === undefined ? this.q.listMessages.all(sessionId) : this.q.listMessagesAfter.all(sessionId, afterIndex)).map(messageFromRow),
    );
  }

  async snapshot(sessionId: string): Promise<Snapshot | undefined> {
    return this.guard(() => this.snapshotTx(sessionId));
  }

  async importSession(session: SessionRecord, messages: StoredMessage[], events: StoredEvent[]): Promise<void> {
    return this.write(() => {
      checkImport(messages, events);
      const last = events[events.length - 1];
      // Counters follow the imported data, so the next commit continues exactly after it.
      const row = sessionToRow({
        ...session,
        message_count: messages.length,
        last_event_seq: last ? last.seq : 0,
      });
      this.db.transaction(() => {
        if (this.q.insertSessionIfAbsent.run(row).changes === 0) {
          throw new TowerError('conflict', `session ${session.id} already exists`, { session_id: session.id });
        }
        for (const m of messages) {
          this.q.insertMessage.run(session.id, m.index, m.message.role, JSON.stringify(m.message), m.created_at);
        }
        for (const e of events) {
          const data = JSON.stringify(e.data);
          this.q.insertEvent.run(session.id, e.seq, e.type, data, e.timestamp, spliceFlag(data, e.type, e.timestamp));
        }
      }).immediate();
    });
  }

  async getState(sessionId: string, key: string): Promise<string | undefined> {
    return this.guard(() => this.q.getState.get(sessionId, key));
  }

  async setState(sessionId: string, key: string, value: string | undefined): Promise<void> {
    return this.write(() => {
      if (value === undefined) {
        this.q.deleteState.run(sessionId, key);
        return;
      }
      if (this.q.upsertState.run(sessionId, key, value, sessionId).changes === 0) {
        throw new TowerError('unknown_session', `unknown session ${sessionId}`, { session_id: sessionId });
      }
    });
  }

  /** Runner tokens on this connection (migration 10). */
  runnerTokens(): SqliteRunnerTokens {
    return new SqliteRunnerTokens(this.db, { read: (work) => this.guard(work), write: (work) => this.write(work) });
  }

  async compareAndSetState(
    sessionId: string,
    key: string,
    expected: string | undefined,
    value: string | undefined,
  ): Promise<boolean> {
    return this.write(() =>
      this.db.transaction(() => {
        if (this.q.getSession.get(sessionId) === undefined) {
          throw new TowerError('unknown_session', `unknown session ${sessionId}`, { session_id: sessionId });
        }
        if (this.q.getState.get(sessionId, key) !== expected) return false;
        if (value === undefined) this.q.deleteState.run(sessionId, key);
        else this.q.upsertState.run(sessionId, key, value, sessionId);
        return true;
      }).immediate(),
    );
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.messaging.stop();
    // Commits in flight on the writer thread finish first.
    await this.writerThread?.close();
    try {
      // The file at rest holds exact session rows (heads.ts), for whatever reads the table directly.
      await this.main.run(() => settleHeads(this.db));
      // The last connection to close copies the WAL into the database, fsyncs it and deletes the WAL
      // (hundreds of ms for a busy log). That copy runs on the checkpointer's thread first (TRUNCATE:
      // nothing else reads or writes now), so this connection's close finds an empty WAL. If the thread
      // cannot (failed, busy), this close does it, as before.
      if (this.checkpointer?.running) await this.checkpointer.checkpoint('TRUNCATE').catch(() => undefined);
    } finally {
      await this.checkpointer?.close();
      this.db.close();
    }
  }

  /** A write on this connection other than a commit: `guard`ed, and kept off the locks (main-writes.ts). */
  private write<T>(work: () => T): Promise<T> {
    return this.main.run(() => this.guard(work));
  }

  /** Resolves once the writer thread has no batch in flight (at once without one). */
  private readonly threadDrained = (): Promise<void> => {
    const thread = this.writerThread;
    return thread && thread.inFlight > 0 ? thread.idle() : Promise.resolve();
  };

  /** Whether the commit that restarts the WAL goes to the thread: once, if the thread is up. */
  private takeRestart(thread: WriterThread): boolean {
    this.restartOnThread = false;
    return thread.up && !thread.broken;
  }

  /** Keeps domain errors as they are and turns driver failures into `internal`, with the cause attached. */
  private guard<T>(work: () => T): T {
    if (this.closed) throw new TowerError('internal', 'store is closed');
    try {
      return work();
    } catch (err) {
      throw driverError(err);
    }
  }
}

/**
 * The database holds every conversation: owner-only, whatever the umask. The parent is created 0700 and
 * the file 0600 before SQLite opens it; SQLite gives its -wal and -shm files the main file's mode.
 */
function prepareFile(path: string): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  if (!existsSync(path)) closeSync(openSync(path, 'a', 0o600));
  chmodSync(path, 0o600);
  for (const suffix of ['-wal', '-shm']) {
    if (existsSync(path + suffix)) chmodSync(path + suffix, 0o600);
  }
}

export function openSqliteStore(path: string, opts?: SqliteStoreOptions): SqliteStore {
  return new SqliteStore(path, opts);
}

/** A domain error as it is; a driver failure as `internal`, with the cause attached. */
function driverError(err: unknown): TowerError {
  if (isTowerError(err)) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new TowerError('internal', `sqlite: ${message}`, { cause: err });
}
