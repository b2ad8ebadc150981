import type { SessionRecord, Store } from '../../store/types.js';

/** What the bus reads session rows with: the store port's batch read. */
export type SessionRows = Pick<Store, 'getSessions'>;

interface Waiter {
  resolve(row: SessionRecord | undefined): void;
  reject(err: unknown): void;
}

/**
 * Session rows asked for one at a time, read together: the ids asked for until the current job's
 * microtasks run out (every refresh the pacer started in this turn, every session a tap batch touched)
 * go to the store as one `getSessions`, instead of one query, one promise chain and one command
 * validation each. A session the read does not return (deleted) resolves `undefined`; a failed read
 * rejects every caller of that batch.
 */
export class RowBatch {
  private pending = new Map<string, Waiter[]>();
  private scheduled = false;

  constructor(private readonly rows: SessionRows) {}

  get(id: string): Promise<SessionRecord | undefined> {
    return new Promise((resolve, reject) => {
      const waiters = this.pending.get(id);
      if (waiters) waiters.push({ resolve, reject });
      else this.pending.set(id, [{ resolve, reject }]);
      if (this.scheduled) return;
      this.scheduled = true;
      queueMicrotask(() => this.flush());
    });
  }

  private flush(): void {
    this.scheduled = false;
    const batch = this.pending;
    this.pending = new Map();
    this.rows.getSessions([...batch.keys()]).then(
      (rows) => {
        for (const row of rows) {
          for (const w of batch.get(row.id) ?? []) w.resolve(row);
          batch.delete(row.id);
        }
        for (const waiters of batch.values()) for (const w of waiters) w.resolve(undefined);
      },
      (err: unknown) => {
        for (const waiters of batch.values()) for (const w of waiters) w.reject(err);
      },
    );
  }
}
