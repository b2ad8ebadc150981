import { describe, expect, it } from 'vitest';
import { isTowerError } from '../../protocol/errors.js';
import { PendingRequests, RequestCanceledError } from './pending-requests.js';

interface Info {
  tool_call_id: string;
  tool: string;
}
type Answer = { decision: string };

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return isTowerError(err) ? err.code : 'not a TowerError';
  }
  return undefined;
}

function clock(): () => Date {
  let t = Date.parse('2025-01-01T00:00:00.000Z');
  return () => new Date((t += 1000));
}

describe('PendingRequests', () => {
  it('answers requests in any order, each promise with its own answer', async () => {
    const pending = new PendingRequests<Info, Answer>();
    const signal = new AbortController().signal;
    const a = pending.open('a', { tool_call_id: 'a', tool: 'bash' }, signal);
    const b = pending.open('b', { tool_call_id: 'b', tool: 'write' }, signal);
    const c = pending.open('c', { tool_call_id: 'c', tool: 'mcp_x' }, signal);
    expect(pending.size).toBe(3);

    pending.resolve('c', { decision: 'reject' });
    expect(await c).toEqual({ decision: 'reject' });
    expect(pending.list().map((p) => p.tool_call_id)).toEqual(['a', 'b']);

    pending.resolve('a', { decision: 'approve' });
    pending.resolve('b', { decision: 'approve_tool' });
    expect(await Promise.all([a, b])).toEqual([{ decision: 'approve' }, { decision: 'approve_tool' }]);
    expect(pending.size).toBe(0);
  });

  it('lists pending requests in request order with requested_at', () => {
    const pending = new PendingRequests<Info, Answer>({ now: clock() });
    void pending.open('x', { tool_call_id: 'x', tool: 'bash' });
    void pending.open('y', { tool_call_id: 'y', tool: 'write' });
    void pending.open('z', { tool_call_id: 'z', tool: 'read' });
    pending.resolve('y', { decision: 'approve' });
    expect(pending.list()).toEqual([
      { tool_call_id: 'x', tool: 'bash', requested_at: '2025-01-01T00:00:01.000Z' },
      { tool_call_id: 'z', tool: 'read', requested_at: '2025-01-01T00:00:03.000Z' },
    ]);
    expect(pending.get('z')).toEqual({ tool_call_id: 'z', tool: 'read', requested_at: '2025-01-01T00:00:03.000Z' });
    expect(pending.get('y')).toBeUndefined();
    expect(pending.has('x')).toBe(true);
    expect(pending.has('y')).toBe(false);
  });

  it('lets a caller resolve others while iterating list()', async () => {
    const pending = new PendingRequests<Info, Answer>();
    const answers = ['a', 'b', 'c'].map((id) => pending.open(id, { tool_call_id: id, tool: 't' }));
    for (const entry of pending.list()) pending.resolve(entry.tool_call_id, { decision: entry.tool_call_id });
    expect(await Promise.all(answers)).toEqual([{ decision: 'a' }, { decision: 'b' }, { decision: 'c' }]);
  });

  it('refuses a duplicate pending id with conflict', () => {
    const pending = new PendingRequests<Info, Answer>();
    void pending.open('a', { tool_call_id: 'a', tool: 't' });
    expect(codeOf(() => pending.open('a', { tool_call_id: 'a', tool: 't' }))).toBe('conflict');
    expect(pending.size).toBe(1);
  });

  it('answers an unknown id with not_found and a second answer with conflict', async () => {
    const pending = new PendingRequests<Info, Answer>();
    expect(codeOf(() => pending.resolve('nope', { decision: 'approve' }))).toBe('not_found');
    const a = pending.open('a', { tool_call_id: 'a', tool: 't' });
    pending.resolve('a', { decision: 'approve' });
    expect(codeOf(() => pending.resolve('a', { decision: 'reject' }))).toBe('conflict');
    expect(await a).toEqual({ decision: 'approve' });
  });

  it('remembers a bounded number of answered ids', () => {
    const pending = new PendingRequests<Info, Answer>({ rememberAnswered: 2 });
    for (const id of ['a', 'b', 'c']) {
      void pending.open(id, { tool_call_id: id, tool: 't' });
      pending.resolve(id, { decision: 'approve' });
    }
    expect(codeOf(() => pending.resolve('a', { decision: 'approve' }))).toBe('not_found');
    expect(codeOf(() => pending.resolve('b', { decision: 'approve' }))).toBe('conflict');
    expect(codeOf(() => pending.resolve('c', { decision: 'approve' }))).toBe('conflict');
  });

  it('rejects with an AbortError and removes the request when its signal aborts', async () => {
    const pending = new PendingRequests<Info, Answer>();
    const controller = new AbortController();
    const a = pending.open('a', { tool_call_id: 'a', tool: 't' }, controller.signal);
    const b = pending.open('b', { tool_call_id: 'b', tool: 't' }, new AbortController().signal);
    controller.abort();
    await expect(a).rejects.toBeInstanceOf(RequestCanceledError);
    await expect(a).rejects.toMatchObject({ name: 'AbortError' });
    expect(pending.list().map((p) => p.tool_call_id)).toEqual(['b']);
    expect(codeOf(() => pending.resolve('a', { decision: 'approve' }))).toBe('not_found');
    pending.resolve('b', { decision: 'approve' });
    expect(await b).toEqual({ decision: 'approve' });
  });

  it('rejects at once for an already aborted signal without registering', async () => {
    const pending = new PendingRequests<Info, Answer>();
    const promise = pending.open('a', { tool_call_id: 'a', tool: 't' }, AbortSignal.abort());
    expect(pending.size).toBe(0);
    await expect(promise).rejects.toMatchObject({ name: 'AbortError' });
  });

  it('does not report an unhandled rejection when the abort comes before anyone awaits', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const pending = new PendingRequests<Info, Answer>();
      const controller = new AbortController();
      const answer = pending.open('a', { tool_call_id: 'a', tool: 't' }, controller.signal);
      controller.abort();
      // Node reports unhandled rejections once the microtask queue has drained: one macrotask later.
      await new Promise((resolve) => setImmediate(resolve));
      expect(unhandled).toEqual([]);
      await expect(answer).rejects.toBeInstanceOf(RequestCanceledError);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it('cancelAll rejects every pending request with the reason and empties the list', async () => {
    const pending = new PendingRequests<Info, Answer>();
    const a = pending.open('a', { tool_call_id: 'a', tool: 't' });
    const b = pending.open('b', { tool_call_id: 'b', tool: 't' });
    expect(pending.cancelAll('the turn ended')).toBe(2);
    await expect(a).rejects.toThrow('canceled: the turn ended');
    await expect(b).rejects.toBeInstanceOf(RequestCanceledError);
    expect(pending.size).toBe(0);
    expect(pending.list()).toEqual([]);
    expect(codeOf(() => pending.resolve('a', { decision: 'approve' }))).toBe('not_found');
    expect(pending.cancelAll('again')).toBe(0);
  });

  it('an abort after the answer changes nothing', async () => {
    const pending = new PendingRequests<Info, Answer>();
    const controller = new AbortController();
    const a = pending.open('a', { tool_call_id: 'a', tool: 't' }, controller.signal);
    pending.resolve('a', { decision: 'approve' });
    controller.abort();
    expect(await a).toEqual({ decision: 'approve' });
    expect(codeOf(() => pending.resolve('a', { decision: 'approve' }))).toBe('conflict');
  });

  it('lets an answered id be opened again', async () => {
    const pending = new PendingRequests<Info, Answer>();
    void pending.open('a', { tool_call_id: 'a', tool: 't' });
    pending.resolve('a', { decision: 'approve' });
    const again = pending.open('a', { tool_call_id: 'a', tool: 't' });
    pending.resolve('a', { decision: 'reject' });
    expect(await again).toEqual({ decision: 'reject' });
  });
});
