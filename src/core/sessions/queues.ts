import { createHash, randomUUID } from 'node:crypto';
import { z } from 'zod';
import { QueueItem, type QueueState } from '../../protocol/api.js';
import type { QueueName } from '../../protocol/events.js';
import type { Store } from '../../store/types.js';
import { silentLogger, type Logger } from '../logger.js';

export const STEER_CAPACITY = 5;
export const FOLLOWUP_CAPACITY = 20;
/** Idempotency keys remembered per session (cagent keeps 256). */
export const IDEMPOTENCY_MEMORY = 256;

const STATE_KEY = { steer: 'queue:steer', followup: 'queue:followup', keys: 'idempotency_keys' } as const;
/** State rows that mean "this session has queued work". */
export const QUEUE_STATE_KEYS = [STATE_KEY.steer, STATE_KEY.followup];

/** A remembered key and the fingerprint of the request it came with (absent for keys stored before). */
export interface RememberedKey {
  key: string;
  fingerprint?: string;
}

/** A session's queued messages and remembered idempotency keys. */
export interface QueueSet {
  steer: QueueItem[];
  followup: QueueItem[];
  keys: RememberedKey[];
}

const QueueList = z.array(QueueItem);
// Keys were stored as bare strings before they carried a fingerprint.
const KeyList = z.array(
  z.union([
    z.string().transform((key): RememberedKey => ({ key })),
    z.object({ key: z.string(), fingerprint: z.string().optional() }).transform((k): RememberedKey =>
      k.fingerprint === undefined ? { key: k.key } : { key: k.key, fingerprint: k.fingerprint },
    ),
  ]),
);

/**
 * Durable per-session queues. The in-memory copy is the authority while Tower runs: every change is made
 * to it synchronously (so concurrent calls never lose an update), and its new value is written in the
 * same transaction as the event that announces the change (see `stateOf`).
 *
 * Copies are kept only while someone uses them: every user pins the session (`use`, `pin`), and when the
 * last pin goes an idle copy (empty queues) is evicted, so memory follows the busy sessions, not all of
 * them. A pinned copy is never evicted, so no holder can ever work on a stale one.
 */
export class SessionQueues {
  private readonly sets = new Map<string, Promise<QueueSet>>();
  private readonly resolved = new Map<string, QueueSet>();
  private readonly pins = new Map<string, number>();

  constructor(
    private readonly store: Store,
    private readonly logger: Logger = silentLogger,
  ) {}

  /** Loads a session's queues once; concurrent callers share the load. Prefer `use` or `pin` with it. */
  load(sessionId: string): Promise<QueueSet> {
    let set = this.sets.get(sessionId);
    if (!set) {
      set = this.read(sessionId);
      this.sets.set(sessionId, set);
      set.then(
        (value) => {
          if (this.sets.get(sessionId) === set) this.resolved.set(sessionId, value);
          this.evictIfIdle(sessionId);
        },
        () => {
          if (this.sets.get(sessionId) === set) this.sets.delete(sessionId);
        },
      );
    }
    return set;
  }

  /** Keeps the session's copy in memory until the returned release is called (once). */
  pin(sessionId: string): () => void {
    this.pins.set(sessionId, (this.pins.get(sessionId) ?? 0) + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.pins.get(sessionId) ?? 1) - 1;
      if (left > 0) this.pins.set(sessionId, left);
      else {
        this.pins.delete(sessionId);
        this.evictIfIdle(sessionId);
      }
    };
  }

  /** Runs `fn` with the session's queues pinned. */
  async use<T>(sessionId: string, fn: (set: QueueSet) => Promise<T> | T): Promise<T> {
    const release = this.pin(sessionId);
    try {
      return await fn(await this.load(sessionId));
    } finally {
      release();
    }
  }

  forget(sessionId: string): void {
    this.sets.delete(sessionId);
    this.resolved.delete(sessionId);
  }

  /** Sessions whose copy is in memory now (diagnostics, tests of eviction). */
  get cached(): number {
    return this.sets.size;
  }

  /** Sessions with queued work, in one store query: what start-up drains. */
  static pendingSessions(store: Store): Promise<string[]> {
    return store.listSessionsWithState(QUEUE_STATE_KEYS);
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

  /** A stable digest of a request, so a retried key can be told from a reused one. */
  static fingerprint(contents: readonly string[]): string {
    return createHash('sha256').update(JSON.stringify(contents)).digest('base64url');
  }

  static findKey(set: QueueSet, key: string): RememberedKey | undefined {
    return set.keys.find((k) => k.key === key);
  }

  static remember(set: QueueSet, key: string, fingerprint?: string): void {
    set.keys.push(fingerprint === undefined ? { key } : { key, fingerprint });
    if (set.keys.length > IDEMPOTENCY_MEMORY) set.keys.splice(0, set.keys.length - IDEMPOTENCY_MEMORY);
  }

  static forgetKey(set: QueueSet, key: string): void {
    for (let i = set.keys.length - 1; i >= 0; i--) {
      if (set.keys[i]?.key === key) {
        set.keys.splice(i, 1);
        return;
      }
    }
  }

  static describe(set: QueueSet): QueueState {
    return {
      steer: { depth: set.steer.length, capacity: STEER_CAPACITY, items: [...set.steer] },
      followup: { depth: set.followup.length, capacity: FOLLOWUP_CAPACITY, items: [...set.followup] },
    };
  }

  private evictIfIdle(sessionId: string): void {
    if (this.pins.has(sessionId)) return;
    const set = this.resolved.get(sessionId);
    if (!set || set.steer.length || set.followup.length) return;
    this.sets.delete(sessionId);
    this.resolved.delete(sessionId);
  }

  private async read(sessionId: string): Promise<QueueSet> {
    const [steer, followup, keys] = await Promise.all([
      this.store.getState(sessionId, STATE_KEY.steer),
      this.store.getState(sessionId, STATE_KEY.followup),
      this.store.getState(sessionId, STATE_KEY.keys),
    ]);
    return {
      steer: this.parse(sessionId, STATE_KEY.steer, steer, QueueList) ?? [],
      followup: this.parse(sessionId, STATE_KEY.followup, followup, QueueList) ?? [],
      keys: this.parse(sessionId, STATE_KEY.keys, keys, KeyList) ?? [],
    };
  }

  /** Durable JSON is parsed with its schema; a row that does not match is logged and read as empty. */
  private parse<T>(sessionId: string, key: string, raw: string | undefined, schema: z.ZodType<T>): T | undefined {
    if (raw === undefined) return undefined;
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch {
      value = Symbol('not JSON');
    }
    const parsed = schema.safeParse(value);
    if (parsed.success) return parsed.data;
    this.logger.warn({ session_id: sessionId, key }, 'stored queue state does not match its schema; read as empty');
    return undefined;
  }
}
