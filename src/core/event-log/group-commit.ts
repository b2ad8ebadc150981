import type { Logger } from 'pino';
import { TowerError } from '../../protocol/errors.js';
import type { StoredEvent } from '../../protocol/events.js';
import type { CommitEntry, CommitResult, Store } from '../../store/types.js';
import { encodeEntry } from './encode.js';

/** Entries committed together atomically: never split across transactions. */
interface Pending {
  entries: CommitEntry[];
  resolve: (results: CommitResult[]) => void;
  reject: (err: unknown) => void;
}

export interface GroupCommitLimits {
  /** Entries per transaction (a group larger than this commits alone). Default 2000. */
  maxBatch?: number;
  /** Entries waiting for a commit before `add` refuses with `rate_limited`. Default 50 000. */
  maxWaiting?: number;
  /** Serialised bytes of one entry (event data plus messages). Default 8 MiB. */
  maxEntryBytes?: number;
}

const ignore = (): void => {};

/** Back-to-back commits for this long (ms) give the event loop one macrotask turn before the next. */
const DRAIN_SLICE_MS = 5;

/**
 * Collects entries and commits them in batches: everything added in one tick shares one transaction,
 * and entries added while a commit is in flight form the next batch. One drain loop runs at a time, so
 * batches commit and publish strictly in order, which is what keeps each session's seqs in order on the
 * bus. Every added entry is settled, whatever the store does.
 */
export class GroupCommit {
  private pending: Pending[] = [];
  private readonly settledSet = new WeakSet<Pending>();
  private waiting = 0;
  private scheduled = false;
  private draining = false;
  /** Settles after the last added entry settles; batches are ordered, so that means all of them. */
  private tail: Promise<void> = Promise.resolve();
  private readonly maxBatch: number;
  private readonly maxWaiting: number;
  private readonly maxEntryBytes: number;

  constructor(
    private readonly store: Store,
    private readonly publish: (events: StoredEvent[]) => Promise<void>,
    private readonly logger: Logger,
    limits: GroupCommitLimits = {},
  ) {
    this.maxBatch = limits.maxBatch ?? 2000;
    this.maxWaiting = limits.maxWaiting ?? 50_000;
    this.maxEntryBytes = limits.maxEntryBytes ?? 8 * 1024 * 1024;
  }

  /** Entries waiting for a commit (including the batch in flight). */
  get depth(): number {
    return this.waiting;
  }

  /** One entry: resolved with its result straight from the batch (no second promise per append). */
  add(entry: CommitEntry): Promise<CommitResult> {
    return this.enqueue<CommitResult>([entry], (results) => results[0] as CommitResult);
  }

  /**
   * Adds entries that commit in one transaction or not at all. Each is serialised and size-checked here,
   * before it joins a batch: an entry that cannot be stored fails this call only.
   */
  addGroup(entries: CommitEntry[]): Promise<CommitResult[]> {
    return this.enqueue<CommitResult[]>(entries, (results) => results);
  }

  private enqueue<T>(entries: CommitEntry[], pick: (results: CommitResult[]) => T): Promise<T> {
    try {
      for (const entry of entries) entry.encoded = encodeEntry(entry, this.maxEntryBytes);
    } catch (err) {
      return Promise.reject(err);
    }
    if (this.waiting + entries.length > this.maxWaiting && this.waiting > 0) {
      return Promise.reject(
        new TowerError('rate_limited', `${this.waiting} appends are waiting for the store; retry shortly`),
      );
    }
    this.waiting += entries.length;
    const result = new Promise<T>((resolve, reject) => {
      this.pending.push({ entries, resolve: (results) => resolve(pick(results)), reject });
    });
    this.tail = result.then(ignore, ignore);
    this.schedule();
    return result;
  }

  /** Resolves once everything added so far is committed and published (or has failed). */
  settled(): Promise<void> {
    return this.tail;
  }

  private schedule(): void {
    if (this.scheduled || this.draining) return;
    this.scheduled = true;
    setImmediate(() => void this.drain());
  }

  private async drain(): Promise<void> {
    this.scheduled = false;
    this.draining = true;
    try {
      let sliceStart = performance.now();
      while (this.pending.length > 0) {
        // A writer that appends again as soon as its commit settles keeps this loop in promise reactions
        // (commit, publish and settle are all microtasks): without a macrotask turn now and then, sockets,
        // timers and every other request would wait until it stops.
        if (performance.now() - sliceStart >= DRAIN_SLICE_MS) {
          await new Promise<void>((resolve) => setImmediate(resolve));
          sliceStart = performance.now();
        }
        const batch = this.takeBatch();
        try {
          await this.commitBatch(batch);
        } catch (err) {
          // Nothing may leave an entry unsettled: a caller awaiting it would hang, and so would flush().
          this.logger.error({ err }, 'group commit crashed');
          for (const p of batch) this.settle(p, err);
        }
      }
    } finally {
      // Synchronous with the loop's last check: no add() can slip in between and be left unscheduled.
      this.draining = false;
    }
  }

  /** Whole groups, up to `maxBatch` entries (at least one group). */
  private takeBatch(): Pending[] {
    let count = 0;
    let n = 0;
    while (n < this.pending.length) {
      const size = (this.pending[n] as Pending).entries.length;
      if (n > 0 && count + size > this.maxBatch) break;
      count += size;
      n++;
    }
    return this.pending.splice(0, n);
  }

  private settle(p: Pending, err: unknown, results?: CommitResult[]): void {
    if (!this.settledSet.has(p)) {
      this.settledSet.add(p);
      this.waiting -= p.entries.length;
      if (results) p.resolve(results);
      else p.reject(err);
    }
  }

  private dropAfterDelete(batch: Pending[]): Pending[] {
    const deleted = new Set<string>();
    return batch.filter((p) => {
      const late = p.entries.find((e) => deleted.has(e.session_id));
      for (const e of p.entries) if (e.delete_session) deleted.add(e.session_id);
      if (!late) return true;
      this.settle(p, new TowerError('unknown_session', `unknown session ${late.session_id}`, { session_id: late.session_id }));
      return false;
    });
  }

  private async commitBatch(batch: Pending[]): Promise<void> {
    batch = this.dropAfterDelete(batch);
    let results: CommitResult[] | undefined;
    // A batch holds many sessions' appends: one session's bad entry (deleted a moment ago, say) must not
    // fail the others. The store names the session at fault; its groups are rejected, the rest retried.
    // A failure that names no session in the batch is isolated by committing each group on its own.
    while (batch.length > 0 && !results) {
      try {
        results = await this.store.commit(batch.flatMap((p) => p.entries));
      } catch (err) {
        const culprit = faultySession(err);
        const sessions = new Set(batch.flatMap((p) => p.entries.map((e) => e.session_id)));
        this.logger.warn({ err, sessions: sessions.size, culprit, groups: batch.length }, 'group commit failed');
        if (batch.length === 1) {
          this.settle(batch[0] as Pending, err);
          return;
        }
        if (culprit !== undefined && sessions.has(culprit) && sessions.size > 1) {
          const blamed = (p: Pending): boolean => p.entries.some((e) => e.session_id === culprit);
          const theirs = batch.filter(blamed);
          // One of the session's groups is at fault (a queue write another node beat, say), not always
          // all of them: with several, each is committed on its own, in order.
          if (theirs.length === 1) this.settle(theirs[0] as Pending, err);
          else for (const p of theirs) await this.commitBatch([p]);
          batch = batch.filter((p) => !blamed(p));
          continue;
        }
        for (const p of batch) await this.commitBatch([p]);
        return;
      }
    }
    if (!results) return;
    try {
      // Awaited so batches reach the bus in order; a bus must settle promptly even while disconnected.
      await this.publish(results.map((r) => r.event));
    } catch (err) {
      // The events are durable; subscribers that missed them recover from the store by seq.
      this.logger.error({ err, groups: batch.length }, 'publish failed after commit');
    }
    let at = 0;
    const total = batch.reduce((n, p) => n + p.entries.length, 0);
    for (const p of batch) {
      const mine = results.slice(at, at + p.entries.length);
      at += p.entries.length;
      if (results.length === total) this.settle(p, undefined, mine);
      else this.settle(p, new TowerError('internal', `store returned ${results.length} results for ${total} entries`));
    }
  }
}

/** The session a store error blames (`details.session_id`), if it names one. */
function faultySession(err: unknown): string | undefined {
  if (!(err instanceof TowerError)) return undefined;
  const details = err.details as { session_id?: unknown } | undefined;
  return typeof details?.session_id === 'string' ? details.session_id : undefined;
}
