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
      try {
        await this.run();
      } catch (err) {
        // A session deleted between its event and this read is normal; anything else is worth a line.
        this.logger.debug({ err }, 'bus: refresh failed');
      }
    } while (this.dirty && !this.cancelled);
  }
}
