import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { TowerError } from '../../protocol/errors.js';
import type { ThreadMessage } from '../../protocol/messaging.js';
import { openSqliteStore, type SqliteStore } from '../../store/sqlite/index.js';
import { createMessagingTools, handoff, MessagingService, type SessionPort } from './index.js';

const logger = pino({ level: 'silent' });
const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function setup(path = ':memory:'): { store: SqliteStore; service: MessagingService } {
  const store = openSqliteStore(path);
  const service = new MessagingService(store.messaging, logger);
  service.start();
  cleanups.push(() => store.close(), () => service.stop());
  return { store, service };
}

async function take(sub: AsyncIterator<ThreadMessage[]>, n: number): Promise<number[]> {
  const seqs: number[] = [];
  while (seqs.length < n) {
    const r = await sub.next();
    if (r.done) break;
    seqs.push(...r.value.map((m) => m.message_seq));
  }
  return seqs;
}

const post = (s: MessagingService, thread: string, content: string) => s.post(thread, { content, from_type: 'agent', from_id: 'x' });

describe('MessagingService', () => {
  it('serves a thread from a seq, then live messages, each exactly once', async () => {
    const { service } = setup();
    await service.createThread({ id: 't', title: 'T' });
    for (let i = 0; i < 120; i++) await post(service, 't', `m${i}`);
    const { subscription, thread } = await service.subscribeThread('t', 10);
    cleanups.push(() => subscription.close());
    expect(thread.last_seq).toBe(120);
    const first = await subscription.next();
    expect(first.done ? [] : first.value.map((m) => m.message_seq)).toEqual(Array.from({ length: 50 }, (_, i) => i + 11));
    const rest = take(subscription, 60 + 30);
    for (let i = 0; i < 30; i++) await post(service, 't', `live${i}`);
    expect(await rest).toEqual(Array.from({ length: 90 }, (_, i) => i + 61));
    subscription.close();
    expect((await subscription.next()).done).toBe(true);
    await expect(service.subscribeThread('missing', 0)).rejects.toMatchObject({ code: 'not_found' });
  });

  it('delivers rows another process inserts without message_seq, in order', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tower-msvc-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const path = join(dir, 'tower.db');
    const { service } = setup(path);
    await service.createThread({ id: 't', title: '' });
    const { subscription } = await service.subscribeThread('t', 0);
    cleanups.push(() => subscription.close());
    const raw = new Database(path);
    cleanups.push(() => raw.close());
    const got = take(subscription, 5);
    const ins = raw.prepare("INSERT INTO thread_messages (thread_id, from_id, content) VALUES ('t', 'ext', ?)");
    for (let i = 0; i < 5; i++) ins.run(`e${i}`);
    expect(await got).toEqual([1, 2, 3, 4, 5]);
  });

  it('replies go to the sender inbox under the correlation id, and mark the original read', async () => {
    const { service } = setup();
    const req = await service.sendInbox({ from_agent: 'alice', to_inbox: 'bob', message_type: 'request', title: 'do it', correlation_id: 'c9' });
    const reply = await service.replyInbox(req.id, { from_agent: 'bob', payload: 'done' });
    expect(reply).toMatchObject({ to_inbox: 'alice', from_agent: 'bob', correlation_id: 'c9', message_type: 'response', title: 'Re: do it' });
    expect((await service.getInbox(req.id)).status).toBe('read');
    const bare = await service.sendInbox({ from_agent: 'alice', to_inbox: 'bob', title: 'x' });
    expect((await service.replyInbox(bare.id, { from_agent: 'bob', payload: 'y' })).correlation_id).toBe(bare.message_id);
    await expect(service.replyInbox('nope', { from_agent: 'b', payload: 'p' })).rejects.toMatchObject({ code: 'not_found' });
    expect((await service.readInbox(reply.id)).status).toBe('read');
  });
});

describe('handoff', () => {
  const port = (result: 'started' | 'queued' | Error): SessionPort & { sent: [string, string][] } => {
    const sent: [string, string][] = [];
    return {
      sent,
      create: async () => ({ id: 'new-session' }),
      sendOrQueue: async (id, content) => {
        if (result instanceof Error) throw result;
        sent.push([id, content]);
        return result;
      },
    };
  };

  it('puts a handoff in the target inbox and starts or queues a turn that names the correlation id', async () => {
    const { service } = setup();
    const p = port('queued');
    const r = await handoff(service, p, { from_session: 'A', to_session: 'B', content: 'count the files' });
    expect(r).toMatchObject({ session_id: 'B', delivery: 'queued', inbox_message: { to_inbox: 'B', from_agent: 'A', message_type: 'handoff', correlation_id: r.correlation_id } });
    expect(p.sent[0]?.[1]).toContain(r.correlation_id);
    expect(p.sent[0]?.[1]).toContain(r.inbox_message.id);
    const n = await handoff(service, port('started'), { from_session: 'A', new_session: { title: 'helper' }, content: 'x' });
    expect(n).toMatchObject({ session_id: 'new-session', delivery: 'started' });
    await expect(handoff(service, p, { from_session: 'A', to_session: 'A', content: 'x' })).rejects.toMatchObject({ code: 'invalid_request' });
  });

  it('archives the inbox message when the turn cannot be delivered', async () => {
    const { service } = setup();
    await expect(handoff(service, port(new TowerError('unknown_session', 'no')), { from_session: 'A', to_session: 'Z', content: 'x' })).rejects.toMatchObject({ code: 'unknown_session' });
    expect((await service.listInbox('Z', { limit: 10 }))[0]?.status).toBe('archived');
  });

  it('tools answer bad arguments and failures as tool errors, and act as the session', async () => {
    const { service } = setup();
    const tools = createMessagingTools(service, port('started'), 'S1');
    const ctx = { workingDir: '/tmp', signal: new AbortController().signal };
    const call = (name: string, args: unknown) => tools.execute({ id: 'c', name, args }, ctx);
    expect(await call('thread_post', { content: 'x' })).toMatchObject({ is_error: true, output: expect.stringContaining('thread_id') });
    expect(await call('thread_read', { thread_id: 'nope' })).toMatchObject({ is_error: true, output: expect.stringContaining('not_found') });
    const posted = await call('thread_post', { thread_id: 'team', content: 'hello', kind: 'proposal' });
    expect(JSON.parse(posted.output)).toMatchObject({ message_seq: 1, from_id: 'S1', from_type: 'agent', kind: 'proposal' });
    const read = JSON.parse((await call('thread_read', { thread_id: 'team' })).output);
    expect(read.messages.map((m: ThreadMessage) => m.content)).toEqual(['hello']);
    const h = JSON.parse((await call('handoff', { to_session: 'S2', content: 'work' })).output);
    expect(h.inbox_message.from_agent).toBe('S1');
    expect(await call('handoff', { content: 'neither' })).toMatchObject({ is_error: true });
    const asS2 = createMessagingTools(service, port('started'), 'S2');
    const inbox = JSON.parse((await asS2.execute({ id: 'c', name: 'inbox_list', args: {} }, ctx)).output);
    expect(inbox.messages).toHaveLength(1);
    await asS2.execute({ id: 'c', name: 'inbox_reply', args: { id: inbox.messages[0].id, payload: 'result' } }, ctx);
    const mine = JSON.parse((await call('inbox_list', { status: 'unread' })).output);
    expect(mine.messages[0]).toMatchObject({ correlation_id: h.correlation_id, payload: 'result', message_type: 'response' });
    expect(await call('nope', {})).toMatchObject({ is_error: true });
  });
});
