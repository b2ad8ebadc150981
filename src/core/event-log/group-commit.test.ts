import { afterEach, describe, expect, it } from 'vitest';
import { TowerError, isTowerError } from '../../protocol/errors.js';
import { EventLog } from './event-log.js';
import { choice, fixture, sessionRecord, type Fixture } from './test-helpers.js';


function nested(depth: number): Record<string, unknown> {
  let v: Record<string, unknown> = {};
  for (let i = 0; i < depth; i++) v = { a: v };
  return v;
}

const codeOf = (p: Promise<unknown>): Promise<string> =>
  p.then(
    () => 'ok',
    (e: unknown) => (isTowerError(e) ? e.code : `not a TowerError: ${String(e)}`),
  );

describe('GroupCommit: every entry settles, one bad entry fails only itself', () => {
  let f: Fixture;
  afterEach(async () => f.dispose());

  it('settles a failed batch whose error blames a session that is not in it (it used to hang)', async () => {
    f = await fixture(['s1', 's2']);
    let calls = 0;
    f.store.beforeCommit = async () => {
      if (calls++ === 0) throw new TowerError('unknown_session', 'elsewhere', { session_id: 'not-in-batch' });
    };
    const log = new EventLog(f.store, f.bus);
    const results = await Promise.all([codeOf(log.append('s1', choice('a'))), codeOf(log.append('s2', choice('b')))]);
    // Isolated and retried one group at a time: the transient failure cost nobody their event.
    expect(results).toEqual(['ok', 'ok']);
    await log.flush();
    expect(await f.store.lastSeq('s1')).toBe(1);
    await log.close();
  });

  it('rejects every entry when each commit fails, and flush/close still return', async () => {
    f = await fixture(['s1', 's2']);
    f.store.beforeCommit = async () => {
      throw new TowerError('unknown_session', 'elsewhere', { session_id: 'ghost' });
    };
    const log = new EventLog(f.store, f.bus);
    const results = await Promise.all([codeOf(log.append('s1', choice('a'))), codeOf(log.append('s2', choice('b')))]);
    expect(results).toEqual(['unknown_session', 'unknown_session']);
    await log.flush();
    await log.close();
  });

  it('fails a batch whose commit outcome is unknown with commit_outcome_unknown, never committing it again', async () => {
    f = await fixture(['s1', 's2']);
    // The Postgres store's worst case: the COMMIT landed, its answer was lost and the mark could not be
    // checked. Committing the groups again one by one (what any other error gets) would store them twice.
    const commit = f.store.commit.bind(f.store);
    let cut = true;
    f.store.commit = async (entries) => {
      const results = await commit(entries);
      if (!cut) return results;
      cut = false;
      throw new TowerError('commit_outcome_unknown', 'COMMIT unanswered and its outcome unknown');
    };
    const log = new EventLog(f.store, f.bus);
    const appended = [log.append('s1', choice('a')), log.append('s2', choice('b')), log.append('s1', choice('c'))];
    expect(await Promise.all(appended.map(codeOf))).toEqual(['commit_outcome_unknown', 'commit_outcome_unknown', 'commit_outcome_unknown']);
    expect(f.store.commits).toHaveLength(1);
    expect(await f.store.lastSeq('s1')).toBe(2);
    expect(await f.store.lastSeq('s2')).toBe(1);
    // The log goes on: the next append follows what landed.
    expect((await log.append('s1', choice('d'))).event.seq).toBe(3);
    expect((await f.store.readEvents('s1', 0, 10)).map((e) => e.seq)).toEqual([1, 2, 3]);
    await log.close();
  });

  it('fails an unserialisable entry on its own; the other sessions in its tick commit', async () => {
    f = await fixture(['s1', 's2', 's3']);
    const log = new EventLog(f.store, f.bus);
    const deep = { type: 'tool_call' as const, data: { tool_call_id: 'c', tool: 'x', args: nested(200_000) } };
    const results = await Promise.all([
      codeOf(log.append('s1', choice('before'))),
      codeOf(log.append('s2', deep)),
      codeOf(log.append('s3', choice('after'))),
    ]);
    expect(results).toEqual(['ok', 'invalid_request', 'ok']);
    expect(await f.store.lastSeq('s1')).toBe(1);
    expect(await f.store.lastSeq('s2')).toBe(0);
    expect(await f.store.lastSeq('s3')).toBe(1);
    await log.close();
  });

  it('refuses an entry over the size limit with payload_too_large, alone', async () => {
    f = await fixture(['s1']);
    const log = new EventLog(f.store, f.bus, { commits: { maxEntryBytes: 1000 } });
    const results = await Promise.all([codeOf(log.append('s1', choice('x'.repeat(2000)))), codeOf(log.append('s1', choice('ok')))]);
    expect(results).toEqual(['payload_too_large', 'ok']);
    await log.close();
  });

  it('caps the entries of one transaction, keeping groups whole', async () => {
    f = await fixture(['s1']);
    const log = new EventLog(f.store, f.bus, { commits: { maxBatch: 10 } });
    const singles = Array.from({ length: 25 }, (_, i) => log.append('s1', choice(`m${i}`)));
    const group = log.appendAll('s1', Array.from({ length: 4 }, (_, i) => ({ event: choice(`g${i}`) })));
    await Promise.all([...singles, group]);
    expect(f.store.commits.map((c) => c.length)).toEqual([10, 10, 9]);
    expect((await group).map((r) => r.event.seq)).toEqual([26, 27, 28, 29]);
    await log.close();
  });

  it('refuses appends with rate_limited once too many wait, and takes them again after', async () => {
    f = await fixture(['s1']);
    const log = new EventLog(f.store, f.bus, { commits: { maxWaiting: 5 } });
    const first = Array.from({ length: 5 }, (_, i) => codeOf(log.append('s1', choice(`m${i}`))));
    const refused = await codeOf(log.append('s1', choice('one too many')));
    expect(refused).toBe('rate_limited');
    expect(await Promise.all(first)).toEqual(['ok', 'ok', 'ok', 'ok', 'ok']);
    expect(await codeOf(log.append('s1', choice('later')))).toBe('ok');
    await log.close();
  });

  it('appendAll commits a group atomically: a failing entry takes its group with it, nothing else', async () => {
    f = await fixture(['s1', 's2']);
    const log = new EventLog(f.store, f.bus);
    const bad = log.appendAll('s1', [
      { event: choice('a') },
      { event: choice('b'), effects: { replace_last_message: { role: 'user', content: 'x' } } },
    ]);
    const other = log.append('s2', choice('fine'));
    expect(await codeOf(bad)).toBe('invalid_request');
    expect(await codeOf(other)).toBe('ok');
    expect(await f.store.lastSeq('s1')).toBe(0);
    await log.close();
  });

  it('creates a session with its first event in one transaction, and conflicts without a trace', async () => {
    f = await fixture(['s1']);
    const log = new EventLog(f.store, f.bus);
    const created = { type: 'session_created' as const, data: { title: '', model: 'm', working_dir: '/tmp' } };
    const { event } = await log.append('new', created, { create_session: sessionRecord('new') });
    expect(event.seq).toBe(1);
    expect((await f.store.getSession('new'))?.last_event_seq).toBe(1);
    expect(await codeOf(log.append('s1', created, { create_session: sessionRecord('s1') }))).toBe('conflict');
    expect(await f.store.lastSeq('s1')).toBe(0);
    await log.close();
  });

  it('gives the event loop a turn while a writer appends again as soon as each commit settles', async () => {
    f = await fixture(['s1']);
    const log = new EventLog(f.store, f.bus);
    let turned = false;
    // Without a macrotask turn in the drain loop, the immediate (queued once the loop runs) could only
    // run after all of these.
    const cap = 20_000;
    let appended = 0;
    while (!turned && appended < cap) {
      let last: Promise<unknown> | undefined;
      for (let i = 0; i < 10; i++) last = log.append('s1', choice(`t${appended + i}`));
      await last;
      appended += 10;
      if (appended === 10) setImmediate(() => (turned = true));
    }
    expect(turned).toBe(true);
    expect(appended).toBeLessThan(cap);
    expect(await f.store.lastSeq('s1')).toBe(appended);
    await log.close();
  });
});

describe('EventLog.appendWith: the callback form of append', () => {
  let f: Fixture;
  afterEach(async () => f.dispose());

  it('calls back once per entry, never synchronously, with its result or its own error; flush waits for all', async () => {
    f = await fixture(['s1', 's2']);
    const log = new EventLog(f.store, f.bus);
    const outcomes: string[] = [];
    const note = (name: string) => (err: unknown, result?: { event: { seq: number } }) => {
      outcomes.push(result ? `${name}:${result.event.seq}` : `${name}:${isTowerError(err) ? err.code : String(err)}`);
    };
    const deep = { type: 'tool_call' as const, data: { tool_call_id: 'c', tool: 'x', args: nested(200_000) } };
    log.appendWith('s1', choice('a'), {}, note('a'));
    log.appendWith('s2', deep, {}, note('deep'));
    log.appendWith('s1', choice('b'), {}, note('b'));
    expect(outcomes).toEqual([]);
    await log.flush();
    expect(outcomes.sort()).toEqual(['a:1', 'b:2', 'deep:invalid_request']);
    await log.close();
    log.appendWith('s1', choice('late'), {}, note('late'));
    expect(outcomes).toHaveLength(3);
    await Promise.resolve();
    expect(outcomes).toContain('late:internal');
  });
});
