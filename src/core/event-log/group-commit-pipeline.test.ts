import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { TowerError, isTowerError } from '../../protocol/errors.js';
import type { StoredEvent } from '../../protocol/events.js';
import type { CommitEntry, CommitResult } from '../../store/types.js';
import { GroupCommit } from './group-commit.js';
import { choice, deferred, fixture, type Fixture } from './test-helpers.js';

/**
 * The pipeline (group-commit.ts `drain`): batch N+1 goes to the store while batch N publishes. These
 * tests hold N's publish open and check what may and may not happen meanwhile.
 */

const logger = pino({ level: 'silent' });

const entry = (sessionId: string, text: string): CommitEntry => {
  const event = choice(text);
  return { session_id: sessionId, type: event.type, data: event.data, timestamp: new Date().toISOString() };
};

const codeOf = (p: Promise<unknown>): Promise<string> =>
  p.then(
    () => 'ok',
    (e: unknown) => (isTowerError(e) ? e.code : `not a TowerError: ${String(e)}`),
  );

/** A publish whose calls a test can hold: `held(n)` resolves when call n (1-based) starts, `release(n)` ends it. */
function gatedPublish(holdCalls: number[]) {
  const calls: Array<Array<[string, number]>> = [];
  const started = new Map<number, ReturnType<typeof deferred<void>>>();
  const gates = new Map<number, ReturnType<typeof deferred<void>>>();
  for (const n of holdCalls) gates.set(n, deferred());
  const startedOf = (n: number) => {
    let d = started.get(n);
    if (!d) started.set(n, (d = deferred()));
    return d;
  };
  const publish = async (events: StoredEvent[]): Promise<void> => {
    calls.push(events.map((e) => [e.session_id, e.seq]));
    const n = calls.length;
    startedOf(n).resolve(undefined);
    await gates.get(n)?.promise;
  };
  return {
    publish,
    calls,
    held: (n: number) => startedOf(n).promise,
    release: (n: number) => gates.get(n)?.resolve(undefined),
  };
}

/** Turns the event loop until `done` holds (each check after a macrotask turn). */
async function until(done: () => Promise<boolean>): Promise<void> {
  while (!(await done())) await new Promise((r) => setImmediate(r));
}

/** Records when each of a promise's settlements happened relative to the others. */
function track<T>(order: string[], name: string, p: Promise<T>): Promise<T> {
  p.then(
    () => order.push(name),
    () => order.push(name),
  );
  return p;
}

describe('GroupCommit pipeline: batch N+1 commits while batch N publishes', () => {
  let f: Fixture;
  afterEach(async () => f.dispose());

  it('sends N+1 to the store before N publishes, publishes and settles in order, each after its publish', async () => {
    f = await fixture(['s1', 's2']);
    const gate = deferred();
    f.store.beforeCommit = async () => {
      if (f.store.commits.length === 1) await gate.promise;
    };
    const pub = gatedPublish([1]);
    const commits = new GroupCommit(f.store, pub.publish, logger);
    const order: string[] = [];
    const a = track(order, 'a', commits.add(entry('s1', 'a')));
    await new Promise((r) => setImmediate(r));
    expect(f.store.commits).toHaveLength(1);
    // Arrive while N commits: they are N+1.
    const b = track(order, 'b', commits.add(entry('s1', 'b')));
    const c = track(order, 'c', commits.add(entry('s2', 'c')));
    gate.resolve();
    await pub.held(1);
    // N is publishing (held) and N+1 is already with the store; nothing of N+1 is published or settled.
    expect(f.store.commits.map((batch) => batch.map((e) => e.session_id))).toEqual([['s1'], ['s1', 's2']]);
    await until(async () => (await f.store.lastSeq('s2')) === 1);
    expect(pub.calls).toHaveLength(1);
    expect(order).toEqual([]);
    pub.release(1);
    const results = await Promise.all([a, b, c]);
    expect(results.map((r) => [r.event.session_id, r.event.seq])).toEqual([['s1', 1], ['s1', 2], ['s2', 1]]);
    expect(pub.calls).toEqual([[['s1', 1]], [['s1', 2], ['s2', 1]]]);
    expect(order).toEqual(['a', 'b', 'c']);
    expect(f.store.maxInFlightCommits).toBe(1);
  });

  it('isolates the culprit of batch N+1 while N publishes; its failure settles only after N', async () => {
    f = await fixture(['s1', 's2']);
    const gate = deferred();
    f.store.beforeCommit = async () => {
      if (f.store.commits.length === 1) await gate.promise;
    };
    const pub = gatedPublish([1]);
    const commits = new GroupCommit(f.store, pub.publish, logger);
    const order: string[] = [];
    const a = track(order, 'a', commits.add(entry('s1', 'a')));
    await new Promise((r) => setImmediate(r));
    const b = track(order, 'b', commits.add(entry('s2', 'b')));
    const ghost = track(order, 'ghost', commits.add(entry('ghost', 'x')));
    const d = track(order, 'd', commits.add(entry('s2', 'd')));
    gate.resolve();
    await pub.held(1);
    // N+1 failed on the ghost and was committed again without it, all while N's publish is held.
    await until(async () => (await f.store.lastSeq('s2')) === 2);
    expect(order).toEqual([]);
    pub.release(1);
    expect(await codeOf(ghost)).toBe('unknown_session');
    const ok = await Promise.all([a, b, d]);
    expect(ok.map((r) => [r.event.session_id, r.event.seq])).toEqual([['s1', 1], ['s2', 1], ['s2', 2]]);
    expect(pub.calls).toEqual([[['s1', 1]], [['s2', 1], ['s2', 2]]]);
    expect(order).toEqual(['a', 'ghost', 'b', 'd']);
  });

  it('keeps a session in append order when batch N is isolated group by group and its next append waits as N+1', async () => {
    f = await fixture(['s1', 's2']);
    let calls = 0;
    const gate = deferred();
    f.store.beforeCommit = async () => {
      calls++;
      if (calls === 1) {
        await gate.promise;
        // Blames nobody in the batch: every group is committed again on its own.
        throw new TowerError('internal', 'transient');
      }
    };
    const pub = gatedPublish([]);
    const commits = new GroupCommit(f.store, pub.publish, logger);
    const first = commits.add(entry('s1', 'first'));
    const other = commits.add(entry('s2', 'other'));
    await new Promise((r) => setImmediate(r));
    const second = commits.add(entry('s1', 'second'));
    gate.resolve();
    const [r1, r2, r3] = await Promise.all([first, other, second]);
    expect([r1.event.seq, r2.event.seq, r3.event.seq]).toEqual([1, 1, 2]);
    // The retries of N (one per group) ran before N+1 went to the store.
    expect(f.store.commits.map((batch) => batch.map((e) => e.data))).toEqual([
      [{ content: 'first' }, { content: 'other' }],
      [{ content: 'first' }],
      [{ content: 'other' }],
      [{ content: 'second' }],
    ]);
    expect(pub.calls.flat()).toEqual([['s1', 1], ['s2', 1], ['s1', 2]]);
  });

  it('a batch N+1 whose commit fails outright rejects only its own entries; N settles after its publish', async () => {
    f = await fixture(['s1']);
    const gate = deferred();
    f.store.beforeCommit = async () => {
      if (f.store.commits.length === 1) await gate.promise;
      if (f.store.commits.length === 2) throw new Error('disk full');
    };
    const pub = gatedPublish([1]);
    const commits = new GroupCommit(f.store, pub.publish, logger);
    const order: string[] = [];
    const a = track(order, 'a', commits.add(entry('s1', 'a')));
    await new Promise((r) => setImmediate(r));
    const b = track(order, 'b', commits.add(entry('s1', 'b')));
    gate.resolve();
    await pub.held(1);
    await until(async () => f.store.inFlightCommits === 0 && f.store.commits.length === 2);
    expect(order).toEqual([]);
    pub.release(1);
    await expect(b).rejects.toThrow('disk full');
    expect((await a).event.seq).toBe(1);
    expect(order).toEqual(['a', 'b']);
    expect(pub.calls).toEqual([[['s1', 1]]]);
    expect((await commits.add(entry('s1', 'after'))).event.seq).toBe(2);
  });

  it('a publish that fails for batch N still settles N and lets N+1 publish after it', async () => {
    f = await fixture(['s1']);
    const gate = deferred();
    f.store.beforeCommit = async () => {
      if (f.store.commits.length === 1) await gate.promise;
    };
    const published: number[][] = [];
    let calls = 0;
    const commits = new GroupCommit(
      f.store,
      async (events) => {
        calls++;
        if (calls === 1) throw new Error('bus down');
        published.push(events.map((e) => e.seq));
      },
      logger,
    );
    const a = commits.add(entry('s1', 'a'));
    await new Promise((r) => setImmediate(r));
    const b = commits.add(entry('s1', 'b'));
    gate.resolve();
    expect((await a).event.seq).toBe(1);
    expect((await b).event.seq).toBe(2);
    expect(published).toEqual([[2]]);
  });

  it('settled() waits for the batch publishing and the one in flight behind it', async () => {
    f = await fixture(['s1']);
    const gate = deferred();
    f.store.beforeCommit = async () => {
      if (f.store.commits.length === 1) await gate.promise;
    };
    const pub = gatedPublish([1, 2]);
    const commits = new GroupCommit(f.store, pub.publish, logger);
    const results: CommitResult[] = [];
    void commits.add(entry('s1', 'a')).then((r) => results.push(r));
    await new Promise((r) => setImmediate(r));
    void commits.add(entry('s1', 'b')).then((r) => results.push(r));
    gate.resolve();
    await pub.held(1);
    let settled = false;
    const flushed = commits.settled().then(() => (settled = true));
    pub.release(1);
    await pub.held(2);
    expect(results.map((r) => r.event.seq)).toEqual([1]);
    expect(settled).toBe(false);
    pub.release(2);
    await flushed;
    expect(results.map((r) => r.event.seq)).toEqual([1, 2]);
    expect(commits.depth).toBe(0);
  });

  it('publishes a big batch in consecutive slices of whole groups, settling each group after its slice', async () => {
    f = await fixture(['s1', 's2']);
    const gate = deferred();
    f.store.beforeCommit = async () => {
      if (f.store.commits.length === 1) await gate.promise;
    };
    const sizes: number[] = [];
    const seen: Array<[string, number]> = [];
    let settledBeforePublish = 0;
    const groupResults: CommitResult[][] = [];
    const commits = new GroupCommit(
      f.store,
      async (events) => {
        sizes.push(events.length);
        for (const e of events) seen.push([e.session_id, e.seq]);
        // No group of this slice is settled before the slice is published.
        settledBeforePublish += groupResults.filter((g) => g.some((r) => events.some((e) => e === r.event))).length;
      },
      logger,
      { publishSlice: 4 },
    );
    const first = commits.add(entry('s1', 'hold'));
    await new Promise((r) => setImmediate(r));
    const adds: Array<Promise<unknown>> = [];
    for (let i = 0; i < 5; i++) adds.push(commits.add(entry('s1', `x${i}`)));
    // A group of three stays in one slice.
    adds.push(commits.addGroup([entry('s2', 'g0'), entry('s2', 'g1'), entry('s2', 'g2')]).then((g) => groupResults.push(g)));
    for (let i = 0; i < 3; i++) adds.push(commits.add(entry('s2', `y${i}`)));
    gate.resolve();
    await Promise.all([first, ...adds]);
    expect(sizes).toEqual([1, 4, 4, 3]);
    expect(settledBeforePublish).toBe(0);
    expect(seen.filter(([s]) => s === 's1').map(([, q]) => q)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(seen.filter(([s]) => s === 's2').map(([, q]) => q)).toEqual([1, 2, 3, 4, 5, 6]);
  });
});
