import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { isTowerError } from '../../protocol/errors.js';
import type { CommitEntry, Store } from '../types.js';
import { testEntry, testSessionRecord } from './fixtures.js';

async function failure(p: Promise<unknown>): Promise<{ code?: string; details?: unknown }> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(isTowerError(err), `expected a TowerError, got ${String(err)}`).toBe(true);
  return err as { code?: string; details?: unknown };
}

/**
 * The parts of the conformance suite added for many writers and the commit effects of the event log:
 * two instances on one database, ids, round-trips, large batches, session creation in a commit,
 * compare-and-set state, the state index. `fresh` opens a new empty store; `second` another instance on
 * the same storage as a given store (absent for backends that cannot, like SQLite's :memory:).
 */
export function describeStoreConformanceMore(
  fresh: () => Promise<Store>,
  second: ((store: Store) => Promise<Store>) | undefined,
): void {
  describe('many writers and commit effects', () => {
    it('unknown_session names the session at fault in details.session_id', async () => {
      const store = await fresh();
      await store.createSession(testSessionRecord('a'));
      const err = await failure(store.commit([testEntry('a', 1), testEntry('ghost', 2)]));
      expect(err.code).toBe('unknown_session');
      expect(err.details).toMatchObject({ session_id: 'ghost' });
    });

    it.runIf(second !== undefined)('serialises concurrent commits from two instances on one database, seqs gap-free', async () => {
      const a = await fresh();
      const b = await (second as (s: Store) => Promise<Store>)(a);
      try {
        await a.createSession(testSessionRecord('s'));
        const rounds = 40;
        await Promise.all(
          Array.from({ length: rounds }, (_, i) => (i % 2 ? a : b).commit([testEntry('s', i), testEntry('s', i + 1000)])),
        );
        const events = await b.readEvents('s', 0, 1000);
        expect(events.map((e) => e.seq)).toEqual(Array.from({ length: rounds * 2 }, (_, i) => i + 1));
        expect(await a.lastSeq('s')).toBe(rounds * 2);
      } finally {
        await b.close();
      }
    });

    it('round-trips UUID ids, timestamps with milliseconds and offsets, and unicode', async () => {
      const store = await fresh();
      const id = randomUUID();
      const title = 'naïve 日本語 🚀 \u0000 end';
      await store.createSession(testSessionRecord(id, { title, working_dir: '/tmp/wörk dir' }));
      expect(await store.getSession(id)).toMatchObject({ id, title, working_dir: '/tmp/wörk dir' });
      const timestamp = '2024-05-01T10:00:00.123Z';
      const data = { content: 'emoji 👩‍💻 and ✓', nested: { list: [1, 'ü', null, true] } };
      await store.commit([{ session_id: id, type: 'agent_choice', data, timestamp }]);
      const [event] = await store.readEvents(id, 0, 10);
      expect(event).toEqual({ session_id: id, seq: 1, type: 'agent_choice', data, timestamp });
      const page = await store.listSessions({ limit: 10 });
      expect(page.items.map((s) => s.id)).toContain(id);
    });

    it('keeps per-session executor settings from create, replaces them with a commit patch, and omits unset ones', async () => {
      const store = await fresh();
      await store.createSession(testSessionRecord('with', { sandbox: 'none', network: true }));
      await store.createSession(testSessionRecord('without'));
      expect(await store.getSession('with')).toMatchObject({ sandbox: 'none', network: true });
      const plain = await store.getSession('without');
      expect(plain && 'sandbox' in plain).toBe(false);
      expect(plain && 'network' in plain).toBe(false);
      await store.commit([{ ...testEntry('with', 1), session: { settings: { sandbox: 'bwrap' } } }]);
      const after = await store.getSession('with');
      expect(after?.sandbox).toBe('bwrap');
      expect(after && 'network' in after).toBe(false);
      expect((await store.listSessions({ limit: 10 })).items.find((r) => r.id === 'with')?.sandbox).toBe('bwrap');
    });

    it('keeps where a session runs its tools, changes it with a patch and clears it with null', async () => {
      const store = await fresh();
      await store.createSession(testSessionRecord('r', { runner: { labels: ['gpu', 'linux'] } }));
      expect((await store.getSession('r'))?.runner).toEqual({ labels: ['gpu', 'linux'] });
      await store.commit([{ ...testEntry('r', 1), session: { runner: { labels: ['arm'] } } }]);
      expect((await store.getSession('r'))?.runner).toEqual({ labels: ['arm'] });
      await store.commit([{ ...testEntry('r', 2), session: { title: 'kept' } }]);
      expect((await store.getSession('r'))?.runner).toEqual({ labels: ['arm'] });
      await store.commit([{ ...testEntry('r', 3), session: { runner: null } }]);
      const cleared = await store.getSession('r');
      expect(cleared && 'runner' in cleared).toBe(false);
    });

    it('commits a large batch across sessions in order', async () => {
      const store = await fresh();
      for (const id of ['x', 'y', 'z']) await store.createSession(testSessionRecord(id));
      const entries: CommitEntry[] = Array.from({ length: 6000 }, (_, i) => testEntry(['x', 'y', 'z'][i % 3] as string, i));
      const results = await store.commit(entries);
      expect(results).toHaveLength(6000);
      expect(results.filter((r) => r.event.session_id === 'y').map((r) => r.event.seq)).toEqual(
        Array.from({ length: 2000 }, (_, i) => i + 1),
      );
      expect(await store.lastSeq('z')).toBe(2000);
      expect((await store.readEvents('x', 1990, 100)).map((e) => e.seq)).toEqual(Array.from({ length: 10 }, (_, i) => 1991 + i));
    });

    it('creates a session in a commit with its first event, and conflicts without a trace', async () => {
      const store = await fresh();
      const rec = testSessionRecord('n', { last_event_seq: 7, message_count: 3 });
      const [r] = await store.commit([{ ...testEntry('n', 1), create_session: rec }]);
      expect(r?.event.seq).toBe(1);
      expect(await store.getSession('n')).toMatchObject({ id: 'n', last_event_seq: 1, message_count: 0 });
      await store.createSession(testSessionRecord('o'));
      const err = await failure(store.commit([testEntry('n', 2), { ...testEntry('o', 3), create_session: testSessionRecord('o') }]));
      expect(err.code).toBe('conflict');
      expect(err.details).toMatchObject({ session_id: 'o' });
      expect(await store.lastSeq('n')).toBe(1);
      expect(await store.lastSeq('o')).toBe(0);
    });

    it('uses encoded JSON when given, matching the objects', async () => {
      const store = await fresh();
      await store.createSession(testSessionRecord('e'));
      const data = { content: 'pre-encoded' };
      const message = { role: 'user' as const, content: 'hi' };
      await store.commit([{ ...testEntry('e', 1), data, message, encoded: { data: JSON.stringify(data), message: JSON.stringify(message) } }]);
      expect((await store.readEvents('e', 0, 1))[0]?.data).toEqual(data);
      expect((await store.listMessages('e'))[0]?.message).toEqual(message);
    });

    it('compare-and-sets state rows, in commits and on their own', async () => {
      const store = await fresh();
      await store.createSession(testSessionRecord('c'));
      expect(await store.compareAndSetState('c', 'k', undefined, 'v1')).toBe(true);
      expect(await store.compareAndSetState('c', 'k', undefined, 'v2')).toBe(false);
      expect(await store.compareAndSetState('c', 'k', 'v1', 'v2')).toBe(true);
      expect(await store.getState('c', 'k')).toBe('v2');
      expect(await store.compareAndSetState('c', 'k', 'v2', undefined)).toBe(true);
      expect(await store.getState('c', 'k')).toBeUndefined();
      expect((await failure(store.compareAndSetState('ghost', 'k', undefined, 'v'))).code).toBe('unknown_session');

      await store.commit([{ ...testEntry('c', 1), state: { q: 'a' }, expect_state: { q: null } }]);
      const err = await failure(store.commit([{ ...testEntry('c', 2), state: { q: 'b' }, expect_state: { q: null } }]));
      expect(err.code).toBe('conflict');
      expect(err.details).toMatchObject({ session_id: 'c' });
      expect(await store.getState('c', 'q')).toBe('a');
      expect(await store.lastSeq('c')).toBe(1);
      await store.commit([{ ...testEntry('c', 3), state: { q: 'b' }, expect_state: { q: 'a' } }]);
      expect(await store.getState('c', 'q')).toBe('b');
    });

    it('lists sessions holding any of some state keys, in one call', async () => {
      const store = await fresh();
      for (const id of ['a', 'b', 'c', 'd']) await store.createSession(testSessionRecord(id));
      await store.setState('b', 'queue:followup', '[]');
      await store.setState('d', 'queue:steer', '[]');
      await store.setState('d', 'queue:followup', '[]');
      await store.setState('a', 'other', 'x');
      expect(await store.listSessionsWithState(['queue:steer', 'queue:followup'])).toEqual(['b', 'd']);
      expect(await store.listSessionsWithState([])).toEqual([]);
      await store.commit([{ ...testEntry('d', 1), delete_session: true }]);
      expect(await store.listSessionsWithState(['queue:steer', 'queue:followup'])).toEqual(['b']);
    });

    it('reads many sessions in one call, each row as getSession has it; unknown and repeated ids change nothing', async () => {
      const store = await fresh();
      // Ids JSON or SQL would have to quote, and more than a page of them.
      const ids = ['a', "it's", 'quo"te', 'uni\u00e9', ...Array.from({ length: 300 }, (_, i) => `s${i}`)];
      for (const id of ids) await store.createSession(testSessionRecord(id, { title: `t ${id}` }));
      // Event-only commits and a message move the heads (last_event_seq, updated_at, message_count).
      await store.commit([testEntry('a', 1), testEntry('a', 2), { ...testEntry("it's", 3), message: { role: 'user', content: 'hi' } }]);
      await store.commit([{ ...testEntry('s7', 4), delete_session: true }]);
      const byId = (rows: { id: string }[]): string[] => rows.map((r) => r.id).sort();
      const wanted = ['a', "it's", 'quo"te', 'uni\u00e9', 's0', 's7', 's299', 'ghost', 'a'];
      const rows = await store.getSessions(wanted);
      expect(byId(rows)).toEqual(['a', "it's", 'quo"te', 's0', 's299', 'uni\u00e9'].sort());
      for (const row of rows) expect(row).toEqual(await store.getSession(row.id));
      expect(rows.find((r) => r.id === 'a')).toMatchObject({ last_event_seq: 2 });
      expect(rows.find((r) => r.id === "it's")).toMatchObject({ last_event_seq: 1, message_count: 1 });
      expect(byId(await store.getSessions(ids))).toHaveLength(ids.length - 1);
      expect(await store.getSessions([])).toEqual([]);
      expect(await store.getSessions(['ghost'])).toEqual([]);
    });
  });
}
