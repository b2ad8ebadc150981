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

/**
 * The main thread's side of the SQLite writer thread (`writer-worker.ts`): large group commits run
 * there, on the thread's own connection, so their inserts and updates stop holding the event loop.
 * Batches are sent in order and the thread commits them in that order, one at a time. The thread starts
 * on the first batch. If it stops unexpectedly, every batch sent to it fails with `internal` (it may or
 * may not have committed the one it was running, as when a Postgres connection drops mid-commit) and
 * the next batch starts a new thread; if it cannot start at all, `broken` turns true and the store
 * commits on its own connection from then on.
 */
export class WriterThread {
  private worker: Worker | undefined;
  private readonly waiters = new Map<number, Waiter>();
  private nextId = 1;
  private started = false;
  private closing = false;
  private exited: Promise<void> = Promise.resolve();
  private idleWaiters: Array<() => void> = [];
  private autoCheckpoint: number;
  /** Batches the thread committed: the checkpointer counts them as writes. */
  commits = 0;
  broken = false;

  constructor(private readonly config: WriterConfig) {
    this.autoCheckpoint = config.autoCheckpoint;
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
    let message: ToWriter & { kind: 'commit' };
    try {
      message = { kind: 'commit', id, batch: encodeBatch(entries) };
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
    // Not keeping the process alive when idle: a store that is never closed must not hold a CLI open.
    worker.unref();
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
        const why = failure ? failure.message : `exit code ${code}`;
        this.failAll(new TowerError('internal', `sqlite writer thread stopped (${why}); its batch may or may not be committed`, {
          cause: failure,
        }));
        resolve();
      });
    });
    return worker;
  }

  private onMessage(msg: FromWriter): void {
    if (msg.kind === 'ready') {
      this.started = true;
      return;
    }
    const waiter = this.waiters.get(msg.id);
    if (!waiter) return;
    this.waiters.delete(msg.id);
    if (msg.kind === 'committed') {
      this.commits++;
      waiter.resolve({ seqs: msg.seqs, messages: msg.messages });
    } else {
      waiter.reject(fromWireError(msg.error));
    }
    if (this.waiters.size === 0) this.wakeIdle();
  }

  private failAll(err: Error): void {
    const waiters = [...this.waiters.values()];
    this.waiters.clear();
    for (const w of waiters) w.reject(err);
    this.wakeIdle();
  }

  private wakeIdle(): void {
    if (!this.closing) this.worker?.unref();
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const wake of waiters) wake();
  }
}
