import type { StoredEvent } from '../../protocol/events.js';
import type { SessionActivity, SessionChange } from '../../protocol/telemetry.js';

interface Pending {
  confirmations: Set<string>;
  questions: Set<string>;
}

/**
 * Derives list-row changes from session events (the `sessions` topic), so a dashboard's session list
 * follows creation, deletion, title, star, model, tokens, cost and running/waiting status live instead
 * of polling. Text deltas and tool output change no row and give no frame. Keeps only the pending
 * confirmations and questions of running turns.
 */
export class SessionChangeDeriver {
  private readonly pending = new Map<string, Pending>();

  derive(e: StoredEvent): SessionChange | undefined {
    // The per-token types first, before anything is allocated: every event of the process passes here.
    if (e.type === 'agent_choice' || e.type === 'agent_choice_reasoning' || e.type === 'tool_call_output') return undefined;
    const base = { session_id: e.session_id, seq: e.seq, timestamp: e.timestamp };
    switch (e.type) {
      case 'session_created':
        return { ...base, title: e.data.title, model: e.data.model, working_dir: e.data.working_dir, status: 'idle', activity: 'idle' };
      case 'session_deleted':
        this.pending.delete(e.session_id);
        return { ...base, deleted: true };
      case 'session_title':
        return { ...base, title: e.data.title };
      case 'session_updated': {
        const c: SessionChange = { ...base };
        if (typeof e.data.title === 'string') c.title = e.data.title;
        if (typeof e.data.starred === 'boolean') c.starred = e.data.starred;
        if (typeof e.data.model === 'string') c.model = e.data.model;
        return c;
      }
      case 'model_changed':
        return { ...base, model: e.data.model };
      case 'token_usage':
        return { ...base, input_tokens: Number(e.data.total_input_tokens) || 0, output_tokens: Number(e.data.total_output_tokens) || 0, cost: Number(e.data.total_cost) || 0 };
      case 'stream_started':
        this.pending.set(e.session_id, { confirmations: new Set(), questions: new Set() });
        return { ...base, status: 'running', activity: 'running' };
      case 'stream_stopped':
        this.pending.delete(e.session_id);
        return { ...base, status: 'idle', activity: 'idle' };
      case 'tool_call_confirmation':
        this.turn(e.session_id).confirmations.add(e.data.tool_call_id);
        return { ...base, activity: this.activity(e.session_id) };
      case 'tool_call_confirmed':
        this.turn(e.session_id).confirmations.delete(e.data.tool_call_id);
        return { ...base, activity: this.activity(e.session_id) };
      case 'elicitation_request':
        this.turn(e.session_id).questions.add(e.data.elicitation_id);
        return { ...base, activity: this.activity(e.session_id) };
      case 'elicitation_resolved':
        this.turn(e.session_id).questions.delete(e.data.elicitation_id);
        return { ...base, activity: this.activity(e.session_id) };
      case 'user_message':
        // A row's last update moves with the conversation, whatever else changes.
        return base;
      default:
        return undefined;
    }
  }

  private turn(id: string): Pending {
    let p = this.pending.get(id);
    if (!p) this.pending.set(id, (p = { confirmations: new Set(), questions: new Set() }));
    return p;
  }

  private activity(id: string): SessionActivity {
    const p = this.pending.get(id);
    if (p?.confirmations.size) return 'waiting_confirmation';
    if (p?.questions.size) return 'waiting_input';
    return 'running';
  }
}
