import { describe, expect, it } from 'vitest';
import type { Session } from '../api/types.js';
import type { SessionChange } from '../api/types.js';
import { emptyRows, foldChange, loadRows, type SessionRows } from './sessions.js';

/** A list row as the API reads it, made by folding its creation (the fold fills every field). */
const session = (id: string, over: Partial<Session> = {}): Session => {
  const made = foldChange(emptyRows(), { session_id: id, seq: 1, timestamp: '2026-01-01T00:00:00.000Z', title: id, model: 'm', working_dir: '/w' });
  return { ...(made.rows.get(id)?.s as Session), ...over };
};
const ch = (session_id: string, seq: number, over: Partial<SessionChange> = {}): SessionChange => ({
  session_id,
  seq,
  timestamp: `2026-01-01T00:00:${String(seq).padStart(2, '0')}.000Z`,
  ...over,
});
const fold = (s: SessionRows, ...changes: unknown[]) => changes.reduce<SessionRows>(foldChange, s);

describe('session list fold', () => {
  it('a created session appears, then takes its status, tokens, title and star in seq order', () => {
    const s = fold(
      emptyRows(),
      ch('a', 1, { title: 'New', model: 'm1', working_dir: '/x', status: 'idle', activity: 'idle' }),
      ch('a', 3, { status: 'running', activity: 'running' }),
      ch('a', 9, { activity: 'waiting_confirmation' }),
      ch('a', 12, { input_tokens: 10, output_tokens: 3, cost: 0.5 }),
    );
    expect(s.rows.get('a')).toMatchObject({ status: 'waiting for approval', s: { title: 'New', model: 'm1', status: 'running', input_tokens: 10, cost: 0.5, last_event_seq: 12, updated_at: '2026-01-01T00:00:12.000Z' } });
    const idle = fold(s, ch('a', 13, { status: 'idle', activity: 'idle' }), ch('a', 14, { title: 'Greeting' }), ch('a', 15, { starred: true }));
    expect(idle.rows.get('a')).toMatchObject({ status: 'idle', s: { title: 'Greeting', starred: true, status: 'idle' } });
  });

  it('duplicates and changes older than the row change nothing (a read after them, or a replay)', () => {
    const loaded = loadRows(undefined, [{ s: session('a', { title: 'Now', last_event_seq: 20 }), status: 'idle' }]);
    const after = fold(loaded, ch('a', 5, { title: 'Old' }), ch('a', 20, { title: 'Same seq' }));
    expect(after).toBe(loaded);
    const once = fold(loaded, ch('a', 21, { title: 'Newer' }));
    expect(fold(once, ch('a', 21, { title: 'Newer' }))).toBe(once);
    expect(once.rows.get('a')?.s.title).toBe('Newer');
  });

  it('a deletion removes the row for good: later reads and older changes do not bring it back', () => {
    const s = fold(loadRows(undefined, [{ s: session('a'), status: 'idle' }, { s: session('b'), status: 'idle' }]), ch('a', 4, { deleted: true }));
    expect([...s.rows.keys()]).toEqual(['b']);
    const reread = loadRows(s, [{ s: session('a'), status: 'idle' }, { s: session('b'), status: 'idle' }]);
    expect([...reread.rows.keys()]).toEqual(['b']);
    expect(fold(reread, ch('a', 3, { title: 'late' }), ch('a', 1, { title: 'late', model: 'm' })).rows.has('a')).toBe(false);
  });

  it('a change for a session the list does not hold makes no row unless it is the creation; junk is ignored', () => {
    const s = fold(emptyRows(), ch('x', 7, { status: 'running' }), null, 42, { session_id: 'y' }, { seq: 1 }, { session_id: 'z', seq: 1.5 });
    expect(s.rows.size).toBe(0);
  });

  it('a running row keeps its waiting status through changes that say nothing of activity', () => {
    const s = fold(loadRows(undefined, [{ s: session('a', { status: 'running' }), status: 'waiting for an answer' }]), ch('a', 2, { input_tokens: 4 }));
    expect(s.rows.get('a')?.status).toBe('waiting for an answer');
  });
});
