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
    private readonly publish: (events: StoredEvent[]) => void,
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

  private async commitBatch(batch: Pending[]): Promise<void> {
    let results: CommitResult[];
    try {
      results = await this.store.commit(batch.map((p) => p.entry));
    } catch (err) {
      const sessions = [...new Set(batch.map((p) => p.entry.session_id))];
      this.logger.warn({ err, sessions, entries: batch.length }, 'group commit failed');
      for (const p of batch) p.reject(err);
      return;
    }
    try {
      this.publish(results.map((r) => r.event));
    } catch (err) {
      // The events are durable; subscribers that missed them recover from the store by seq.
      this.logger.error({ err, entries: batch.length }, 'publish failed after commit');
    }
    batch.forEach((p, i) => {
      const r = results[i];
      if (r) p.resolve(r);
      else p.reject(new TowerError('internal', `store returned ${results.length} results for ${batch.length} entries`));
    });
  }
}
