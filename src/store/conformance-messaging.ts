import { afterEach, describe, expect, it } from 'vitest';
import { isTowerError, type ErrorCode } from '../protocol/errors.js';
import { NewThreadMessage, type MessagingChange } from '../protocol/messaging.js';
import type { MessagingStore, Store } from './types.js';

/**
 * The messaging behaviour every Store backend must show (threads, inboxes, acks, change watching). A
 * backend's test file calls `describeMessagingConformance` with a factory returning a fresh, empty store.
 */
async function expectCode(p: Promise<unknown>, code: ErrorCode): Promise<void> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(isTowerError(err), `expected TowerError(${code}), got ${String(err)}`).toBe(true);
  expect((err as { code: string }).code).toBe(code);
}

const msg = (content: string, extra: Partial<NewThreadMessage> = {}) => NewThreadMessage.parse({ content, ...extra });

function collect(m: MessagingStore): { changes: MessagingChange[]; until(n: number): Promise<void>; stop(): void } {
  const changes: MessagingChange[] = [];
  let wake: (() => void) | undefined;
  const stop = m.watch((batch) => {
    changes.push(...batch);
    wake?.();
  });
  return {
    changes,
    stop,
    until: async (n) => {
      while (changes.length < n) await new Promise<void>((r) => (wake = r));
    },
  };
}

export function describeMessagingConformance(name: string, open: () => Promise<Store>): void {
  describe(`Messaging conformance: ${name}`, () => {
    const opened: Store[] = [];
    const fresh = async (): Promise<MessagingStore> => {
      const store = await open();
      opened.push(store);
      if (!store.messaging) throw new Error('backend has no messaging store');
      return store.messaging;
    };
    afterEach(async () => {
      for (const s of opened.splice(0)) await s.close();
    });

    it('creates, gets and lists threads; a second create of an id conflicts', async () => {
      const m = await fresh();
      const t = await m.createThread({ id: 't1', title: 'first' });
      expect(t).toMatchObject({ id: 't1', title: 'first', status: 'active', last_seq: 0 });
      expect(await m.getThread('t1')).toEqual(t);
      expect(await m.getThread('nope')).toBeUndefined();
      await m.createThread({ id: 't2', title: 'second', status: 'paused' });
      await expectCode(m.createThread({ id: 't1', title: 'again' }), 'conflict');
      expect((await m.listThreads({ limit: 10 })).map((x) => x.id).sort()).toEqual(['t1', 't2']);
      expect((await m.listThreads({ status: 'paused', limit: 10 })).map((x) => x.id)).toEqual(['t2']);
      await expectCode(m.listThreads({ limit: 0 }), 'invalid_request');
    });

    it('assigns message_seq 1, 2, 3 per thread in the inserting transaction', async () => {
      const m = await fresh();
      await m.createThread({ id: 'a', title: '' });
      await m.createThread({ id: 'b', title: '' });
      const r1 = await m.postThreadMessage('a', msg('one', { kind: 'directive', subject: 's', metadata: { k: 1 } }));
      expect(r1.message).toMatchObject({ thread_id: 'a', message_seq: 1, content: 'one', kind: 'directive', subject: 's', metadata: { k: 1 } });
      expect(r1.thread.last_seq).toBe(1);
      await m.postThreadMessage('b', msg('b1'));
      const r2 = await m.postThreadMessage('a', msg('two'));
      expect(r2.message.message_seq).toBe(2);
      expect((await m.getThread('a'))?.last_seq).toBe(2);
      expect((await m.getThread('b'))?.last_seq).toBe(1);
      await expectCode(m.postThreadMessage('missing', msg('x')), 'not_found');
      expect(await m.readThreadMessages('missing', 0, 10)).toEqual([]);
    });

    it('never assigns a seq twice under concurrent posts', async () => {
      const m = await fresh();
      await m.createThread({ id: 'a', title: '' });
      const results = await Promise.all(Array.from({ length: 100 }, (_, i) => m.postThreadMessage('a', msg(`m${i}`))));
      const seqs = results.map((r) => r.message.message_seq).sort((x, y) => x - y);
      expect(seqs).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
      expect(new Set(results.map((r) => r.message.id)).size).toBe(100);
    });

    it('reads messages after a seq, ascending and limited', async () => {
      const m = await fresh();
      await m.createThread({ id: 'a', title: '' });
      for (let i = 1; i <= 7; i++) await m.postThreadMessage('a', msg(`m${i}`));
      expect((await m.readThreadMessages('a', 0, 3)).map((x) => x.message_seq)).toEqual([1, 2, 3]);
      expect((await m.readThreadMessages('a', 5, 10)).map((x) => x.content)).toEqual(['m6', 'm7']);
      expect(await m.readThreadMessages('a', 7, 10)).toEqual([]);
      expect(await m.readThreadMessages('a', 0, 0)).toEqual([]);
    });

    it('changes thread status; unknown threads are not_found', async () => {
      const m = await fresh();
      await m.createThread({ id: 'a', title: '' });
      expect((await m.setThreadStatus('a', 'resolved')).status).toBe('resolved');
      expect((await m.getThread('a'))?.status).toBe('resolved');
      await expectCode(m.setThreadStatus('nope', 'paused'), 'not_found');
    });

    it('stores inbox messages, lists one inbox by status, and changes their status', async () => {
      const m = await fresh();
      const a = await m.insertInboxMessage({ from_agent: 'x', to_inbox: 'me', message_type: 'request', title: 'do', payload: 'p', correlation_id: 'c1' });
      expect(a).toMatchObject({ from_agent: 'x', to_inbox: 'me', message_type: 'request', status: 'unread', correlation_id: 'c1', payload: 'p' });
      expect(a.message_id).not.toBe('');
      const b = await m.insertInboxMessage({ from_agent: 'y', to_inbox: 'me', message_type: 'info', title: 'fyi', message_id: 'mid' });
      expect(b.message_id).toBe('mid');
      await m.insertInboxMessage({ from_agent: 'y', to_inbox: 'other', message_type: 'info', title: '' });
      expect((await m.listInbox('me', { limit: 10 })).map((x) => x.id)).toEqual([a.id, b.id]);
      expect((await m.setInboxStatus(a.id, 'read')).status).toBe('read');
      expect((await m.listInbox('me', { status: 'unread', limit: 10 })).map((x) => x.id)).toEqual([b.id]);
      expect(await m.getInboxMessage(a.id)).toMatchObject({ status: 'read' });
      expect(await m.getInboxMessage('nope')).toBeUndefined();
      await expectCode(m.setInboxStatus('nope', 'read'), 'not_found');
    });

    it('keeps acks per client and target, and never moves them backwards', async () => {
      const m = await fresh();
      expect(await m.getAck('c', { thread_id: 't' })).toBe(0);
      expect(await m.setAck('c', { thread_id: 't' }, 5)).toBe(5);
      expect(await m.setAck('c', { thread_id: 't' }, 3)).toBe(5);
      expect(await m.getAck('c', { thread_id: 't' })).toBe(5);
      expect(await m.setAck('c', { thread_id: 't' }, 9)).toBe(9);
      expect(await m.getAck('c', { session_id: 't' })).toBe(0);
      expect(await m.getAck('d', { thread_id: 't' })).toBe(0);
      await m.setAck('c', { session_id: 't' }, 2);
      expect(await m.getAck('c', { session_id: 't' })).toBe(2);
      await expectCode(m.setAck('c', { thread_id: 't' }, -1), 'invalid_request');
    });

    it('reports its own changes to watchers, in commit order', async () => {
      const m = await fresh();
      const w = collect(m);
      try {
        await m.createThread({ id: 'a', title: '' });
        await m.postThreadMessage('a', msg('one'));
        await m.postThreadMessage('a', msg('two'));
        await m.setThreadStatus('a', 'paused');
        await m.setThreadStatus('a', 'paused');
        const inbox = await m.insertInboxMessage({ from_agent: 'x', to_inbox: 'me', message_type: 'info', title: '' });
        await w.until(5);
        expect(w.changes.map(({ id: _id, ...c }) => c)).toEqual([
          { kind: 'thread_state', thread_id: 'a' },
          { kind: 'thread_message', thread_id: 'a', message_seq: 1 },
          { kind: 'thread_message', thread_id: 'a', message_seq: 2 },
          { kind: 'thread_state', thread_id: 'a' },
          { kind: 'inbox_message', inbox_message_id: inbox.id },
        ]);
        const ids = w.changes.map((c) => c.id);
        expect([...ids].sort((x, y) => x - y)).toEqual(ids);
      } finally {
        w.stop();
      }
    });
  });
}
