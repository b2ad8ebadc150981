import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { StoredEvent } from '../../protocol/events.js';
import type { RawStoredEvent } from '../../protocol/wire-json.js';
import { MemoryBus } from '../../bus/memory.js';
import { openSqliteStore } from '../../store/sqlite/index.js';
import { testSessionRecord } from '../../store/testing/fixtures.js';
import { ForwardingStore } from '../../store/testing/forwarding.js';
import type { CommitEntry, CommitResult, SessionRecord } from '../../store/types.js';
import { batchEvents, type EventBatch } from './pages.js';
import type { EventLog } from './event-log.js';
import type { EventSink, EventSubscription } from './types.js';

/** Shared fixtures of the event-log tests: a real SQLite store on a temp file, wrapped to observe it. */

export function sessionRecord(id: string): SessionRecord {
  const now = new Date().toISOString();
  return testSessionRecord(id, { title: id, created_at: now, updated_at: now, working_dir: '/tmp', permissions: openPermissions });
}

const openPermissions = { allow: [], ask: [], deny: [], policy: 'balanced' as const, auto_approve: false };

/** A Store that forwards to another and lets a test observe or delay calls. */
export class HookedStore extends ForwardingStore {
  readonly commits: CommitEntry[][] = [];
  inFlightCommits = 0;
  maxInFlightCommits = 0;
  beforeCommit: ((entries: CommitEntry[]) => Promise<void>) | undefined;
  /** Wraps every event read (typed or raw: subscriptions read raw rows). */
  readEventsHook: (<T>(read: () => Promise<T>) => Promise<T>) | undefined;

  override async commit(entries: CommitEntry[]): Promise<CommitResult[]> {
    this.commits.push(entries);
    this.inFlightCommits++;
    this.maxInFlightCommits = Math.max(this.maxInFlightCommits, this.inFlightCommits);
    try {
      await this.beforeCommit?.(entries);
      return await this.inner.commit(entries);
    } finally {
      this.inFlightCommits--;
    }
  }
  override readEvents(sessionId: string, afterSeq: number, limit: number): Promise<StoredEvent[]> {
    const read = () => this.inner.readEvents(sessionId, afterSeq, limit);
    return this.readEventsHook ? this.readEventsHook(read) : read();
  }
  override readEventsRaw(sessionId: string, afterSeq: number, limit: number): Promise<RawStoredEvent[]> {
    const read = () => this.inner.readEventsRaw(sessionId, afterSeq, limit);
    return this.readEventsHook ? this.readEventsHook(read) : read();
  }
}

export interface Fixture {
  store: HookedStore;
  bus: MemoryBus;
  dispose: () => Promise<void>;
}

export async function fixture(sessionIds: string[] = ['s1']): Promise<Fixture> {
  const dir = mkdtempSync(join(tmpdir(), 'tower-eventlog-'));
  const store = new HookedStore(openSqliteStore(join(dir, 'tower.db')));
  for (const id of sessionIds) await store.createSession(sessionRecord(id));
  const bus = new MemoryBus();
  return {
    store,
    bus,
    dispose: async () => {
      await bus.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function deferred<T = void>(): { promise: Promise<T>; resolve: (v: T) => void } {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

export const nextTick = (): Promise<void> => new Promise((r) => setImmediate(r));

/**
 * Pulls batches until the subscription has delivered `untilSeq` or ends. Uses `next()` directly: a
 * `for await` with `break` would call `return()` and close the subscription.
 */
export async function collect(sub: EventSubscription, untilSeq: number): Promise<StoredEvent[]> {
  const out: StoredEvent[] = [];
  const it = sub[Symbol.asyncIterator]();
  while (sub.cursor < untilSeq) {
    const r = await it.next();
    if (r.done) break;
    out.push(...r.value);
  }
  return out;
}

/** Deterministic PRNG (mulberry32) so a failing race replays. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A sink that records what it gets; `answer` decides what it tells the subscription after each batch. */
export class Recorder implements EventSink {
  readonly events: StoredEvent[] = [];
  readonly batches: EventBatch[] = [];
  ends: unknown[] = [];
  answer: () => boolean | Promise<unknown> = () => true;
  private waiting: { seq: number; resolve: () => void } | undefined;

  onBatch(batch: EventBatch): boolean | Promise<unknown> {
    this.batches.push(batch);
    this.events.push(...batchEvents(batch));
    const last = this.events[this.events.length - 1];
    if (this.waiting && last && last.seq >= this.waiting.seq) this.waiting.resolve();
    return this.answer();
  }

  onEnd(err?: unknown): void {
    this.ends.push(err);
    this.waiting?.resolve();
  }

  /** Resolves once the sink has seq `seq` (or the subscription ended). */
  until(seq: number): Promise<void> {
    if ((this.events[this.events.length - 1]?.seq ?? 0) >= seq || this.ends.length > 0) return Promise.resolve();
    return new Promise((resolve) => (this.waiting = { seq, resolve }));
  }

  get seqs(): number[] {
    return this.events.map((e) => e.seq);
  }
}

/** An `agent_choice` append carrying `content`. */
export const choice = (content: string) => ({ type: 'agent_choice' as const, data: { content } });

/** `from`..`to`, both included. */
export const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i);

/** Appends `n` events (`e0`, `e1`, …) to `sessionId`, `perTick` of them at a time (one group commit each). */
export async function appendMany(log: EventLog, sessionId: string, n: number, perTick = n): Promise<void> {
  for (let done = 0; done < n; done += perTick) {
    const count = Math.min(perTick, n - done);
    await Promise.all(Array.from({ length: count }, (_, i) => log.append(sessionId, choice(`e${done + i}`))));
  }
}
