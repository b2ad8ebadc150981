import type { StoredEvent } from '../../protocol/events.js';
import type { Telemetry } from '../../protocol/telemetry.js';

interface Entry {
  t: Telemetry;
  runningSince: number | undefined;
  closedSec: number;
  lastSent: number;
  timer: NodeJS.Timeout | undefined;
}

/** Most sessions tracked; the least recently changed is dropped beyond it. */
const MAX_SESSIONS = 10_000;
/** The event types `apply` reads (its switch's cases). */
const TRACKED: ReadonlySet<StoredEvent['type']> = new Set<StoredEvent['type']>([
  'session_created', 'session_title', 'session_updated', 'stream_started', 'token_usage', 'stream_stopped',
]);

/**
 * Per-session telemetry folded from session events (turns, tokens, cost, status, time spent in turns),
 * published on change at most once per `intervalMs` per session (the last change always goes out).
 */
export class TelemetryTracker {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly publish: (t: Telemetry) => void,
    private readonly intervalMs = 1000,
    private readonly now: () => number = Date.now,
  ) {}

  /** Seeds a session known from the store (totals survive restarts; turn counts start again). */
  seed(session: { id: string; title: string; input_tokens: number; output_tokens: number; cost: number }): void {
    if (this.entries.has(session.id)) return;
    const e = this.entry(session.id);
    Object.assign(e.t, { title: session.title, tokens_in: session.input_tokens, tokens_out: session.output_tokens, cost: session.cost });
  }

  apply(event: StoredEvent): void {
    if (event.type === 'session_deleted') {
      const gone = this.entries.get(event.session_id);
      if (gone?.timer) clearTimeout(gone.timer);
      this.entries.delete(event.session_id);
      return;
    }
    // Every event of the process passes here, text deltas included: those change no telemetry and
    // cost nothing beyond this check (no entry lookup, no timestamp parse).
    if (!TRACKED.has(event.type)) return;
    const e = this.entry(event.session_id);
    switch (event.type) {
      case 'session_created':
      case 'session_title':
      case 'session_updated':
        if (event.data.title !== undefined) e.t.title = event.data.title;
        else return;
        break;
      case 'stream_started':
        e.t.turns += 1;
        e.t.status = 'running';
        e.runningSince = Date.parse(event.timestamp);
        break;
      case 'token_usage':
        e.t.tokens_in = event.data.total_input_tokens || e.t.tokens_in;
        e.t.tokens_out = event.data.total_output_tokens || e.t.tokens_out;
        e.t.cost = event.data.total_cost || e.t.cost;
        break;
      case 'stream_stopped': {
        const reason = event.data.reason;
        e.t.status = reason === 'error' ? 'error' : reason === 'canceled' ? 'canceled' : 'completed';
        if (e.runningSince !== undefined) e.closedSec += Math.max(0, (Date.parse(event.timestamp) - e.runningSince) / 1000);
        e.runningSince = undefined;
        break;
      }
      default:
        return;
    }
    e.t.duration_sec = Math.round(e.closedSec);
    // Most recently changed last, so the oldest is first to go.
    this.entries.delete(event.session_id);
    this.entries.set(event.session_id, e);
    this.trim();
    this.schedule(e);
  }

  /** Turns this process saw start in the session. */
  turnsOf(sessionId: string): number {
    return this.entries.get(sessionId)?.t.turns ?? 0;
  }

  snapshot(): Telemetry[] {
    const now = this.now();
    return [...this.entries.values()].map((e) => ({
      ...e.t,
      duration_sec: Math.round(e.closedSec + (e.runningSince !== undefined ? Math.max(0, now - e.runningSince) / 1000 : 0)),
    }));
  }

  close(): void {
    for (const e of this.entries.values()) if (e.timer) clearTimeout(e.timer);
  }

  private schedule(e: Entry): void {
    if (e.timer) return;
    const wait = e.lastSent + this.intervalMs - this.now();
    if (wait <= 0) {
      e.lastSent = this.now();
      this.publish({ ...e.t });
      return;
    }
    e.timer = setTimeout(() => {
      e.timer = undefined;
      e.lastSent = this.now();
      this.publish({ ...e.t });
    }, wait);
    e.timer.unref();
  }

  private entry(id: string): Entry {
    let e = this.entries.get(id);
    if (!e) {
      e = {
        t: { instance_id: id, pid: process.pid, title: '', turns: 0, tokens_in: 0, tokens_out: 0, cost: 0, status: 'idle', duration_sec: 0 },
        runningSince: undefined,
        closedSec: 0,
        lastSent: -Infinity,
        timer: undefined,
      };
      this.entries.set(id, e);
    }
    return e;
  }

  private trim(): void {
    while (this.entries.size > MAX_SESSIONS) {
      const [oldest, e] = this.entries.entries().next().value as [string, Entry];
      if (e.timer) clearTimeout(e.timer);
      this.entries.delete(oldest);
    }
  }
}
