import type { Logger } from '../../core/logger.js';

/**
 * Runs an async refresh one at a time: a request while one runs marks it dirty, and it runs once more
 * afterwards. A burst of requests therefore costs at most two runs, and the last one sees the newest state.
 */
export class SerialRefresh {
  private running: Promise<void> | undefined;
  private dirty = false;
  private cancelled = false;

  constructor(
    private readonly run: () => Promise<void>,
    private readonly logger: Logger,
    private readonly pacer?: RefreshPacer,
  ) {}

  get busy(): boolean {
    return this.running !== undefined;
  }

  request(): void {
    if (this.cancelled) return;
    if (this.running) {
      this.dirty = true;
      return;
    }
    this.running = this.loop().finally(() => {
      this.running = undefined;
    });
  }

  cancel(): void {
    this.cancelled = true;
    this.dirty = false;
  }

  idle(): Promise<void> {
    return this.running ?? Promise.resolve();
  }

  private async loop(): Promise<void> {
    do {
      this.dirty = false;
      const turn = this.pacer?.slot();
      if (turn) await turn;
      try {
        await this.run();
      } catch (err) {
        // A session deleted between its event and this read is normal; anything else is worth a line.
        this.logger.debug({ err }, 'bus: refresh failed');
      }
    } while (this.dirty && !this.cancelled);
  }
}

/**
 * Bounds how many refreshes start in one event-loop turn: 500 sessions ending their turns together would
 * otherwise run 500 reads (and their payloads) back to back in one macrotask, while HTTP and SSE wait.
 * Past the bound, refreshes wait for a later turn (setImmediate, after I/O), in the order they asked.
 */
export class RefreshPacer {
  private used = 0;
  private readonly waiting: Array<() => void> = [];
  private scheduled = false;

  constructor(private readonly perTurn: number) {}

  /** undefined: start now; otherwise a promise that resolves in the turn this refresh may start in. */
  slot(): Promise<void> | undefined {
    if (this.used < this.perTurn && this.waiting.length === 0) {
      this.used += 1;
      this.schedule();
      return undefined;
    }
    const turn = new Promise<void>((resolve) => this.waiting.push(resolve));
    this.schedule();
    return turn;
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      const released = this.waiting.splice(0, this.perTurn);
      this.used = released.length;
      for (const resolve of released) resolve();
      if (this.used > 0) this.schedule();
    });
  }
}
