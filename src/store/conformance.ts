import { afterEach, describe, expect, it } from 'vitest';
import type { ConversationMessage } from '../protocol/conversation.js';
import { isTowerError, type ErrorCode } from '../protocol/errors.js';
import { storedEventOf } from '../protocol/events.js';
import type { Store } from './types.js';

/**
 * The behaviour every Store backend must show. A backend's test file calls `describeStoreConformance`
 * with a factory that returns a fresh, empty store per test.
 */
export interface ConformanceOptions {
  /** Called after each test with the store it used (default: `store.close()`). */
  cleanup?: (store: Store) => Promise<void>;
  /** Opens the same storage again after `closed` was closed; omit when the backend cannot (in-memory). */
  reopen?: (closed: Store) => Promise<Store>;
  /**
   * Opens a second instance on the same storage as `open` (another node on one database); omit when
   * the backend cannot. The test closes it.
   */
  sameDatabase?: (first: Store) => Promise<Store>;
  /** The store builds `readEventFrames` pages itself (SQLite): it must not decline spliceable ones. */
  buildsFrames?: boolean;
}

import { testEntry, testSessionRecord, ts } from './testing/fixtures.js';
import { describeFramesConformance } from './testing/conformance-frames.js';
import { describeStoreConformanceMore } from './testing/conformance-more.js';

export { testEntry, testSessionRecord, ts };

const user = (content: string): ConversationMessage => ({ role: 'user', content });
const assistant = (content: string, partial?: boolean): ConversationMessage =>
  partial ? { role: 'assistant', content, partial } : { role: 'assistant', content };

async function expectCode(p: Promise<unknown>, code: ErrorCode): Promise<void> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(isTowerError(err), `expected TowerError(${code}), got ${String(err)}`).toBe(true);
  expect((err as { code: string }).code).toBe(code);
}

export function describeStoreConformance(
  name: string,
  open: () => Promise<Store>,
  opts: ConformanceOptions = {},
): void {
  describe(`Store conformance: ${name}`, () => {
    let store: Store;
    const opened: Store[] = [];
    const fresh = async (): Promise<Store> => {
      store = await open();
      opened.push(store);
      return store;
    };
    afterEach(async () => {
      for (const s of opened.splice(0).reverse()) await (opts.cleanup ? opts.cleanup(s) : s.close());
    });

    describe('sessions', () => {
      it('creates and gets a session; unknown ids are undefined', async () => {
        await fresh();
        const rec = testSessionRecord('a', { title: 'hello', starred: true });
        await store.createSession(rec);
        expect(await store.getSession('a')).toEqual(rec);
        expect(await store.getSession('nope')).toBeUndefined();
        expect(await store.lastSeq('a')).toBe(0);
      });

      it('refuses a duplicate id with conflict and keeps the original', async () => {
        await fresh();
        await store.createSession(testSessionRecord('a', { title: 'first' }));
        await expectCode(store.createSession(testSessionRecord('a', { title: 'second' })), 'conflict');
        expect((await store.getSession('a'))?.title).toBe('first');
      });

      it('lists newest first (created_at, then id) across pages with an opaque cursor', async () => {
        await fresh();
        const specs: [string, number][] = [['a', 1], ['b', 5], ['c', 3], ['d', 5], ['e', 2], ['f', 4], ['g', 5]];
        for (const [id, t] of specs) await store.createSession(testSessionRecord(id, { created_at: ts(t) }));
        const seen: string[] = [];
        let cursor: string | undefined;
        let pages = 0;
        do {
          const page = await store.listSessions(cursor === undefined ? { limit: 3 } : { limit: 3, cursor });
          seen.push(...page.items.map((s) => s.id));
          cursor = page.next_cursor;
          pages++;
        } while (cursor !== undefined && pages < 10);
        expect(seen).toEqual(['g', 'd', 'b', 'f', 'c', 'e', 'a']);
        expect(pages).toBe(3);

        const exact = await store.listSessions({ limit: 7 });
        expect(exact.items).toHaveLength(7);
        expect(exact.next_cursor).toBeUndefined();
        expect((await store.listSessions({ limit: 3 })).items[0]).toEqual(
          testSessionRecord('g', { created_at: ts(5) }),
        );
        expect((await store.listSessionIds()).sort()).toEqual(['a', 'b', 'c', 'd', 'e', 'f', 'g']);
      });

      it('rejects an invalid cursor with invalid_request', async () => {
        await fresh();
        await expectCode(store.listSessions({ limit: 3, cursor: 'not a cursor!' }), 'invalid_request');
        await expectCode(store.listSessions({ limit: 3, cursor: 'Zm9v' }), 'invalid_request');
      });
    });

    describe('commit', () => {
      it('assigns gap-free seqs per session across interleaved sessions in one batch', async () => {
        await fresh();
        await store.createSession(testSessionRecord('a'));
        await store.createSession(testSessionRecord('b'));
        const results = await store.commit([
          testEntry('a', 1),
          testEntry('b', 2),
          testEntry('a', 3),
          testEntry('a', 4),
          testEntry('b', 5),
        ]);
        expect(results.map((r) => [r.event.session_id, r.event.seq])).toEqual([
          ['a', 1], ['b', 1], ['a', 2], ['a', 3], ['b', 2],
        ]);
        expect(results[0]?.event).toEqual({
          session_id: 'a', seq: 1, type: 'agent_choice', data: { content: 'c1' }, timestamp: ts(1),
        });
        const next = await store.commit([testEntry('b', 6), testEntry('a', 7)]);
        expect(next.map((r) => r.event.seq)).toEqual([3, 4]);

        const a = await store.readEvents('a', 0, 100);
        expect(a.map((e) => e.seq)).toEqual([1, 2, 3, 4]);
        expect(a.map((e) => e.data)).toEqual([{ content: 'c1' }, { content: 'c3' }, { content: 'c4' }, { content: 'c7' }]);
        expect(a.every((e) => e.session_id === 'a')).toBe(true);
        expect(await store.lastSeq('a')).toBe(4);
        expect(await store.lastSeq('b')).toBe(3);
        const rowA = await store.getSession('a');
        expect(rowA?.last_event_seq).toBe(4);
        expect(rowA?.updated_at).toBe(ts(7));
        expect(await store.commit([])).toEqual([]);
      });

      it('appends conversation messages with increasing indexes', async () => {
        await fresh();
        await store.createSession(testSessionRecord('a'));
        const r = await store.commit([
          testEntry('a', 1, { message: user('hi') }),
          testEntry('a', 2),
          testEntry('a', 3, { message: assistant('hello') }),
        ]);
        expect(r.map((x) => x.message_index)).toEqual([0, undefined, 1]);
        const r2 = await store.commit([testEntry('a', 4, { message: user('again') })]);
        expect(r2[0]?.message_index).toBe(2);
        expect(await store.listMessages('a')).toEqual([
          { index: 0, message: user('hi'), created_at: ts(1) },
          { index: 1, message: assistant('hello'), created_at: ts(3) },
          { index: 2, message: user('again'), created_at: ts(4) },
        ]);
        expect((await store.getSession('a'))?.message_count).toBe(3);
        expect(await store.listMessages('nope')).toEqual([]);
        // A reader's tail: only the messages past an index.
        expect((await store.listMessages('a', 0)).map((m) => m.index)).toEqual([1, 2]);
        expect((await store.listMessages('a', -1)).map((m) => m.index)).toEqual([0, 1, 2]);
        expect(await store.listMessages('a', 2)).toEqual([]);
      });

      it('replaces the last message without changing the count', async () => {
        await fresh();
        await store.createSession(testSessionRecord('a'));
        await store.commit([
          testEntry('a', 1, { message: user('q') }),
          testEntry('a', 2, { message: assistant('par', true) }),
        ]);
        await store.commit([testEntry('a', 3, { replace_last_message: assistant('partial no more') })]);
        const msgs = await store.listMessages('a');
        expect(msgs.map((m) => m.message)).toEqual([user('q'), assistant('partial no more')]);
        expect((await store.getSession('a'))?.message_count).toBe(2);

        // In one entry the replacement lands before the append.
        const r = await store.commit([
          testEntry('a', 4, { replace_last_message: assistant('final'), message: user('next') }),
        ]);
        expect(r[0]?.message_index).toBe(2);
        expect((await store.listMessages('a')).map((m) => m.message)).toEqual([
          user('q'), assistant('final'), user('next'),
        ]);
      });

      it('refuses to replace a message in an empty conversation, writing nothing', async () => {
        await fresh();
        await store.createSession(testSessionRecord('a'));
        await expectCode(store.commit([testEntry('a', 1, { replace_last_message: assistant('x') })]), 'invalid_request');
        expect(await store.lastSeq('a')).toBe(0);
      });

      it('applies session patches: fields are set, counters are added', async () => {
        await fresh();
        await store.createSession(testSessionRecord('a'));
        const permissions = { allow: ['*'], ask: [], deny: [], policy: 'autonomous' as const, auto_approve: false };
        await store.commit([
          testEntry('a', 1, { session: { title: 'T1', add_input_tokens: 10, add_output_tokens: 5, add_cost: 0.25 } }),
          testEntry('a', 2, { session: { title: 'T2', starred: true, add_input_tokens: 1, add_cost: 0.5 } }),
        ]);
        await store.commit([testEntry('a', 3, { session: { model: 'other/m', permissions, add_output_tokens: 2 } })]);
        const s = await store.getSession('a');
        expect(s).toMatchObject({
          title: 'T2', starred: true, model: 'other/m', permissions,
          input_tokens: 11, output_tokens: 7, last_event_seq: 3, updated_at: ts(3),
        });
        expect(s?.cost).toBeCloseTo(0.75, 10);
        await store.commit([testEntry('a', 4, { session: { starred: false } })]);
        expect((await store.getSession('a'))?.starred).toBe(false);
      });

      it('fails the whole commit on an unknown session and writes nothing', async () => {
        await fresh();
        await store.createSession(testSessionRecord('a'));
        await store.createSession(testSessionRecord('b'));
        await store.commit([testEntry('a', 1, { message: user('m0') })]);
        await expectCode(
          store.commit([
            testEntry('a', 2, { message: user('m1'), session: { title: 'changed', add_input_tokens: 9 } }),
            testEntry('b', 3),
            testEntry('ghost', 4),
          ]),
          'unknown_session',
        );
        expect(await store.lastSeq('a')).toBe(1);
        expect(await store.lastSeq('b')).toBe(0);
        expect(await store.readEvents('a', 0, 10)).toHaveLength(1);
        expect(await store.readEvents('b', 0, 10)).toEqual([]);
        expect(await store.listMessages('a')).toHaveLength(1);
        expect(await store.getSession('a')).toMatchObject({ title: 'title a', input_tokens: 0, message_count: 1 });
        expect(await store.getSession('ghost')).toBeUndefined();
        // The next commit continues as if the failed one never happened.
        const r = await store.commit([testEntry('a', 5, { message: user('m1') })]);
        expect(r[0]).toMatchObject({ event: { seq: 2 }, message_index: 1 });
      });

      it('delete_session removes the session, its events, messages and state, returning the event', async () => {
        await fresh();
        await store.createSession(testSessionRecord('a'));
        await store.createSession(testSessionRecord('b'));
        await store.commit([testEntry('a', 1, { message: user('x') }), testEntry('b', 2)]);
        await store.setState('a', 'queue', '[1]');
        const r = await store.commit([
          testEntry('a', 3),
          { session_id: 'a', type: 'session_deleted', data: {}, timestamp: ts(4), delete_session: true },
          testEntry('b', 5),
        ]);
        expect(r.map((x) => [x.event.type, x.event.seq])).toEqual([
          ['agent_choice', 2], ['session_deleted', 3], ['agent_choice', 2],
        ]);
        expect(await store.getSession('a')).toBeUndefined();
        expect(await store.lastSeq('a')).toBeUndefined();
        expect(await store.readEvents('a', 0, 100)).toEqual([]);
        expect(await store.listMessages('a')).toEqual([]);
        expect(await store.getState('a', 'queue')).toBeUndefined();
        expect(await store.snapshot('a')).toBeUndefined();
        expect(await store.listSessionIds()).toEqual(['b']);
        expect(await store.lastSeq('b')).toBe(2);
      });

      it('writes state rows in the same transaction as the event; null deletes; a failed commit writes none', async () => {
        await fresh();
        await store.createSession(testSessionRecord('a'));
        await store.setState('a', 'gone', 'soon');
        await store.commit([
          testEntry('a', 1, { state: { 'queue:steer': '["x"]', gone: null } }),
          testEntry('a', 2, { state: { 'queue:steer': '["x","y"]' } }),
        ]);
        expect(await store.getState('a', 'queue:steer')).toBe('["x","y"]');
        expect(await store.getState('a', 'gone')).toBeUndefined();
        await expectCode(
          store.commit([testEntry('a', 3, { state: { 'queue:steer': '[]' } }), testEntry('ghost', 4)]),
          'unknown_session',
        );
        expect(await store.getState('a', 'queue:steer')).toBe('["x","y"]');
      });

      it('an entry after the delete of its session in the same batch fails the whole commit', async () => {
        await fresh();
        await store.createSession(testSessionRecord('a'));
        await expectCode(
          store.commit([
            { session_id: 'a', type: 'session_deleted', data: {}, timestamp: ts(1), delete_session: true },
            testEntry('a', 2),
          ]),
          'unknown_session',
        );
        expect(await store.getSession('a')).toBeDefined();
        expect(await store.lastSeq('a')).toBe(0);
      });
    });

    describe('reads', () => {
      it('readEvents honours afterSeq and limit; unknown sessions read empty', async () => {
        await fresh();
        await store.createSession(testSessionRecord('a'));
        await store.commit(Array.from({ length: 10 }, (_, i) => testEntry('a', i + 1)));
        expect((await store.readEvents('a', 0, 3)).map((e) => e.seq)).toEqual([1, 2, 3]);
        expect((await store.readEvents('a', 3, 3)).map((e) => e.seq)).toEqual([4, 5, 6]);
        expect((await store.readEvents('a', 8, 100)).map((e) => e.seq)).toEqual([9, 10]);
        expect(await store.readEvents('a', 10, 100)).toEqual([]);
        expect(await store.readEvents('nope', 0, 100)).toEqual([]);
        expect(await store.lastSeq('nope')).toBeUndefined();
      });

      it('readEventsRaw gives the same rows with data as the stored JSON text, verbatim', async () => {
        await fresh();
        await store.createSession(testSessionRecord('a'));
        const payloads: Record<string, unknown>[] = [
          { content: 'plain' },
          { content: 'ünïcødé \u0000 nul, "quotes", \\ back\nslash, \ud83d\ude00, lone \ud800' },
          {},
          { nested: { list: [1, 2.5, -0, 1e21, null, true], deep: { k: 'v' } }, '10': 'integer key', z: 'last' },
        ];
        await store.commit(payloads.map((data, i) => ({ ...testEntry('a', i + 1), data })));
        const typed = await store.readEvents('a', 0, 100);
        const raw = await store.readEventsRaw('a', 0, 100);
        expect(raw.map((r) => r.seq)).toEqual([1, 2, 3, 4]);
        expect(raw.map((r) => r.data)).toEqual(payloads.map((p) => JSON.stringify(p)));
        expect(raw.map((r) => ({ ...r, data: JSON.parse(r.data) as unknown }))).toEqual(typed);
        expect(typeof raw[0]?.seq).toBe('number');
        expect((await store.readEventsRaw('a', 1, 2)).map((r) => r.seq)).toEqual([2, 3]);
        expect(await store.readEventsRaw('a', 4, 100)).toEqual([]);
        expect(await store.readEventsRaw('a', 0, 0)).toEqual([]);
        expect(await store.readEventsRaw('nope', 0, 100)).toEqual([]);
        // Imported events (original seqs) read back raw too.
        await store.importSession(testSessionRecord('imp'), [], typed.map((e) => ({ ...e, session_id: 'imp' })));
        expect((await store.readEventsRaw('imp', 2, 100)).map((r) => [r.session_id, r.seq, r.data])).toEqual(
          raw.slice(2).map((r) => ['imp', r.seq, r.data]),
        );
      });

      it('snapshot returns the row and conversation consistently', async () => {
        await fresh();
        await store.createSession(testSessionRecord('a'));
        await store.commit([
          testEntry('a', 1, { message: user('u') }),
          testEntry('a', 2),
          testEntry('a', 3, { message: assistant('a') }),
        ]);
        const snap = await store.snapshot('a');
        expect(snap?.session.last_event_seq).toBe(await store.lastSeq('a'));
        expect(snap?.session.last_event_seq).toBe((await store.readEvents('a', 0, 100)).length);
        expect(snap?.session.message_count).toBe(snap?.messages.length);
        expect(snap?.messages).toEqual(await store.listMessages('a'));
        expect(await store.snapshot('nope')).toBeUndefined();
      });
    });

    describe('importSession', () => {
      it('round-trips an exported session under a new id, and commits continue after it', async () => {
        await fresh();
        await store.createSession(testSessionRecord('src'));
        await store.commit([
          testEntry('src', 1, { message: user('u'), session: { add_input_tokens: 3 } }),
          testEntry('src', 2, { message: assistant('a') }),
          testEntry('src', 3),
        ]);
        const session = await store.getSession('src');
        const messages = await store.listMessages('src');
        const events = await store.readEvents('src', 0, 100);
        if (!session) throw new Error('missing source');
        const copy = { ...session, id: 'copy', created_at: ts(9) };
        await store.importSession(copy, messages, events.map((e) => ({ ...e, session_id: 'copy' })));

        expect(await store.getSession('copy')).toEqual(copy);
        expect(await store.listMessages('copy')).toEqual(messages);
        expect(await store.readEvents('copy', 0, 100)).toEqual(events.map((e) => ({ ...e, session_id: 'copy' })));
        const r = await store.commit([testEntry('copy', 4, { message: user('more') })]);
        expect(r[0]).toMatchObject({ event: { seq: 4 }, message_index: 2 });
        expect(await store.lastSeq('src')).toBe(3);
      });

      // Fork relies on this: the copied history and its `session_forked` land together or not at all.
      it('writes nothing when a part fails after the row went in, and the id stays free', async () => {
        await fresh();
        const good = { session_id: 'half', seq: 1, type: 'agent_choice' as const, data: { content: 'x' }, timestamp: ts(1) };
        // A BigInt cannot be serialised: the second event fails inside the transaction, after row and messages.
        const bad = storedEventOf('half', 2, 'session_forked', { from_session_id: 'src', message_index: 1n }, ts(2));
        const messages = [{ index: 0, message: user('u'), created_at: ts(1) }];
        await expect(store.importSession(testSessionRecord('half'), messages, [good, bad])).rejects.toThrow();
        expect(await store.getSession('half')).toBeUndefined();
        expect(await store.listMessages('half')).toEqual([]);
        expect(await store.readEvents('half', 0, 10)).toEqual([]);
        await store.importSession(testSessionRecord('half'), messages, [good]);
        expect(await store.lastSeq('half')).toBe(1);
      });

      it('refuses an existing id with conflict and leaves it untouched', async () => {
        await fresh();
        await store.createSession(testSessionRecord('a', { title: 'orig' }));
        const events = [{ session_id: 'a', seq: 1, type: 'agent_choice' as const, data: { content: 'x' }, timestamp: ts(1) }];
        await expectCode(store.importSession(testSessionRecord('a', { title: 'imp' }), [], events), 'conflict');
        expect((await store.getSession('a'))?.title).toBe('orig');
        expect(await store.readEvents('a', 0, 10)).toEqual([]);
      });

      it('refuses a malformed log (message indexes not 0..n-1, seqs not ascending) with invalid_request, writing nothing', async () => {
        await fresh();
        const event = (seq: number) => ({ session_id: 'bad', seq, type: 'agent_choice' as const, data: { content: 'x' }, timestamp: ts(1) });
        const gap = [{ index: 1, message: user('u'), created_at: ts(1) }];
        await expectCode(store.importSession(testSessionRecord('bad'), gap, [event(1)]), 'invalid_request');
        await expectCode(store.importSession(testSessionRecord('bad'), [], [event(2), event(2)]), 'invalid_request');
        await expectCode(store.importSession(testSessionRecord('bad'), [], [event(0)]), 'invalid_request');
        expect(await store.getSession('bad')).toBeUndefined();
      });
    });

    describe('state', () => {
      it('gets, sets, overwrites and deletes per-session values', async () => {
        await fresh();
        await store.createSession(testSessionRecord('a'));
        await store.createSession(testSessionRecord('b'));
        expect(await store.getState('a', 'k')).toBeUndefined();
        await store.setState('a', 'k', 'v1');
        await store.setState('b', 'k', 'other');
        expect(await store.getState('a', 'k')).toBe('v1');
        await store.setState('a', 'k', 'v2');
        expect(await store.getState('a', 'k')).toBe('v2');
        await store.setState('a', 'k', undefined);
        expect(await store.getState('a', 'k')).toBeUndefined();
        expect(await store.getState('b', 'k')).toBe('other');
        await store.setState('a', 'never-set', undefined);
        await expectCode(store.setState('ghost', 'k', 'v'), 'unknown_session');
      });
    });

    describe('durability', () => {
      it.runIf(opts.reopen !== undefined)('keeps everything across close and reopen', async () => {
        await fresh();
        await store.createSession(testSessionRecord('a'));
        await store.commit([testEntry('a', 1, { message: user('kept'), session: { add_cost: 1.5 } })]);
        await store.setState('a', 'k', 'v');
        const before = { session: await store.getSession('a'), events: await store.readEvents('a', 0, 10) };
        await store.close();
        const reopen = opts.reopen;
        if (!reopen) return;
        const again = await reopen(store);
        opened.push(again);
        expect(await again.getSession('a')).toEqual(before.session);
        expect(await again.readEvents('a', 0, 10)).toEqual(before.events);
        expect((await again.listMessages('a')).map((m) => m.message)).toEqual([user('kept')]);
        expect(await again.getState('a', 'k')).toBe('v');
        expect((await again.commit([testEntry('a', 2)]))[0]?.event.seq).toBe(2);
      });
    });
    describeStoreConformanceMore(fresh, opts.sameDatabase);
    describeFramesConformance(fresh, opts.buildsFrames === true);
  });
}
