import type { Logger } from 'pino';
import { TowerError } from '../../protocol/errors.js';
import type { StoredEvent } from '../../protocol/events.js';
import type { CommitEntry, CommitResult, Store } from '../../store/types.js';

interface Pending {
  entry: CommitEntry;
  resolve: (result: CommitResult) => void;
  reject: (err: unknown) => void;
}

const ignore = (): void => {};

/**
 * Collects entries and commits them in batches: everything added in one tick shares one transaction,
 * and entries added while a commit is in flight form the next batch. One drain loop runs at a time, so
 * batches commit and publish strictly in order, which is what keeps each session's seqs in order on the
 * bus.
 */
export class GroupCommit {
  private pending: Pending[] = [];
  private scheduled = false;
  private draining = false;
  /** Settles after the last added entry settles; batches are ordered, so that means all of them. */
  private tail: Promise<void> = Promise.resolve();

  constructor(
    private readonly store: Store,
    private readonly publish: (events: StoredEvent[]) => Promise<void>,
    private readonly logger: Logger,
  ) {}

  add(entry: CommitEntry): Promise<CommitResult> {
    const result = new Promise<CommitResult>((resolve, reject) => {
      this.pending.push({ entry, resolve, reject });
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
      while (this.pending.length > 0) {
        const batch = this.pending;
        this.pending = [];
        await this.commitBatch(batch);
      }
    } finally {
      // Synchronous with the loop's last check: no add() can slip in between and be left unscheduled.
      this.draining = false;
    }
  }

  private dropAfterDelete(batch: Pending[]): Pending[] {
    const deleted = new Set<string>();
    return batch.filter((p) => {
      if (!isAfterDelete(p, deleted)) return true;
      p.reject(new TowerError('unknown_session', `unknown session ${p.entry.session_id}`, { session_id: p.entry.session_id }));
      return false;
    });
  }

  private async commitBatch(batch: Pending[]): Promise<void> {
    batch = this.dropAfterDelete(batch);
    let results: CommitResult[] | undefined;
    // A batch holds many sessions' appends: one session's bad entry (deleted a moment ago, say) must not
    // fail the others. The store names the session at fault; its entries are rejected, the rest retried.
    while (batch.length > 0 && !results) {
      try {
        results = await this.store.commit(batch.map((p) => p.entry));
      } catch (err) {
        const culprit = faultySession(err);
        const sessions = [...new Set(batch.map((p) => p.entry.session_id))];
        this.logger.warn({ err, sessions, culprit, entries: batch.length }, 'group commit failed');
        const rejected = culprit && sessions.length > 1 ? batch.filter((p) => p.entry.session_id === culprit) : batch;
        for (const p of rejected) p.reject(err);
        if (rejected === batch || rejected.length === 0) return;
        batch = batch.filter((p) => p.entry.session_id !== culprit);
      }
    }
    if (!results) return;
    try {
      // Awaited so batches reach the bus in order; a bus must settle promptly even while disconnected.
      await this.publish(results.map((r) => r.event));
    } catch (err) {
      // The events are durable; subscribers that missed them recover from the store by seq.
      this.logger.error({ err, entries: batch.length }, 'publish failed after commit');
    }
    const committed = results;
    batch.forEach((p, i) => {
      const r = committed[i];
      if (r) p.resolve(r);
      else p.reject(new TowerError('internal', `store returned ${committed.length} results for ${batch.length} entries`));
    });
  }
}

/**
 * An append that lands in the same batch after its session's delete can only fail; left in, it would
 * fail the delete with it. It is refused on its own, as it would be one batch later.
 */
function isAfterDelete(p: Pending, deleted: Set<string>): boolean {
  if (deleted.has(p.entry.session_id)) return true;
  if (p.entry.delete_session) deleted.add(p.entry.session_id);
  return false;
}

/** The session a store error blames (`details.session_id`), if it names one. */
function faultySession(err: unknown): string | undefined {
  if (!(err instanceof TowerError)) return undefined;
  const details = err.details as { session_id?: unknown } | undefined;
  return typeof details?.session_id === 'string' ? details.session_id : undefined;
}
