import { describe, expect, it } from 'vitest';
import type { Session } from '../../protocol/session.js';
import { SessionList } from './session-list.js';

function session(id: string, created_at: string, over: Partial<Session> = {}): Session {
  return {
    id, title: `t-${id}`, created_at, updated_at: created_at, working_dir: '/w', model: 'm', permissions: { allow: [], deny: [], ask: [] },
    starred: false, input_tokens: 0, output_tokens: 0, cost: 0, message_count: 0, status: 'idle', last_event_seq: 1, ...over,
  } as Session;
}

const ids = (list: SessionList): string[] => list.payloads().map((p) => p.id);

describe('SessionList', () => {
  it('keeps the store order (created_at, then id, newest first) whatever the order of reads', () => {
    const list = new SessionList();
    list.upsert(session('b', '2026-01-01T00:00:02.000Z'));
    list.upsert(session('a', '2026-01-01T00:00:03.000Z'));
    list.upsert(session('d', '2026-01-01T00:00:01.000Z'));
    list.upsert(session('c', '2026-01-01T00:00:02.000Z'));
    expect(ids(list)).toEqual(['a', 'c', 'b', 'd']);
    expect(list.remove('c')).toBe(true);
    expect(list.remove('c')).toBe(false);
    expect(ids(list)).toEqual(['a', 'b', 'd']);
    expect(list.size).toBe(3);
  });

  it('says a change is worth a list frame for a new session or a new title, not for counts or times', () => {
    const list = new SessionList();
    expect(list.upsert(session('a', '2026-01-01T00:00:00.000Z'))).toBe(true);
    expect(list.upsert(session('a', '2026-01-01T00:00:00.000Z', { message_count: 4, updated_at: '2026-01-02T00:00:00.000Z' }))).toBe(false);
    // The payload still carries the newest counts.
    expect(list.get('a')).toEqual({ id: 'a', title: 't-a', updated_at: '2026-01-02T00:00:00.000Z', message_count: 4 });
    expect(list.upsert(session('a', '2026-01-01T00:00:00.000Z', { title: 'renamed' }))).toBe(true);
    expect(list.payloads()).toEqual([{ id: 'a', title: 'renamed', updated_at: '2026-01-01T00:00:00.000Z', message_count: 0 }]);
  });

  it('lets a full read replace the list, except sessions changed one at a time while it ran', () => {
    const list = new SessionList();
    list.upsert(session('old', '2026-01-01T00:00:00.000Z'));
    list.upsert(session('gone', '2026-01-01T00:00:01.000Z'));
    list.beginRead();
    // While the read is under way: one session created, one deleted, one renamed.
    list.upsert(session('new', '2026-01-01T00:00:09.000Z'));
    list.remove('gone');
    list.upsert(session('old', '2026-01-01T00:00:00.000Z', { title: 'fresh' }));
    // The read saw the state before those changes, and one session nothing announced (an import).
    const changed = list.replace([
      session('gone', '2026-01-01T00:00:01.000Z'),
      session('old', '2026-01-01T00:00:00.000Z', { title: 'stale' }),
      session('imported', '2026-01-01T00:00:05.000Z'),
    ]);
    expect(changed).toBe(true);
    expect(list.payloads().map((p) => [p.id, p.title])).toEqual([['new', 't-new'], ['imported', 't-imported'], ['old', 'fresh']]);
    // A later read that finds nothing new changes nothing; one that misses a session drops it.
    list.beginRead();
    expect(list.replace([session('new', '2026-01-01T00:00:09.000Z'), session('imported', '2026-01-01T00:00:05.000Z'), session('old', '2026-01-01T00:00:00.000Z', { title: 'fresh' })])).toBe(false);
    list.beginRead();
    expect(list.replace([session('new', '2026-01-01T00:00:09.000Z')])).toBe(true);
    expect(ids(list)).toEqual(['new']);
  });
});
