import { rmSync } from 'node:fs';
import { compileErrors, validate } from '@readme/openapi-parser';
import { afterEach, describe, expect, it } from 'vitest';
import { MessagingClient, TowerApiError } from '../../src/client/index.js';
import type { ThreadMessage } from '../../src/protocol/messaging.js';
import { silentLogger } from '../../src/core/logger.js';
import { resolveConfig } from '../../src/server/config.js';
import { startTower } from '../../src/server/tower.js';
import { tempDir } from '../support/harness.js';
import { startHubTower, type HubTower } from '../support/hub.js';

let t: HubTower | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

const codeOf = async (p: Promise<unknown>): Promise<string> =>
  p.then(() => 'ok', (e: unknown) => (e instanceof TowerApiError ? `${e.status} ${e.code}` : String(e)));

describe('messaging over HTTP and the SDK', () => {
  it('threads: create, post, read pages, status; inbox: send, list, read, reply, archive; telemetry', async () => {
    t = await startHubTower();
    const m = new MessagingClient({ url: t.url });
    const th = await m.createThread({ id: 'plan', title: 'The plan' });
    expect(th).toMatchObject({ id: 'plan', status: 'active', last_seq: 0 });
    const auto = await m.createThread({ title: 'auto id' });
    expect(auto.id).toMatch(/^th_/);
    for (let i = 1; i <= 3; i++) await m.post('plan', { content: `step ${i}`, kind: 'directive', from_type: 'human', from_id: 'ana' });
    const page = await m.readThread('plan', { afterSeq: 1, limit: 1 });
    expect(page).toMatchObject({ thread: { last_seq: 3 }, has_more: true, messages: [{ message_seq: 2, content: 'step 2', kind: 'directive' }] });
    expect((await m.setThreadStatus('plan', 'resolved')).status).toBe('resolved');
    expect((await m.listThreads({ status: 'resolved' })).threads.map((x) => x.id)).toEqual(['plan']);
    expect((await m.getThread('plan')).last_seq).toBe(3);

    const sent = await m.sendInbox('bob', { from_agent: 'ana', title: 'review?', message_type: 'request', payload: 'pr 12' });
    expect((await m.listInbox('bob', { status: 'unread' })).messages.map((x) => x.id)).toEqual([sent.id]);
    expect((await m.readInbox('bob', sent.id)).status).toBe('read');
    const reply = await m.reply('bob', sent.id, { from_agent: 'bob', payload: 'lgtm' });
    expect(reply).toMatchObject({ to_inbox: 'ana', correlation_id: sent.message_id, message_type: 'response' });
    expect((await m.setInboxStatus('ana', reply.id, 'archived')).status).toBe('archived');
    expect(await codeOf(m.readInbox('someone-else', sent.id))).toBe('404 not_found');
    expect(Array.isArray((await m.telemetry()).sessions)).toBe(true);
  });

  it('watchThread streams stored then live messages, and resumes after its acks', async () => {
    t = await startHubTower();
    const m = new MessagingClient({ url: t.url });
    await m.createThread({ id: 'w' });
    await m.post('w', { content: 'one' });
    await m.post('w', { content: 'two' });
    const take = async (n: number, opts: Parameters<MessagingClient['watchThread']>[1]) => {
      const ac = new AbortController();
      const got: ThreadMessage[] = [];
      for await (const msg of m.watchThread('w', { ...opts, signal: ac.signal })) {
        got.push(msg);
        if (got.length === n) ac.abort();
        else if (got.length === 2 && n > 2) await m.post('w', { content: 'three' });
      }
      return got.map((x) => x.content);
    };
    expect(await take(3, { clientId: 'cli-1' })).toEqual(['one', 'two', 'three']);
    await m.post('w', { content: 'four' });
    // Acks are written by the server after it got them; the resumed watch starts after the last one it stored.
    const resumed = await take(1, { clientId: 'cli-1' });
    expect(resumed).toEqual(['four']);
  });

  it('bad input gets clear codes and changes nothing', async () => {
    t = await startHubTower();
    const req = (method: string, path: string, body?: unknown) =>
      fetch(`${t!.url}${path}`, { method, headers: { 'content-type': 'application/json' }, ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }) });
    await req('POST', '/api/threads', { id: 'x' });
    const cases: [string, string, unknown, number, string][] = [
      ['POST', '/api/threads', { id: 'x' }, 409, 'conflict'],
      ['POST', '/api/threads', { id: '' }, 400, 'invalid_request'],
      ['POST', '/api/threads', { status: 'exploded' }, 400, 'invalid_request'],
      ['POST', '/api/threads', '{not json', 400, 'invalid_request'],
      ['POST', '/api/threads/x/messages', {}, 400, 'invalid_request'],
      ['POST', '/api/threads/x/messages', { content: 'a', kind: 'rant' }, 400, 'invalid_request'],
      ['POST', '/api/threads/x/messages', { content: 'a', extra: 1 }, 400, 'invalid_request'],
      ['POST', '/api/threads/nope/messages', { content: 'a' }, 404, 'not_found'],
      ['GET', '/api/threads/nope', undefined, 404, 'not_found'],
      ['GET', '/api/threads/x/messages?after_seq=-1', undefined, 400, 'invalid_request'],
      ['GET', '/api/threads/x/messages?limit=0', undefined, 400, 'invalid_request'],
      ['GET', '/api/threads?status=nope', undefined, 400, 'invalid_request'],
      ['POST', '/api/threads/x/status', { status: 'gone' }, 400, 'invalid_request'],
      ['POST', '/api/inbox/bob', { title: 'no sender' }, 400, 'invalid_request'],
      ['POST', '/api/inbox/bob', { from_agent: 'a', message_type: 'spam' }, 400, 'invalid_request'],
      ['GET', '/api/inbox/bob/nope', undefined, 404, 'not_found'],
      ['POST', '/api/inbox/bob/nope/reply', { payload: 'x' }, 404, 'not_found'],
      ['POST', '/api/inbox/bob/nope/status', { status: 'read' }, 404, 'not_found'],
    ];
    for (const [method, path, body, status, code] of cases) {
      const res = await req(method, path, body);
      expect(res.status, `${method} ${path} ${JSON.stringify(body)}`).toBe(status);
      expect(((await res.json()) as { code: string }).code).toBe(code);
    }
    const threads = (await (await req('GET', '/api/threads')).json()) as { threads: { id: string; last_seq: number }[] };
    expect(threads.threads).toEqual([expect.objectContaining({ id: 'x', last_seq: 0 })]);
    expect((await (await req('GET', '/api/inbox/bob')).json())).toEqual({ messages: [] });
    const doc = (await (await req('GET', '/openapi.json')).json()) as { paths: Record<string, unknown> };
    const checked = await validate(structuredClone(doc) as Parameters<typeof validate>[0]);
    expect(checked.valid, checked.valid ? '' : compileErrors(checked)).toBe(true);
    for (const p of ['/api/threads', '/api/threads/{id}/messages', '/api/inbox/{inbox}', '/api/inbox/{inbox}/{id}/reply', '/api/telemetry']) {
      expect(Object.keys(doc.paths)).toContain(p);
    }
  });

  it('runs without the hub: messaging belongs to the server, not to a transport', async () => {
    const dir = tempDir('msg-nohub');
    const config = resolveConfig({ host: '127.0.0.1', port: 0, dataDir: dir, workingDir: dir, demo: true }, {});
    const tower = await startTower(config, { env: {}, logger: silentLogger, transports: [] });
    try {
      const m = new MessagingClient({ url: tower.url });
      await m.createThread({ id: 'solo' });
      expect((await m.post('solo', { content: 'no hub here' })).message.message_seq).toBe(1);
      expect((await m.readThread('solo')).messages.map((x) => x.content)).toEqual(['no hub here']);
      expect(Array.isArray((await m.telemetry()).sessions)).toBe(true);
      expect((await tower.commands.execute('threads.list', { limit: 10 })).threads.map((x) => x.id)).toEqual(['solo']);
    } finally {
      await tower.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
