import type { Logger } from 'pino';
import { TowerError } from '../../protocol/errors.js';
import type { StoredEvent } from '../../protocol/events.js';
import type { CommitEntry, CommitResult, Store } from '../../store/types.js';
import { CommitDoubts } from './commit-doubts.js';
import { encodeEntry } from './encode.js';

/** How one added entry is told its outcome: the error, or (with `err` undefined) its result. */
export type AddCallback = (err: unknown, result?: CommitResult) => void;

/**
 * Entries committed together atomically: never split across transactions. A single entry added with a
 * callback (`addWith`, the per-token path) carries `one`; promise adds carry `group`. `settled` replaces
 * a set of settled groups; `waiters` are `settled()` calls waiting on this group (made only on demand).
 */
interface Pending {
  entries: CommitEntry[];
  one: AddCallback | undefined;
  group: ((err: unknown, results?: CommitResult[]) => void) | undefined;
  settled: boolean;
  waiters: Array<() => void> | undefined;
}

export interface GroupCommitLimits {
  /** Entries per transaction (a group larger than this commits alone). Default 2000. */
  maxBatch?: number;
  /** Entries waiting for a commit before `add` refuses with `rate_limited`. Default 50 000. */
  maxWaiting?: number;
  /** Serialised bytes of one entry (event data plus messages). Default 8 MiB. */
  maxEntryBytes?: number;
  /** Events per publish call: a bigger batch is published in slices, a macrotask turn apart. Default 512. */
  publishSlice?: number;
  /** Back-to-back commits for this long (ms) give the event loop one macrotask turn. Default 5. */
  drainSliceMs?: number;
}

/** Back-to-back commits for this long (ms) give the event loop one macrotask turn before the next. */
const DRAIN_SLICE_MS = 5;

/**
 * Collects entries and commits them in batches: everything added in one tick shares one transaction,
 * and entries added while a commit is in flight form the next batch. One drain loop runs at a time, so
 * batches commit and publish strictly in order (the next batch's commit overlapping this one's publish,
 * see `drain`), which is what keeps each session's seqs in order on the bus. Every added entry is
 * settled, whatever the store does.
 */
export class GroupCommit {
  private pending: Pending[] = [];
  private waiting = 0;
  private scheduled = false;
  private draining = false;
  /**
   * The group added last: `settled()` waits for it; batches are ordered, so that means all of them. A
   * reference, not a promise chain per add.
   */
  private last: Pending | undefined;
  private readonly maxBatch: number;
  private readonly maxWaiting: number;
  private readonly maxEntryBytes: number;
  private readonly publishSlice: number;
  private readonly drainSliceMs: number;
  /** Sessions of commits of unknown outcome, re-read by their subscribers once the store answers. */
  private readonly doubts: CommitDoubts;

  constructor(
    private readonly store: Store,
    /** `dataJson[i]` is `events[i]`'s payload as the store wrote it (`encodeEntry`), for the bus. */
    private readonly publish: (events: StoredEvent[], dataJson: Array<string | undefined>) => Promise<void>,
    private readonly logger: Logger,
    limits: GroupCommitLimits = {},
    /**
     * Told the sessions whose events may have been stored without being published, once the store
     * answers again: their subscribers read the store from their cursors (they de-duplicate by seq).
     */
    recheck: (sessionIds: readonly string[]) => void = () => undefined,
  ) {
    this.maxBatch = limits.maxBatch ?? 2000;
    this.maxWaiting = limits.maxWaiting ?? 50_000;
    this.maxEntryBytes = limits.maxEntryBytes ?? 8 * 1024 * 1024;
    this.publishSlice = Math.max(1, limits.publishSlice ?? 512);
    this.drainSliceMs = limits.drainSliceMs ?? DRAIN_SLICE_MS;
    this.doubts = new CommitDoubts(store, recheck, logger);
  }

  /** Entries waiting for a commit (including the batch in flight). */
  get depth(): number {
    return this.waiting;
  }

  /** One entry: resolved with its result straight from the batch (no second promise per append). */
  add(entry: CommitEntry): Promise<CommitResult> {
    return new Promise<CommitResult>((resolve, reject) => {
      this.addWith(entry, (err, result) => (result ? resolve(result) : reject(err)));
    });
  }

  /**
   * One entry, its outcome passed to `done` (never synchronously, exactly once): the token path, with no
   * promise, closure or chain per append. `err` is undefined exactly when `result` is given.
   */
  addWith(entry: CommitEntry, done: AddCallback): void {
    const refused = this.refusal([entry]);
    if (refused !== undefined) queueMicrotask(() => done(refused));
    else this.enqueue({ entries: [entry], one: done, group: undefined, settled: false, waiters: undefined });
  }

  /**
   * Adds entries that commit in one transaction or not at all. Each is serialised and size-checked here,
   * before it joins a batch: an entry that cannot be stored fails this call only.
   */
  addGroup(entries: CommitEntry[]): Promise<CommitResult[]> {
    const refused = this.refusal(entries);
    if (refused !== undefined) return Promise.reject(refused);
    return new Promise<CommitResult[]>((resolve, reject) => {
      const group = (err: unknown, results?: CommitResult[]): void => (results ? resolve(results) : reject(err));
      this.enqueue({ entries, one: undefined, group, settled: false, waiters: undefined });
    });
  }

  /** Encodes the entries; the error that refuses them (too big, not JSON, too many waiting), if any. */
  private refusal(entries: CommitEntry[]): unknown {
    try {
      for (const entry of entries) entry.encoded = encodeEntry(entry, this.maxEntryBytes);
    } catch (err) {
      return err ?? new TowerError('internal', 'entry encoding failed');
    }
    if (this.waiting + entries.length > this.maxWaiting && this.waiting > 0) {
      return new TowerError('rate_limited', `${this.waiting} appends are waiting for the store; retry shortly`);
    }
    return undefined;
  }

  private enqueue(p: Pending): void {
    this.waiting += p.entries.length;
    this.pending.push(p);
    this.last = p;
    this.schedule();
  }

  /** Stops looking at the store for doubtful commits (the store is about to close). */
  close(): void {
    this.doubts.close();
  }

  /** Resolves once everything added so far is committed and published (or has failed). */
  settled(): Promise<void> {
    const last = this.last;
    if (!last || last.settled) return Promise.resolve();
    return new Promise<void>((resolve) => (last.waiters ??= []).push(resolve));
  }

  private schedule(): void {
    if (this.scheduled || this.draining) return;
    this.scheduled = true;
    setImmediate(() => void this.drain());
  }

  /**
   * The pipeline: as soon as batch N's commit returns, batch N+1 (what arrived meanwhile) goes to the
   * store, and only then is N published and settled. With the SQLite writer thread (or a network
   * store) N+1's commit runs while the loop publishes N, so one cycle costs the longer of the two, not
   * their sum. At most one commit is in flight, and a batch is published only after the one before it
   * is fully published and settled: commit order, publish order and settle-after-publish are kept.
   * N+1 is sent only once N is committed, so N's culprit isolation (which commits its groups again, one
   * by one) never lands behind N+1's entries: each session's appends keep their order in the log.
   */
  private async drain(): Promise<void> {
    this.scheduled = false;
    this.draining = true;
    try {
      let sliceStart = performance.now();
      let committing: Promise<Outcome> | undefined;
      let taken: Pending[] = [];
      do {
        while (committing || this.pending.length > 0) {
          // A writer that appends again as soon as its commit settles keeps this loop in promise reactions
          // (commit, publish and settle are all microtasks): without a macrotask turn now and then,
          // sockets, timers and every other request would wait until it stops.
          if (performance.now() - sliceStart >= this.drainSliceMs) {
            await nextTurn();
            sliceStart = performance.now();
          }
          if (!committing && this.pending.length === 1 && this.lone(this.pending[0] as Pending)) {
            // The serial writer's batch (one group, nothing in flight): fewer frames and no outcome objects.
            const p = this.pending[0] as Pending;
            taken = this.pending;
            this.pending = [];
            const results = await this.commitLone(p);
            if (results === undefined) continue;
            // The pipeline as below: what arrived meanwhile goes to the store before this group publishes.
            committing = this.pending.length > 0 ? this.commitBatch((taken = this.takeBatch())) : undefined;
            await this.publishRun([p], 0, 1, results, 0);
            continue;
          }
          const outcome = await (committing ?? this.commitBatch((taken = this.takeBatch())));
          committing = this.pending.length > 0 ? this.commitBatch((taken = this.takeBatch())) : undefined;
          await this.publishAndSettle(outcome);
        }
      } while (taken.length === 1 && (await this.sameWriterAgain(taken[0] as Pending)));
    } finally {
      // Synchronous with the loop's last check: no add() can slip in between and be left unscheduled.
      this.draining = false;
      if (this.pending.length > 0) this.schedule();
    }
  }

  /**
   * The lone serial writer: the batch just settled was one group, and its writer appends again once
   * its await returns. Through a few async frames (an `async` helper returning `append`'s promise) that
   * comes a few microtasks after this loop's last look, so without this it would wait for a macrotask
   * turn (`setImmediate`) per append. So wait until this macrotask's microtasks have run (a nextTick
   * queued from a microtask runs after them) and go on at once if the only group waiting is that
   * session's. Anything else (several groups, another session, nothing) waits for the next turn as
   * before, so appends from different callbacks of one poll phase still share a transaction; the
   * `drainSliceMs` turn still comes.
   */
  private async sameWriterAgain(settled: Pending): Promise<boolean> {
    if (this.pending.length > 0) return false;
    await new Promise<void>((resolve) => process.nextTick(resolve));
    const next = this.pending.length === 1 ? (this.pending[0] as Pending) : undefined;
    return next !== undefined && next.entries[0]?.session_id === settled.entries[0]?.session_id;
  }

  /** A group the lone path takes: it deletes nothing and its events go out in one publish. */
  private lone(p: Pending): boolean {
    return p.entries.length <= this.publishSlice && !deletes([p]);
  }

  /**
   * One group committed on its own, as `commitBatch` would (a lone group is never dropped by a delete):
   * its results, or undefined once it is settled with its failure. With no outcome objects and one
   * async frame instead of two: the serial writer's path.
   */
  private async commitLone(p: Pending): Promise<CommitResult[] | undefined> {
    try {
      let results: CommitResult[];
      try {
        results = await this.store.commit(p.entries);
      } catch (err) {
        // As `commitInto` for a batch of one group: it fails alone, and an unknown outcome is rechecked.
        this.logger.warn({ err, sessions: 1, culprit: faultySession(err), groups: 1 }, 'group commit failed');
        if (outcomeUnknown(err)) this.doubts.add(p.entries.map((e) => e.session_id));
        this.settle(p, err);
        return undefined;
      }
      this.doubts.answered();
      if (results.length === p.entries.length) return results;
      this.settle(p, new TowerError('internal', `store returned ${results.length} results for ${p.entries.length} entries`));
    } catch (err) {
      // Nothing may leave the group unsettled.
      this.logger.error({ err }, 'group commit crashed');
      this.settle(p, err);
    }
    return undefined;
  }

  /** Whole groups, up to `maxBatch` entries (at least one group). */
  private takeBatch(): Pending[] {
    let count = 0;
    let n = 0;
    while (n < this.pending.length) {
      const size = (this.pending[n] as Pending).entries.length;
      if (n > 0 && count + size > this.maxBatch) break;
      count += size;
      n++;
    }
    return this.pending.splice(0, n);
  }

  /** Settles `p` once: with its results `results[at .. at + size)`, else with `err`. */
  private settle(p: Pending, err: unknown, results?: CommitResult[], at = 0): void {
    if (p.settled) return;
    p.settled = true;
    this.waiting -= p.entries.length;
    if (this.last === p) this.last = undefined;
    try {
      if (p.one) {
        if (results) p.one(undefined, results[at] as CommitResult);
        else p.one(err);
      } else if (p.group) {
        if (results) p.group(undefined, results.slice(at, at + p.entries.length));
        else p.group(err);
      }
    } catch (thrown) {
      // A callback that throws must not leave the rest of its batch unsettled.
      this.logger.error({ err: thrown }, 'group commit callback threw');
    }
    if (p.waiters) for (const wake of p.waiters.splice(0)) wake();
  }

  /** Commits a batch (isolating failures); never rejects, so a batch in flight cannot go unhandled. */
  private async commitBatch(batch: Pending[]): Promise<Outcome> {
    const out: Outcome = { committed: [], failed: [] };
    try {
      await this.commitInto(this.dropAfterDelete(batch, out), out);
    } catch (err) {
      // Nothing may leave an entry unsettled: a caller awaiting it would hang, and so would flush().
      this.logger.error({ err }, 'group commit crashed');
      const placed = new Set<Pending>([...out.committed.flatMap((c) => c.groups), ...out.failed.map((f) => f[0])]);
      for (const p of batch) if (!placed.has(p)) out.failed.push([p, err]);
    }
    return out;
  }

  private dropAfterDelete(batch: Pending[], out: Outcome): Pending[] {
    // Nearly every batch deletes nothing: no set, closures or copy per commit then.
    if (!deletes(batch)) return batch;
    const deleted = new Set<string>();
    return batch.filter((p) => {
      const late = p.entries.find((e) => deleted.has(e.session_id));
      for (const e of p.entries) if (e.delete_session) deleted.add(e.session_id);
      if (!late) return true;
      out.failed.push([p, new TowerError('unknown_session', `unknown session ${late.session_id}`, { session_id: late.session_id })]);
      return false;
    });
  }

  private async commitInto(batch: Pending[], out: Outcome): Promise<void> {
    // A batch holds many sessions' appends: one session's bad entry (deleted a moment ago, say) must not
    // fail the others. The store names the session at fault; its groups are rejected, the rest retried.
    // A failure that names no session in the batch is isolated by committing each group on its own.
    while (batch.length > 0) {
      let results: CommitResult[];
      const entries = entriesOf(batch);
      try {
        results = await this.store.commit(entries);
      } catch (err) {
        const culprit = faultySession(err);
        const sessions = new Set(batch.flatMap((p) => p.entries.map((e) => e.session_id)));
        this.logger.warn({ err, sessions: sessions.size, culprit, groups: batch.length }, 'group commit failed');
        if (outcomeUnknown(err)) {
          // The store could not tell whether this commit landed (Postgres lost the COMMIT's answer and
          // was unreachable for the mark check). Committing its groups again, the isolation below, would
          // store every event twice if it did land; waiting here until the store is back to look again
          // would stall every session's appends behind one outage with no bound. So every group of the
          // batch fails with this code, and its callers (who know what they appended) decide: the
          // session's events say whether it landed. Later batches commit as usual, after it in seq order.
          for (const p of batch) out.failed.push([p, err]);
          this.doubts.add(batch.flatMap((p) => p.entries.map((e) => e.session_id)));
          return;
        }
        if (batch.length === 1) {
          out.failed.push([batch[0] as Pending, err]);
          return;
        }
        if (culprit !== undefined && sessions.has(culprit) && sessions.size > 1) {
          const blamed = (p: Pending): boolean => p.entries.some((e) => e.session_id === culprit);
          const theirs = batch.filter(blamed);
          // One of the session's groups is at fault (a queue write another node beat, say), not always
          // all of them: with several, each is committed on its own, in order.
          if (theirs.length === 1) out.failed.push([theirs[0] as Pending, err]);
          else for (const p of theirs) await this.commitInto([p], out);
          batch = batch.filter((p) => !blamed(p));
          continue;
        }
        for (const p of batch) await this.commitInto([p], out);
        return;
      }
      // The store answers again: whatever a doubtful commit stored is readable now.
      this.doubts.answered();
      const total = entries.length;
      if (results.length === total) out.committed.push({ groups: batch, results });
      else {
        const err = new TowerError('internal', `store returned ${results.length} results for ${total} entries`);
        for (const p of batch) out.failed.push([p, err]);
      }
      return;
    }
  }

  /**
   * Publishes a batch's committed events, in commit order, then settles its groups. A big batch goes out
   * in slices of about `publishSlice` events with a macrotask turn between them (sockets, timers and
   * model streams run meanwhile): the slices are consecutive and each is published only after the one
   * before it, so order is kept, and each group settles once its own events are published.
   */
  private async publishAndSettle(out: Outcome): Promise<void> {
    for (const [p, err] of out.failed) this.settle(p, err);
    let sliced = 0;
    for (const { groups, results } of out.committed) {
      let at = 0;
      let g = 0;
      while (g < groups.length) {
        if (sliced > 0) await nextTurn();
        const from = g;
        const start = at;
        // Whole groups, at least one: a group's events are published together.
        while (g < groups.length && (g === from || at - start + (groups[g] as Pending).entries.length <= this.publishSlice)) {
          at += (groups[g] as Pending).entries.length;
          g++;
        }
        await this.publishRun(groups, from, g, results, start);
        sliced++;
      }
    }
  }

  /**
   * Publishes the events of `groups[from .. to)`, whose results start at `results[start]`, in one bus
   * call, then settles those groups.
   */
  private async publishRun(groups: readonly Pending[], from: number, to: number, results: CommitResult[], start: number): Promise<void> {
    let count = 0;
    for (let i = from; i < to; i++) count += (groups[i] as Pending).entries.length;
    const events = new Array<StoredEvent>(count);
    for (let i = 0; i < count; i++) events[i] = (results[start + i] as CommitResult).event;
    // The payload text encoded for the store travels with its event, so live frames need not
    // serialise the payload again. Results are in entry order, group by group.
    const dataJson = new Array<string | undefined>(count);
    let j = 0;
    for (let i = from; i < to; i++) for (const e of (groups[i] as Pending).entries) dataJson[j++] = e.encoded?.data;
    try {
      // Awaited so batches reach the bus in order; a bus must settle promptly even while disconnected.
      await this.publish(events, dataJson);
    } catch (err) {
      // The events are durable; subscribers that missed them recover from the store by seq.
      this.logger.error({ err, groups: to - from }, 'publish failed after commit');
    }
    let k = start;
    for (let i = from; i < to; i++) {
      const p = groups[i] as Pending;
      this.settle(p, undefined, results, k);
      k += p.entries.length;
    }
  }
}

/** What one batch's commit came to: the store commits that succeeded, in order, and the groups that failed. */
interface Outcome {
  committed: Array<{ groups: Pending[]; results: CommitResult[] }>;
  failed: Array<[Pending, unknown]>;
}

/** The batch's entries in order: a loop, not `flatMap` (a closure and a growing array per commit). */
function entriesOf(batch: readonly Pending[]): CommitEntry[] {
  if (batch.length === 1) return (batch[0] as Pending).entries;
  let n = 0;
  for (const p of batch) n += p.entries.length;
  const out = new Array<CommitEntry>(n);
  let i = 0;
  for (const p of batch) for (const e of p.entries) out[i++] = e;
  return out;
}

function deletes(batch: readonly Pending[]): boolean {
  for (const p of batch) for (const e of p.entries) if (e.delete_session) return true;
  return false;
}

const nextTurn = (): Promise<void> => new Promise<void>((resolve) => setImmediate(resolve));

/** A store error saying the commit may or may not have landed: never to be committed again blindly. */
function outcomeUnknown(err: unknown): boolean {
  return err instanceof TowerError && err.code === 'commit_outcome_unknown';
}

/** The session a store error blames (`details.session_id`), if it names one. */
function faultySession(err: unknown): string | undefined {
  if (!(err instanceof TowerError)) return undefined;
  const details = err.details as { session_id?: unknown } | undefined;
  return typeof details?.session_id === 'string' ? details.session_id : undefined;
}
