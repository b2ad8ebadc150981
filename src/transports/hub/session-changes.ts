import type { StoredEvent } from '../../protocol/events.js';
import type { SessionActivity, SessionChange } from '../../protocol/telemetry.js';

interface Pending {
  confirmations: Set<string>;
  questions: Set<string>;
}

/** The confirmations and questions a running turn has pending now, by id (from the session manager). */
export type PendingOf = (sessionId: string) => { confirmations: readonly string[]; questions: readonly string[] } | undefined;

/**
 * Derives list-row changes from session events (the `sessions` topic), so a dashboard's session list
 * follows creation, deletion, title, star, model, tokens, cost and running/waiting status live instead
 * of polling. Text deltas and tool output change no row and give no frame. Keeps only the pending
 * confirmations and questions of running turns.
 *
 * The hub derives only while someone is subscribed to `sessions`, so the deriver can start in the
 * middle of a turn: a turn it did not see start is seeded from `pendingOf` (the turn's live state) the
 * first time one of its confirmations or questions comes by; adding and removing ids is idempotent, so
 * a seed a little ahead of the event (an answer already in) ends in the same state.
 */
export class SessionChangeDeriver {
  private readonly pending = new Map<string, Pending>();

  constructor(private readonly pendingOf?: PendingOf) {}

  /** Forgets every turn's pending state (derivation stopped; the next start seeds again). */
  reset(): void {
    this.pending.clear();
  }

  /** Most events (text deltas, tool output) change no row: that path builds nothing. */
  derive(e: StoredEvent): SessionChange | undefined {
    switch (e.type) {
      case 'session_created':
        return { ...at(e), title: e.data.title, model: e.data.model, working_dir: e.data.working_dir, status: 'idle', activity: 'idle' };
      case 'session_deleted':
        this.pending.delete(e.session_id);
        return { ...at(e), deleted: true };
      case 'session_title':
        return { ...at(e), title: e.data.title };
      case 'session_updated': {
        const c = at(e);
        if (typeof e.data.title === 'string') c.title = e.data.title;
        if (typeof e.data.starred === 'boolean') c.starred = e.data.starred;
        if (typeof e.data.model === 'string') c.model = e.data.model;
        return c;
      }
      case 'model_changed':
        return { ...at(e), model: e.data.model };
      case 'token_usage':
        return { ...at(e), input_tokens: Number(e.data.total_input_tokens) || 0, output_tokens: Number(e.data.total_output_tokens) || 0, cost: Number(e.data.total_cost) || 0 };
      case 'stream_started':
        this.pending.set(e.session_id, { confirmations: new Set(), questions: new Set() });
        return { ...at(e), status: 'running', activity: 'running' };
      case 'stream_stopped':
        this.pending.delete(e.session_id);
        return { ...at(e), status: 'idle', activity: 'idle' };
      case 'tool_call_confirmation':
        this.turn(e.session_id).confirmations.add(e.data.tool_call_id);
        return { ...at(e), activity: this.activity(e.session_id) };
      case 'tool_call_confirmed':
        this.turn(e.session_id).confirmations.delete(e.data.tool_call_id);
        return { ...at(e), activity: this.activity(e.session_id) };
      case 'elicitation_request':
        this.turn(e.session_id).questions.add(e.data.elicitation_id);
        return { ...at(e), activity: this.activity(e.session_id) };
      case 'elicitation_resolved':
        this.turn(e.session_id).questions.delete(e.data.elicitation_id);
        return { ...at(e), activity: this.activity(e.session_id) };
      case 'user_message':
        // A row's last update moves with the conversation, whatever else changes.
        return at(e);
      default:
        return undefined;
    }
  }

  private turn(id: string): Pending {
    let p = this.pending.get(id);
    if (!p) {
      const now = this.pendingOf?.(id);
      this.pending.set(id, (p = { confirmations: new Set(now?.confirmations), questions: new Set(now?.questions) }));
    }
    return p;
  }

  private activity(id: string): SessionActivity {
    const p = this.pending.get(id);
    if (p?.confirmations.size) return 'waiting_confirmation';
    if (p?.questions.size) return 'waiting_input';
    return 'running';
  }
}

function at(e: StoredEvent): SessionChange {
  return { session_id: e.session_id, seq: e.seq, timestamp: e.timestamp };
}
