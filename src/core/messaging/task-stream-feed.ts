import type { StoredEvent } from '../../protocol/events.js';
import type { TaskStream } from '../../protocol/telemetry.js';
import type { Logger } from '../logger.js';
import { TaskStreamDeriver, type SessionInfo } from './task-stream.js';

export interface TaskStreamFeedDeps {
  /** Sessions whose turn runs in this process now (only their turns are open in the task stream). */
  runningSessions(): string[];
  /** Turns this process has seen start in the session (telemetry's count: the frames' `turn_num`). */
  turnsOf(sessionId: string): number;
  readEvents(sessionId: string, afterSeq: number, limit: number): Promise<StoredEvent[]>;
  lastSeq(sessionId: string): Promise<number | undefined>;
  infoOf(sessionId: string): SessionInfo | undefined;
  publish(frame: TaskStream): void;
  logger: Logger;
}

const PAGE = 500;

/**
 * The task stream, derived only while someone follows it: with no follower no event is looked at. The
 * first follower turns it on, and the open turns of this process are read back from the store (each
 * from its `stream_started`) so its frames carry the same turn context (directive, tokens, thread) as if
 * the deriver had run all along. Events arriving during that read wait and follow it, in order, without
 * repeating what the read covered.
 */
export class TaskStreamFeed {
  private deriver: TaskStreamDeriver | undefined;
  /** While catching up: the batches that arrived meanwhile. */
  private waiting: (readonly StoredEvent[])[] | undefined;

  constructor(private readonly deps: TaskStreamFeedDeps) {}

  get on(): boolean {
    return this.deriver !== undefined;
  }

  /** One tap batch; `following` is whether anyone follows the task stream now. */
  onEvents(events: readonly StoredEvent[], following: boolean): void {
    if (!following) {
      this.deriver = undefined;
      this.waiting = undefined;
      return;
    }
    if (!this.deriver) this.start();
    if (this.waiting) {
      this.waiting.push(events);
      return;
    }
    this.derive(events);
  }

  private derive(events: readonly StoredEvent[]): void {
    const deriver = this.deriver;
    if (!deriver) return;
    for (const e of events) {
      const frame = deriver.derive(e, this.deps.infoOf(e.session_id));
      if (frame) this.deps.publish(frame);
    }
  }

  private start(): void {
    const deriver = new TaskStreamDeriver();
    this.deriver = deriver;
    this.waiting = [];
    const sessions = this.deps.runningSessions();
    void Promise.all(sessions.map((id) => this.catchUp(deriver, id))).then(() => {
      if (this.deriver !== deriver) return;
      const waiting = this.waiting ?? [];
      this.waiting = undefined;
      for (const batch of waiting) this.derive(batch);
    });
  }

  /**
   * Replays the session's open turn (from its last `stream_started`) into the deriver, emitting nothing:
   * only what came before the first of its events the tap handed over since (those follow, emitted).
   */
  private async catchUp(deriver: TaskStreamDeriver, id: string): Promise<void> {
    try {
      const head = await this.deps.lastSeq(id);
      if (head === undefined) return;
      const last = Math.min(head, this.firstWaiting(id) - 1);
      // Back page by page to the turn's start; its user message (the directive) sits right before it.
      let from = last;
      let turn: StoredEvent[] = [];
      for (;;) {
        from = Math.max(0, from - PAGE);
        const page = (await this.deps.readEvents(id, from, PAGE)).filter((e) => e.seq <= last);
        turn = page.concat(turn.filter((e) => e.seq > (page[page.length - 1]?.seq ?? from)));
        const start = turn.findLastIndex((e) => e.type === 'stream_started');
        if (start >= 0) {
          const userAt = turn.slice(0, start).findLastIndex((e) => e.type === 'user_message');
          if (userAt < 0 && from > 0) continue;
          deriver.resume(turn.slice(userAt >= 0 ? userAt : start), this.deps.turnsOf(id));
          break;
        }
        if (from === 0) break;
      }
    } catch (err) {
      this.deps.logger.warn({ err, session_id: id }, 'task stream: catching up an open turn failed; its frames lack context');
    }
  }

  private firstWaiting(id: string): number {
    for (const batch of this.waiting ?? []) for (const e of batch) if (e.session_id === id) return e.seq;
    return Infinity;
  }
}
