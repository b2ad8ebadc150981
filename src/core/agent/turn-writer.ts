import type { NewEvent } from '../../protocol/events.js';
import type { CommitResult } from '../../store/types.js';
import type { AppendEffects, EventLog } from '../event-log/index.js';

/**
 * Appends a turn's events without waiting on each one: text deltas arrive faster than a commit, and the
 * log's group commit batches them. Order is kept by the log; `settle` waits for everything emitted so
 * far and surfaces the first failure, so the loop stops if the store refuses a write.
 */
export class TurnWriter {
  private last: Promise<unknown> = Promise.resolve();
  private failure: unknown;

  constructor(
    private readonly log: EventLog,
    readonly sessionId: string,
  ) {}

  emit(event: NewEvent, effects?: AppendEffects): void {
    const appended = this.log.append(this.sessionId, event, effects);
    appended.catch((err: unknown) => {
      this.failure ??= err;
    });
    this.last = appended;
  }

  /** Appends and waits for this event (and all before it) to be committed and published. */
  async commit(event: NewEvent, effects?: AppendEffects): Promise<CommitResult> {
    const appended = this.log.append(this.sessionId, event, effects);
    this.last = appended.catch(() => undefined);
    try {
      return await appended;
    } catch (err) {
      this.failure ??= err;
      throw err;
    }
  }

  async settle(): Promise<void> {
    await this.last.catch(() => undefined);
    if (this.failure !== undefined) throw this.failure;
  }

  get failed(): boolean {
    return this.failure !== undefined;
  }
}
