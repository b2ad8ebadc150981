import { Counter, type Registry } from 'prom-client';
import type { StoredEvent } from '../../protocol/events.js';

const RESYNC_MS = 60_000;

/**
 * The session total between store reads: read at most once a minute, and moved in between by the
 * committed creates, forks and deletes (imports write no live event, so they show at the next read).
 */
export class SessionCount {
  private base: number | undefined;
  private readAt = 0;
  private delta = 0;

  constructor(private readonly now: () => number = Date.now) {}

  observe(event: StoredEvent): void {
    if (event.type === 'session_created' || event.type === 'session_forked') this.delta += 1;
    else if (event.type === 'session_deleted') this.delta -= 1;
  }

  async total(read: () => Promise<string[]>): Promise<number> {
    if (this.base === undefined || this.now() - this.readAt >= RESYNC_MS) {
      this.delta = 0;
      this.readAt = this.now();
      this.base = (await read()).length;
    }
    return Math.max(0, this.base + this.delta);
  }
}

/** Counters fed by every committed batch (`EventLog.tap`). */
export class EventCounters {
  readonly sessionCount = new SessionCount();
  private readonly appended: Counter<'type'>;
  private readonly turnsStarted: Counter<'model'>;
  private readonly turnsEnded: Counter<'reason'>;
  private readonly tokens: Counter<'model' | 'kind'>;

  constructor(registers: Registry[]) {
    this.appended = new Counter({ name: 'tower_events_appended_total', help: 'Events committed, by type', labelNames: ['type'], registers });
    this.turnsStarted = new Counter({ name: 'tower_turns_started_total', help: 'Turns started, by model', labelNames: ['model'], registers });
    this.turnsEnded = new Counter({ name: 'tower_turns_ended_total', help: 'Turns ended, by stop reason', labelNames: ['reason'], registers });
    this.tokens = new Counter({
      name: 'tower_model_tokens_total', help: 'Tokens by model and kind (input includes cached_input)',
      labelNames: ['model', 'kind'], registers,
    });
  }

  observe(batch: readonly StoredEvent[]): void {
    // One labelled inc per type per batch: prom-client hashes the labels on every call, and a batch of
    // streaming sessions is thousands of agent_choice events.
    const byType = new Map<string, number>();
    for (const event of batch) {
      byType.set(event.type, (byType.get(event.type) ?? 0) + 1);
      this.sessionCount.observe(event);
      if (event.type === 'stream_started') this.turnsStarted.inc({ model: event.data.model });
      else if (event.type === 'stream_stopped') this.turnsEnded.inc({ reason: event.data.reason });
      else if (event.type === 'token_usage') {
        const { model } = event.data;
        this.tokens.inc({ model, kind: 'input' }, count(event.data.input_tokens));
        this.tokens.inc({ model, kind: 'output' }, count(event.data.output_tokens));
        this.tokens.inc({ model, kind: 'cached_input' }, count(event.data.cached_input_tokens));
      }
    }
    for (const [type, n] of byType) this.appended.inc({ type }, n);
  }
}

const count = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : 0);
