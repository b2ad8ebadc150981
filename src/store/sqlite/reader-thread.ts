import type { Worker } from 'node:worker_threads';
import { startModuleWorker } from './module-worker.js';
import type { FromReader, ReaderConfig, ToReader } from './reader-protocol.js';

/**
 * The main thread's side of the SQLite reader thread (`reader-worker.ts`): catch-up pages are read there,
 * on a read-only connection of its own, so a long replay's queries stop holding the event loop (they
 * were most of its time: the loop then answers other requests at once instead of after the page in
 * hand). Nothing depends on it: `get` answers undefined while the thread is not up (it starts on the
 * first call), after it failed or closed, and for a statement it could not run, and the caller then
 * reads on the main connection as before. A read started here sees every transaction committed
 * before it started, as one on the main connection does (WAL: a new read transaction takes the newest
 * snapshot).
 */
export class ReaderThread {
  private worker: Worker | undefined;
  private up = false;
  private broken = false;
  private closing = false;
  private nextId = 1;
  private readonly waiters = new Map<number, (row: unknown[] | undefined) => void>();
  private exited: Promise<void> = Promise.resolve();
  private upWaiters: Array<(up: boolean) => void> = [];
  /** Reads sent to the thread (tests, diagnostics). */
  reads = 0;

  constructor(private readonly config: ReaderConfig) {}

  /** The thread answers reads now. */
  get ready(): boolean {
    return this.up;
  }

  /** Starts the thread if it is not running; resolves once it is up (true) or could not start (false). */
  started(): Promise<boolean> {
    if (this.up) return Promise.resolve(true);
    if (this.broken || this.closing) return Promise.resolve(false);
    if (!this.worker) this.start();
    return new Promise((resolve) => this.upWaiters.push(resolve));
  }

  /** The first row of `sql` with `params`, read on the thread; undefined: read it on the main connection. */
  get(sql: string, params: Record<string, string | number>): Promise<unknown[] | undefined> | undefined {
    if (!this.up) {
      if (!this.worker && !this.broken && !this.closing) this.start();
      return undefined;
    }
    const worker = this.worker as Worker;
    const id = this.nextId++;
    this.reads++;
    // Referenced while a read is in flight, so its caller is answered before the process may exit.
    if (this.waiters.size === 0) worker.ref();
    return new Promise((resolve) => {
      this.waiters.set(id, resolve);
      worker.postMessage({ kind: 'get', id, sql, params } satisfies ToReader);
    });
  }

  /** Answers the reads in flight (undefined), then closes the thread's connection and the thread. */
  async close(): Promise<void> {
    this.closing = true;
    this.up = false;
    const worker = this.worker;
    if (worker) {
      worker.ref();
      worker.postMessage({ kind: 'close' } satisfies ToReader);
    }
    await this.exited;
  }

  private start(): void {
    const worker = startModuleWorker(import.meta.url, 'reader-worker', { ...this.config } satisfies ReaderConfig as unknown as Record<string, unknown>);
    this.worker = worker;
    worker.on('message', (msg: FromReader) => this.onMessage(msg));
    // Its exit follows; a thread that never came up (no driver, no file) would fail again.
    worker.on('error', () => {
      if (!this.up) this.broken = true;
    });
    this.exited = new Promise((resolve) => {
      worker.once('exit', () => {
        if (this.worker === worker) this.worker = undefined;
        this.up = false;
        for (const answer of this.waiters.values()) answer(undefined);
        this.waiters.clear();
        this.wakeUp(false);
        resolve();
      });
    });
    // Not keeping the process alive when idle (only now: the first 'message' listener refs it again).
    worker.unref();
  }

  private onMessage(msg: FromReader): void {
    if (msg.kind === 'ready') {
      this.up = !this.closing;
      this.wakeUp(this.up);
      return;
    }
    const answer = this.waiters.get(msg.id);
    if (!answer) return;
    this.waiters.delete(msg.id);
    if (this.waiters.size === 0 && !this.closing) this.worker?.unref();
    answer(msg.kind === 'row' ? msg.row : undefined);
  }

  private wakeUp(up: boolean): void {
    const waiters = this.upWaiters;
    this.upWaiters = [];
    for (const wake of waiters) wake(up);
  }
}
