import type pg from 'pg';
import type { Logger } from '../../core/logger.js';
import { QUEUE_STATE_KEYS } from '../../core/sessions/queues.js';
import type { SessionManager } from '../../core/sessions/index.js';
import { unownedSessions } from '../../store/postgres/index.js';

const OPEN_TURN = 'active_turn';

/**
 * Finds sessions a dead node left behind and takes them over (issue 15). Every `pollMs` it asks the
 * store for sessions with an open turn (`active_turn`) or queued work and no live lease; the session
 * manager then recovers each one under its lease (`stream_stopped {reason: server_restart}`, dangling
 * tool calls answered) and delivers its queue. The lease makes that happen on exactly one node. A
 * session with only queued work must be seen unowned at two polls in a row: a healthy node that has just
 * queued a follow-up on an idle session takes the lease a moment later, and is left to do so.
 */
export class TakeoverPoller {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private queuedBefore = new Set<string>();

  constructor(
    private readonly pool: pg.Pool,
    private readonly manager: SessionManager,
    private readonly logger: Logger,
    private readonly pollMs: number,
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.poll(), this.pollMs);
    this.timer.unref();
  }

  /** One look (the timer's; callable directly). Overlapping calls share the running one. */
  poll(): Promise<void> {
    this.running ??= this.pollOnce()
      .catch((err: unknown) => this.logger.warn({ err }, 'takeover poll failed'))
      .finally(() => {
        this.running = undefined;
      });
    return this.running;
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  private async pollOnce(): Promise<void> {
    const rows = await unownedSessions(this.pool, [OPEN_TURN, ...QUEUE_STATE_KEYS]);
    const due: string[] = [];
    const queued = new Set<string>();
    for (const row of rows) {
      if (this.manager.active.turn(row.session_id)) continue;
      if (row.keys.includes(OPEN_TURN)) due.push(row.session_id);
      else {
        queued.add(row.session_id);
        if (this.queuedBefore.has(row.session_id)) due.push(row.session_id);
      }
    }
    this.queuedBefore = queued;
    if (due.length === 0) return;
    const closed = await this.manager.takeOver(due);
    if (closed.length > 0) this.logger.warn({ sessions: closed }, 'took over sessions of a node that stopped');
  }
}
