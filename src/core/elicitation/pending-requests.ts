import { TowerError } from '../../protocol/errors.js';

/** A pending request as listed: what it was opened with, plus when. */
export type PendingEntry<Info> = Info & { requested_at: string };

/**
 * Rejection of a request that will never be answered: its signal aborted (the turn was interrupted) or
 * `cancelAll` was called (the turn ended). Named `AbortError` like the platform's, so code that already
 * treats aborts as "stop quietly" does so here too.
 */
export class RequestCanceledError extends Error {
  override readonly name = 'AbortError';
}

export interface PendingRequestsOptions {
  /** Clock for `requested_at`. */
  now?: () => Date;
  /** How many answered ids are remembered, to tell "already answered" from "unknown". */
  rememberAnswered?: number;
}

interface Waiter<Info, Answer> {
  entry: PendingEntry<Info>;
  settle(answer: Answer): void;
  cancel(error: RequestCanceledError): void;
}

/**
 * Requests waiting for a person (tool confirmations keyed by tool_call_id, questions keyed by
 * elicitation_id). Several may wait at once and be answered in any order; each `open` promise settles
 * with the answer given for its own id.
 */
export class PendingRequests<Info extends object, Answer> {
  readonly #pending = new Map<string, Waiter<Info, Answer>>();
  /** Insertion-ordered, trimmed from the oldest: a bounded memory of answered ids. */
  readonly #answered = new Set<string>();
  readonly #now: () => Date;
  readonly #remember: number;

  constructor(options: PendingRequestsOptions = {}) {
    this.#now = options.now ?? (() => new Date());
    this.#remember = options.rememberAnswered ?? 1024;
  }

  get size(): number {
    return this.#pending.size;
  }

  /**
   * Registers a request and returns its answer. Throws `conflict` at once if `id` is already pending.
   * The promise rejects with `RequestCanceledError` (and the request is removed) if `signal` aborts.
   */
  open(id: string, info: Info, signal?: AbortSignal): Promise<Answer> {
    if (this.#pending.has(id)) throw new TowerError('conflict', `A request with id "${id}" is already pending`);
    if (signal?.aborted) return handled(Promise.reject(canceled('the request was aborted', signal.reason)));
    // An id answered before and opened again starts over: the new request is the one an answer is for.
    this.#answered.delete(id);

    const promise = new Promise<Answer>((resolve, reject) => {
      const onAbort = () => {
        this.#pending.delete(id);
        reject(canceled('the request was aborted', signal?.reason));
      };
      const detach = () => signal?.removeEventListener('abort', onAbort);
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#pending.set(id, {
        entry: { ...info, requested_at: this.#now().toISOString() },
        settle: (answer) => {
          detach();
          resolve(answer);
        },
        cancel: (error) => {
          detach();
          reject(error);
        },
      });
    });
    return handled(promise);
  }

  /**
   * Delivers the answer for `id`. Throws `not_found` for an id never opened (or canceled) and
   * `conflict` for one answered before, so a second client answering the same request learns it lost.
   */
  resolve(id: string, answer: Answer): void {
    const waiter = this.#pending.get(id);
    if (!waiter) {
      if (this.#answered.has(id)) throw new TowerError('conflict', `The request "${id}" was already answered`);
      throw new TowerError('not_found', `No pending request with id "${id}"`);
    }
    this.#pending.delete(id);
    this.#rememberAnswered(id);
    waiter.settle(answer);
  }

  has(id: string): boolean {
    return this.#pending.has(id);
  }

  get(id: string): PendingEntry<Info> | undefined {
    return this.#pending.get(id)?.entry;
  }

  /** The pending requests in the order they were opened (a copy: answering while iterating is safe). */
  list(): Array<PendingEntry<Info>> {
    return [...this.#pending.values()].map((w) => w.entry);
  }

  /** Rejects every pending request with `RequestCanceledError`; returns how many there were. */
  cancelAll(reason: string): number {
    const waiters = [...this.#pending.values()];
    this.#pending.clear();
    for (const waiter of waiters) waiter.cancel(canceled(reason));
    return waiters.length;
  }

  #rememberAnswered(id: string): void {
    this.#answered.add(id);
    while (this.#answered.size > this.#remember) {
      const oldest = this.#answered.values().next().value;
      if (oldest === undefined) break;
      this.#answered.delete(oldest);
    }
  }
}

function canceled(reason: string, cause?: unknown): RequestCanceledError {
  return new RequestCanceledError(`canceled: ${reason}`, cause === undefined ? undefined : { cause });
}

/**
 * Marks the promise as handled without changing what awaiting it yields. A caller often opens a request,
 * appends an event, then awaits the answer; an abort in between would otherwise reject a promise nobody
 * listens to yet, which Node reports as an unhandled rejection and may crash on.
 */
function handled<T>(promise: Promise<T>): Promise<T> {
  promise.catch(() => undefined);
  return promise;
}
