import { randomUUID } from 'node:crypto';
import type { QueueItem, QueueState } from '../../protocol/api.js';
import type { QueueName } from '../../protocol/events.js';
import type { Store } from '../../store/types.js';

export const STEER_CAPACITY = 5;
export const FOLLOWUP_CAPACITY = 20;
/** Idempotency keys remembered per session (cagent keeps 256). */
export const IDEMPOTENCY_MEMORY = 256;

const STATE_KEY = { steer: 'queue:steer', followup: 'queue:followup', keys: 'idempotency_keys' } as const;

/** A session's queued messages and remembered idempotency keys. */
export interface QueueSet {
  steer: QueueItem[];
  followup: QueueItem[];
  keys: string[];
}

/**
 * Durable per-session queues. The in-memory copy is the authority while Tower runs: every change is made
 * to it synchronously (so concurrent calls never lose an update), and its new value is written in the
 * same transaction as the event that announces the change (see `stateOf`).
 */
export class SessionQueues {
  private readonly sets = new Map<string, Promise<QueueSet>>();

  constructor(private readonly store: Store) {}

  /** Loads a session's queues once; concurrent callers share the load. */
  load(sessionId: string): Promise<QueueSet> {
    let set = this.sets.get(sessionId);
    if (!set) {
      set = this.read(sessionId);
      this.sets.set(sessionId, set);
      set.catch(() => this.sets.delete(sessionId));
    }
    return set;
  }

  forget(sessionId: string): void {
    this.sets.delete(sessionId);
  }

  static newItems(contents: string[]): QueueItem[] {
    const now = new Date().toISOString();
    return contents.map((content) => ({ item_id: `q_${randomUUID().slice(0, 12)}`, content, queued_at: now }));
  }

  /** The state rows that persist `set` (what a commit's `state` effect writes). */
  static stateOf(set: QueueSet, which: Array<QueueName | 'keys'>): Record<string, string | null> {
    const out: Record<string, string | null> = {};
    for (const name of which) {
      const value = name === 'keys' ? set.keys : set[name];
      out[STATE_KEY[name]] = value.length ? JSON.stringify(value) : null;
    }
    return out;
  }

  static remember(set: QueueSet, key: string): void {
    set.keys.push(key);
    if (set.keys.length > IDEMPOTENCY_MEMORY) set.keys.splice(0, set.keys.length - IDEMPOTENCY_MEMORY);
  }

  static forgetKey(set: QueueSet, key: string): void {
    const i = set.keys.lastIndexOf(key);
    if (i >= 0) set.keys.splice(i, 1);
  }

  static describe(set: QueueSet): QueueState {
    return {
      steer: { depth: set.steer.length, capacity: STEER_CAPACITY, items: [...set.steer] },
      followup: { depth: set.followup.length, capacity: FOLLOWUP_CAPACITY, items: [...set.followup] },
    };
  }

  private async read(sessionId: string): Promise<QueueSet> {
    const [steer, followup, keys] = await Promise.all([
      this.store.getState(sessionId, STATE_KEY.steer),
      this.store.getState(sessionId, STATE_KEY.followup),
      this.store.getState(sessionId, STATE_KEY.keys),
    ]);
    return {
      steer: parseList<QueueItem>(steer),
      followup: parseList<QueueItem>(followup),
      keys: parseList<string>(keys),
    };
  }
}

function parseList<T>(raw: string | undefined): T[] {
  if (!raw) return [];
  try {
    const value: unknown = JSON.parse(raw);
    return Array.isArray(value) ? (value as T[]) : [];
  } catch {
    return [];
  }
}
