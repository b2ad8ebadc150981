import { createHash, randomUUID } from 'node:crypto';
import { z } from 'zod';
import { QueueItem, type QueueState } from '../../protocol/api.js';
import { TowerError } from '../../protocol/errors.js';
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
/** How often a queue change is tried when another writer (another node) keeps changing the same rows. */
export const QUEUE_CHANGE_ATTEMPTS = 5;
/** How often a reload reads again because this node wrote while it read. */
const RELOAD_ATTEMPTS = 5;

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

/** A queue write's commit effects: the new rows and, per row, the value this node expects it to hold now. */
export interface QueueEffects {
  state: Record<string, string | null>;
  expect_state: Record<string, string | null>;
}

/** What this node knows of a loaded set's rows in the store, for compare-and-set writes. */
interface SyncState {
  /** Raw row values this node last read or wrote, by state key (null: absent). */
  stored: Record<string, string | null>;
  /** Bumped by every write: a reload that overlapped one reads again. */
  writes: number;
  /** Bumped by every reload: a rollback after one would undo the store's values, not this node's. */
  reloads: number;
  inflight: Set<Promise<unknown>>;
}

/**
 * A queue write failed because the rows no longer hold what this node expected: another writer (another
 * node on the same database) changed them. The store reports it as `conflict` naming the row.
 */
export function isQueueConflict(err: unknown): boolean {
  if (!(err instanceof TowerError) || err.code !== 'conflict') return false;
  const key = (err.details as { key?: unknown } | undefined)?.key;
  return typeof key === 'string' && (Object.values(STATE_KEY) as string[]).includes(key);
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
 * Durable per-session queues. Every change is made to the in-memory copy synchronously (so concurrent
 * calls on this node never lose an update), and its new value is written in the same transaction as the
 * event that announces the change (`commit`, `guard`). Each write is a compare-and-set: it carries the
 * value this node last read or wrote for each row, so a write from another node in between (a cluster on
 * one database) fails it with `conflict` instead of being overwritten. `change` then reloads the copy
 * from the store and runs the operation again, up to `QUEUE_CHANGE_ATTEMPTS` times.
 *
 * Copies are kept only while someone uses them: every user pins the session (`use`, `pin`), and when the
 * last pin goes an idle copy (empty queues) is evicted, so memory follows the busy sessions, not all of
 * them. A pinned copy is never evicted, so no holder can ever work on a stale one.
 */
export class SessionQueues {
  private readonly sets = new Map<string, Promise<QueueSet>>();
  private readonly resolved = new Map<string, QueueSet>();
  private readonly pins = new Map<string, number>();
  private readonly sync = new WeakMap<QueueSet, SyncState>();
  private readonly reloading = new Map<string, Promise<void>>();

  /**
   * `shared`: other nodes write the same rows (a cluster). Then no copy outlives its last pin (the next
   * user reads the store again), and whoever decides "the queue is empty" reloads first.
   */
  constructor(
    private readonly store: Store,
    private readonly logger: Logger = silentLogger,
    readonly shared = false,
  ) {}

  /** Loads a session's queues once; concurrent callers share the load. Prefer `use` or `pin` with it. */
  load(sessionId: string): Promise<QueueSet> {
    const shared = this.sets.get(sessionId);
    // A load this caller joined that fails is the failure of whoever started it: read again, once.
    if (shared) return shared.catch(() => this.loadOnce(sessionId));
    return this.loadOnce(sessionId);
  }

  private loadOnce(sessionId: string): Promise<QueueSet> {
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

  /**
   * Runs a queue change (`fn` reads the set, changes it and commits with `commit`); when a write meets
   * another writer's change (`isQueueConflict`), reloads the set from the store and runs `fn` again.
   * After `QUEUE_CHANGE_ATTEMPTS` conflicts the last one is thrown.
   */
  async change<T>(sessionId: string, fn: (set: QueueSet) => Promise<T> | T): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.use(sessionId, fn);
      } catch (err) {
        if (!isQueueConflict(err) || attempt >= QUEUE_CHANGE_ATTEMPTS) throw err;
        this.logger.info({ session_id: sessionId, attempt }, 'queue changed elsewhere; reloading it and trying again');
        await this.reload(sessionId);
      }
    }
  }

  /**
   * The commit effects that persist `which` of `set`, guarded by what this node expects the rows to hold.
   * Call it in the same tick as the change and hand the effects to the append that announces it.
   */
  guard(set: QueueSet, which: Array<QueueName | 'keys'>): QueueEffects {
    const sync = this.syncOf(set);
    const state = SessionQueues.stateOf(set, which);
    const expect_state: Record<string, string | null> = {};
    for (const key of Object.keys(state)) expect_state[key] = sync.stored[key] ?? null;
    // Writes this node sends after this one expect its result: they are committed in order after it.
    Object.assign(sync.stored, state);
    sync.writes += 1;
    return { state, expect_state };
  }

  /**
   * Commits a change of `set` made just before (same tick): `send` appends the announcing event with the
   * guarded effects. If it fails, `rollback` undoes the change in memory, unless the set was reloaded from
   * the store meanwhile (then memory already holds what the store has).
   */
  async commit<T>(set: QueueSet, which: Array<QueueName | 'keys'>, send: (effects: QueueEffects) => Promise<T>, rollback: () => void): Promise<T> {
    const sync = this.syncOf(set);
    const before = { ...sync.stored };
    const { reloads } = sync;
    const effects = this.guard(set, which);
    const writes = sync.writes;
    const pending = send(effects);
    sync.inflight.add(pending);
    try {
      return await pending;
    } catch (err) {
      if (sync.reloads === reloads) {
        rollback();
        // Nothing written: expect the old rows again, unless a later write already builds on this one.
        if (sync.writes === writes) sync.stored = before;
      }
      throw err;
    } finally {
      sync.inflight.delete(pending);
    }
  }

  /**
   * Reads the session's rows again into its loaded copy (in place, so every holder sees them), once the
   * writes this node has in flight for it have settled. Concurrent calls share one reload.
   */
  reload(sessionId: string): Promise<void> {
    let running = this.reloading.get(sessionId);
    if (!running) {
      running = this.reloadNow(sessionId).finally(() => this.reloading.delete(sessionId));
      this.reloading.set(sessionId, running);
    }
    return running;
  }

  private async reloadNow(sessionId: string): Promise<void> {
    // Not loaded yet (or loading): the load reads the store anyway.
    const set = this.resolved.get(sessionId);
    if (!set) return;
    const sync = this.syncOf(set);
    for (let attempt = 0; attempt < RELOAD_ATTEMPTS; attempt++) {
      while (sync.inflight.size > 0) await Promise.allSettled([...sync.inflight]);
      const writes = sync.writes;
      const { value, stored } = await this.readRows(sessionId);
      // A write started while we read: what we read may miss it, so read again.
      if (sync.writes !== writes || sync.inflight.size > 0) continue;
      set.steer.splice(0, set.steer.length, ...value.steer);
      set.followup.splice(0, set.followup.length, ...value.followup);
      set.keys.splice(0, set.keys.length, ...value.keys);
      sync.stored = stored;
      sync.reloads += 1;
      return;
    }
    this.logger.warn({ session_id: sessionId }, 'queue kept changing while it was reloaded; keeping the copy in memory');
  }

  private syncOf(set: QueueSet): SyncState {
    const sync = this.sync.get(set);
    if (!sync) throw new TowerError('internal', 'queue set was not loaded by SessionQueues');
    return sync;
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
    if (!set || (!this.shared && (set.steer.length || set.followup.length))) return;
    this.sets.delete(sessionId);
    this.resolved.delete(sessionId);
  }

  private async read(sessionId: string): Promise<QueueSet> {
    const { value, stored } = await this.readRows(sessionId);
    this.sync.set(value, { stored, writes: 0, reloads: 0, inflight: new Set() });
    return value;
  }

  private async readRows(sessionId: string): Promise<{ value: QueueSet; stored: Record<string, string | null> }> {
    const [steer, followup, keys] = await Promise.all([
      this.store.getState(sessionId, STATE_KEY.steer),
      this.store.getState(sessionId, STATE_KEY.followup),
      this.store.getState(sessionId, STATE_KEY.keys),
    ]);
    const value: QueueSet = {
      steer: this.parse(sessionId, STATE_KEY.steer, steer, QueueList) ?? [],
      followup: this.parse(sessionId, STATE_KEY.followup, followup, QueueList) ?? [],
      keys: this.parse(sessionId, STATE_KEY.keys, keys, KeyList) ?? [],
    };
    const stored = { [STATE_KEY.steer]: steer ?? null, [STATE_KEY.followup]: followup ?? null, [STATE_KEY.keys]: keys ?? null };
    return { value, stored };
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
