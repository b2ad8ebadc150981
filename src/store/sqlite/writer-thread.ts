import type { Worker } from 'node:worker_threads';
import { TowerError } from '../../protocol/errors.js';
import type { CommitEntry } from '../types.js';
import type { Placement } from './commit.js';
import { describeError, startModuleWorker } from './module-worker.js';
import { fromWireError, type FromWriter, type ToWriter, type WriterConfig } from './writer-protocol.js';
import { encodeBatch, transfers } from './writer-wire.js';

interface Waiter {
  resolve: (placed: Placement) => void;
  reject: (err: Error) => void;
}

/** How the main side finds, after a thread died, which of its batches landed (writer-marks.ts). */
export interface MarkReader {
  /** The batches of `writer` from id `from` on that committed, with where their entries went. */
  landed(writer: string, from: number): Map<number, Placement>;
  /** Drops `writer`'s marks (none of its batches is waiting any more). */
  forget(writer: string): void;
}

/**
 * The main thread's side of the SQLite writer thread (`writer-worker.ts`): large group commits run
 * there, on the thread's own connection, so their inserts and updates stop holding the event loop.
 * Batches are sent in order and the thread commits them in that order, one at a time. The thread starts
 * on the first batch. Each batch records where it landed in its own transaction (a batch mark); if the
 * thread stops unexpectedly, the batches sent to it are looked up there: one that committed (the thread
 * died between COMMIT and its reply) resolves as if the reply had come, so a retry cannot commit it
 * twice; the others fail with `internal` (not committed), and the next batch starts a new thread. If it
 * cannot start at all, `broken` turns true and the store commits on its own connection from then on.
 * The store starts the thread ahead of need (`prestart`): its start-up (a V8 isolate, the driver, the
 * connection, from source also tsx) then runs while the store is idle, not under the first large batch.
 */
export class WriterThread {
  private worker: Worker | undefined;
  private readonly waiters = new Map<number, Waiter>();
  private nextId = 1;
  private started = false;
  private closing = false;
  private exited: Promise<void> = Promise.resolve();
  private idleWaiters: Array<() => void> = [];
  private readyWaiters: Array<() => void> = [];
  private autoCheckpoint: number;
  /** Batches the thread committed: the checkpointer counts them as writes. */
  commits = 0;
  /** The thread's commit time so far (ms, its own clock): load the event loop did not carry. */
  busyMs = 0;
  broken = false;

  constructor(
    private readonly config: WriterConfig,
    private readonly marks?: MarkReader,
  ) {
    this.autoCheckpoint = config.autoCheckpoint;
  }

  /** A thread runs (or is starting). */
  get running(): boolean {
    return this.worker !== undefined;
  }

  /** The thread is up: a batch sent now does not wait for its start-up. */
  get up(): boolean {
    return this.started && this.worker !== undefined;
  }

  /** Batches sent and not yet answered. */
  get inFlight(): number {
    return this.waiters.size;
  }

  /** Commits `entries` in one transaction on the thread; rejects with the thread's TowerError. */
  write(entries: readonly CommitEntry[]): Promise<Placement> {
    if (this.closing) return Promise.reject(new TowerError('internal', 'store is closed'));
    const worker = this.worker ?? this.start();
    const id = this.nextId++;
    // Ids only grow and the map keeps insertion order: its first key is the oldest batch unanswered.
    const oldest = this.waiters.keys().next();
    let message: ToWriter & { kind: 'commit' };
    try {
      message = { kind: 'commit', id, batch: encodeBatch(entries), answeredBelow: oldest.done ? id : oldest.value };
    } catch (err) {
      const text = err instanceof Error ? err.message : String(err);
      return Promise.reject(new TowerError('internal', `sqlite: ${text}`, { cause: err }));
    }
    // Referenced while a batch is in flight, so a process awaiting it cannot exit before the reply.
    if (this.waiters.size === 0) worker.ref();
    return new Promise<Placement>((resolve, reject) => {
      this.waiters.set(id, { resolve, reject });
      worker.postMessage(message, transfers(message.batch));
    });
  }

  /** Starts the thread now, if none runs, so the first batch finds it ready. */
  prestart(): void {
    if (!this.worker && !this.closing && !this.broken) this.start();
  }

  /** Starts the thread if none runs, and resolves once it is up (its connection open); for tests and benches. */
  ready(): Promise<void> {
    if (this.started && this.worker) return Promise.resolve();
    const worker = this.worker ?? this.start();
    // Referenced while awaited, as while a batch is in flight: the caller's process must not exit first.
    worker.ref();
    return new Promise((resolve) => this.readyWaiters.push(resolve));
  }

  /** SQLite's auto-checkpoint for the thread's connection (the store turns it on if the checkpointer fails). */
  setAutoCheckpoint(pages: number): void {
    this.autoCheckpoint = pages;
    this.worker?.postMessage({ kind: 'autocheckpoint', pages } satisfies ToWriter);
  }

  /** Resolves once no batch is in flight. */
  idle(): Promise<void> {
    if (this.waiters.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Lets the batches in flight finish, then closes the thread's connection and the thread. */
  async close(): Promise<void> {
    this.closing = true;
    await this.idle();
    const worker = this.worker;
    if (worker) {
      worker.ref();
      worker.postMessage({ kind: 'close' } satisfies ToWriter);
    }
    await this.exited;
  }

  /** The thread exits right after its next COMMIT, before replying (crash tests of the batch marks). */
  exitAfterNextCommit(): void {
    (this.worker ?? this.start()).postMessage({ kind: 'exit-after-commit' } satisfies ToWriter);
  }

  /** Ends the thread at once, as a crash would (tests use it to check that every batch settles). */
  async terminate(): Promise<void> {
    await this.worker?.terminate();
    await this.exited;
  }

  private start(): Worker {
    const worker = startModuleWorker(import.meta.url, 'writer-worker', {
      ...this.config,
      autoCheckpoint: this.autoCheckpoint,
    } satisfies WriterConfig as unknown as Record<string, unknown>);
    this.worker = worker;
    this.started = false;
    let failure: Error | undefined;
    worker.on('message', (msg: FromWriter) => this.onMessage(msg));
    worker.on('error', (err: unknown) => {
      failure = describeError(err);
    });
    this.exited = new Promise((resolve) => {
      worker.once('exit', (code) => {
        if (this.worker === worker) this.worker = undefined;
        // A thread that fails before it is ready (a missing driver, an unreadable file) would fail again.
        if (!this.started && failure) this.broken = true;
        this.settleAfterExit(failure ? failure.message : `exit code ${code}`, failure);
        // A thread that never came up answers ready() too (`running` says it is gone).
        const ready = this.readyWaiters;
        this.readyWaiters = [];
        for (const wake of ready) wake();
        resolve();
      });
    });
    // Not keeping the process alive when idle: a store that is never closed must not hold a CLI open.
    // Only now: the first 'message' listener references the worker again.
    worker.unref();
    return worker;
  }

  private onMessage(msg: FromWriter): void {
    if (msg.kind === 'ready') {
      this.started = true;
      const waiters = this.readyWaiters;
      this.readyWaiters = [];
      if (this.waiters.size === 0 && !this.closing) this.worker?.unref();
      for (const wake of waiters) wake();
      return;
    }
    const waiter = this.waiters.get(msg.id);
    if (!waiter) return;
    this.waiters.delete(msg.id);
    if (msg.kind === 'committed') {
      this.commits++;
      this.busyMs += msg.ms;
      waiter.resolve({ seqs: msg.seqs, messages: msg.messages });
    } else {
      waiter.reject(fromWireError(msg.error));
    }
    if (this.waiters.size === 0) this.wakeIdle();
  }

  /**
   * The thread is gone: each batch sent to it either committed (its mark says where it landed) or did
   * not. Read on the main connection once the thread's connection is closed, so the answer is final.
   */
  private settleAfterExit(why: string, cause: Error | undefined): void {
    const waiters = [...this.waiters];
    this.waiters.clear();
    let landed: Map<number, Placement> | undefined;
    const first = waiters[0];
    if (first && this.marks) {
      try {
        landed = this.marks.landed(this.config.writer, first[0]);
        this.marks.forget(this.config.writer);
      } catch {
        landed = undefined;
      }
    }
    const err = new TowerError(
      'internal',
      landed
        ? `sqlite writer thread stopped (${why}) before committing this batch`
        : `sqlite writer thread stopped (${why}); its batch may or may not be committed`,
      { cause },
    );
    for (const [id, w] of waiters) {
      const placed = landed?.get(id);
      if (placed) {
        this.commits++;
        w.resolve(placed);
      } else w.reject(err);
    }
    this.wakeIdle();
  }

  private wakeIdle(): void {
    if (!this.closing) this.worker?.unref();
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const wake of waiters) wake();
  }
}
