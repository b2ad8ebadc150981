import { describe, expect, it } from 'vitest';
import type { InboxMessage, ThreadMessage } from '../api/types.js';
import { chains, emptyLog, foldInbox, foldMessages, foldThreadState, loadInbox, loadThreads, sortThreads } from './threads.js';

const msg = (seq: number): ThreadMessage => ({
  id: `m${seq}`,
  thread_id: 't',
  message_seq: seq,
  created_at: '2026-01-01T00:00:00.000Z',
  from_type: 'agent',
  from_id: 'a',
  to_type: 'broadcast',
  to_id: '',
  kind: 'status',
  content: `c${seq}`,
});

describe('thread message fold', () => {
  it('shows messages in message_seq order once each, holding those after a hole until it fills', () => {
    let log = foldMessages(emptyLog(), [msg(1), msg(2), msg(4)]);
    expect(log.messages.map((m) => m.message_seq)).toEqual([1, 2]);
    expect(log.applied).toBe(2);
    log = foldMessages(log, [msg(2), msg(4), msg(1)]);
    expect(log.messages).toHaveLength(2);
    log = foldMessages(log, [msg(3)]);
    expect(log.messages.map((m) => m.message_seq)).toEqual([1, 2, 3, 4]);
    expect(log.waiting.size).toBe(0);
    expect(foldMessages(log, [msg(4), msg(1)])).toBe(log);
  });
});

describe('threads list fold', () => {
  const base = loadThreads(undefined, [{ id: 't', title: 'T', status: 'active', last_seq: 3, created_at: '2026-01-01T00:00:00Z', updated_at: '2026-01-01T00:00:03Z' }]);
  it('takes newer states and drops older ones', () => {
    const paused = foldThreadState(base, { thread_id: 't', status: 'paused', last_seq: 3, updated_at: '2026-01-01T00:00:04Z' });
    expect(paused.get('t')).toMatchObject({ title: 'T', status: 'paused' });
    expect(foldThreadState(paused, { thread_id: 't', status: 'active', last_seq: 2, updated_at: '2026-01-01T00:00:09Z' })).toBe(paused);
    expect(foldThreadState(paused, { thread_id: 't', status: 'active', last_seq: 3, updated_at: '2026-01-01T00:00:01Z' })).toBe(paused);
    expect(foldThreadState(paused, { nope: 1 })).toBe(paused);
  });
  it('a thread first seen in a state gets a row without a title; the list sorts by last update', () => {
    const s = foldThreadState(base, { thread_id: 'u', status: 'active', last_seq: 1, updated_at: '2026-01-01T00:00:05Z' });
    expect(sortThreads(s).map((t) => [t.id, t.title])).toEqual([['u', ''], ['t', 'T']]);
  });
  it('a created thread (last_seq 0) arrives with its title and creation time', () => {
    const s = foldThreadState(base, { thread_id: 'n', status: 'active', last_seq: 0, updated_at: '2026-01-01T00:00:06Z', title: 'New', created_at: '2026-01-01T00:00:06Z' });
    expect(s.get('n')).toMatchObject({ title: 'New', created_at: '2026-01-01T00:00:06Z', last_seq: 0 });
  });
});

const inbox = (id: string, over: Partial<InboxMessage> = {}): InboxMessage => ({
  id,
  message_id: `mid-${id}`,
  from_agent: 'a',
  to_inbox: 'human',
  message_type: 'info',
  title: id,
  status: 'unread',
  created_at: `2026-01-01T00:00:0${id.length}.000Z`,
  updated_at: `2026-01-01T00:00:0${id.length}.000Z`,
  ...over,
});

describe('inbox fold', () => {
  it('groups a request, its handoff and the reply by correlation id; keeps live messages of other inboxes across reads', () => {
    let s = loadInbox(undefined, [inbox('q', { correlation_id: 'c1', message_type: 'request' })]);
    s = foldInbox(s, inbox('ho', { correlation_id: 'c1', message_type: 'handoff', to_inbox: 'agent-b', created_at: '2026-01-01T00:00:05.000Z' }));
    s = foldInbox(s, inbox('rep', { correlation_id: 'c1', message_type: 'response', created_at: '2026-01-01T00:00:06.000Z' }));
    s = foldInbox(s, inbox('solo'));
    s = foldInbox(s, { id: 1 });
    const c = chains(s);
    expect(c.find((x) => x.id === 'c1')?.messages.map((m) => m.message_type)).toEqual(['request', 'handoff', 'response']);
    expect(c.find((x) => x.id === 'mid-solo')?.messages).toHaveLength(1);
    const reread = loadInbox(s, [inbox('q', { correlation_id: 'c1', status: 'read' })]);
    expect([...reread.keys()].sort()).toEqual(['ho', 'q']);
    expect(reread.get('q')?.status).toBe('read');
  });
});
