import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { TowerError } from '../../protocol/errors.js';
import type { StoredEvent } from '../../protocol/events.js';
import { testEntry } from '../../store/testing/fixtures.js';
import type { CommitEntry, CommitResult, Store } from '../../store/types.js';
import { GroupCommit } from './group-commit.js';
import { deferred } from './test-helpers.js';

/**
 * A store whose commits land (seqs per session) and whose first `cut` commits then throw
 * `commit_outcome_unknown`; `lastSeq` fails while `down`.
 */
class DoubtfulStore {
  cut = 0;
  /** The next commit fails with this (an outage, say) without landing. */
  refuse: TowerError | undefined;
  down = true;
  lastSeqCalls = 0;
  /** Resolves at the next `lastSeq` call that fails. */
  failedProbe = deferred();
  private readonly heads = new Map<string, number>();

  async commit(entries: CommitEntry[]): Promise<CommitResult[]> {
    const refused = this.refuse;
    this.refuse = undefined;
    if (refused) throw refused;
    const results = entries.map((e) => {
      const seq = (this.heads.get(e.session_id) ?? 0) + 1;
      this.heads.set(e.session_id, seq);
      const event = { session_id: e.session_id, seq, type: e.type, data: e.data, timestamp: e.timestamp } as StoredEvent;
      return { event };
    });
    if (this.cut > 0) {
      this.cut--;
      throw new TowerError('commit_outcome_unknown', 'COMMIT unanswered and its outcome unknown');
    }
    return results;
  }

  async lastSeq(sessionId: string): Promise<number | undefined> {
    this.lastSeqCalls++;
    if (this.down) {
      const failed = this.failedProbe;
      this.failedProbe = deferred();
      failed.resolve();
      throw new TowerError('not_ready', 'down');
    }
    return this.heads.get(sessionId) ?? 0;
  }
}

function rig(): { store: DoubtfulStore; commits: GroupCommit; rechecked: string[][]; next: () => Promise<string[]> } {
  const store = new DoubtfulStore();
  const rechecked: string[][] = [];
  let waiting = deferred<string[]>();
  const commits = new GroupCommit(store as unknown as Store, async () => undefined, pino({ level: 'silent' }), {}, (ids) => {
    rechecked.push([...ids].sort());
    waiting.resolve([...ids].sort());
    waiting = deferred<string[]>();
  });
  return { store, commits, rechecked, next: () => waiting.promise };
}

const outcome = (p: Promise<unknown>): Promise<string> =>
  p.then(
    () => 'ok',
    (e: unknown) => (e instanceof TowerError ? e.code : String(e)),
  );

describe('GroupCommit: sessions of a commit of unknown outcome are rechecked once the store answers', () => {
  it('probes the store while it is down and rechecks the batch\'s sessions, once, when it answers', async () => {
    const { store, commits, rechecked, next } = rig();
    store.cut = 1;
    const failed = await Promise.all([commits.add(testEntry('a', 1)), commits.add(testEntry('b', 1))].map(outcome));
    expect(failed).toEqual(['commit_outcome_unknown', 'commit_outcome_unknown']);
    // Down: the probe fails and tries again; nothing is rechecked while the store cannot be read.
    await store.failedProbe.promise;
    await store.failedProbe.promise;
    expect(rechecked).toEqual([]);
    store.down = false;
    expect(await next()).toEqual(['a', 'b']);
    expect(rechecked).toHaveLength(1);
    commits.close();
  });

  it('a later commit that succeeds settles the doubt at once, without waiting for a probe', async () => {
    const { store, commits, rechecked, next } = rig();
    store.cut = 1;
    expect(await outcome(commits.add(testEntry('a', 1)))).toBe('commit_outcome_unknown');
    const rechecks = next();
    // The store answers commits (not yet probes): the next commit is what shows it is back.
    expect((await commits.add(testEntry('c', 1))).event.seq).toBe(1);
    expect(await rechecks).toEqual(['a']);
    expect(rechecked).toEqual([['a']]);
    commits.close();
  });

  it('other failures and successful commits recheck nothing; close() ends the probing', async () => {
    const { store, commits, rechecked } = rig();
    await commits.add(testEntry('a', 1));
    store.refuse = new TowerError('not_ready', 'down');
    expect(await outcome(commits.add(testEntry('a', 2)))).toBe('not_ready');
    expect(store.lastSeqCalls).toBe(0);
    store.cut = 1;
    expect(await outcome(commits.add(testEntry('a', 2)))).toBe('commit_outcome_unknown');
    await store.failedProbe.promise;
    commits.close();
    const calls = store.lastSeqCalls;
    // A commit after close still commits; no probe runs again and nothing is rechecked.
    expect((await commits.add(testEntry('a', 3))).event.seq).toBe(3);
    expect(store.lastSeqCalls).toBe(calls);
    expect(rechecked).toEqual([]);
  });
});
