import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../core/logger.js';
import { CommandService } from '../../core/commands/index.js';
import { memoryManager, type MemoryManager } from '../../core/testing/memory-manager.js';
import { createHttpApp } from './app.js';

const TOKEN = 'in-memory-token-0123456789';
let memory: MemoryManager | undefined;
afterEach(async () => {
  await memory?.close();
  memory = undefined;
});

/** The HTTP layer in memory (`app.request`), over a real manager and an in-memory SQLite store. */
async function app(token?: string) {
  memory = await memoryManager();
  const { manager } = memory;
  const models = { list: () => [], defaultModel: 'fake/m' };
  const commands = new CommandService({ manager, models });
  return { manager, http: createHttpApp({ manager, commands, models, logger: silentLogger, version: 't', ...(token ? { token } : {}) }) };
}

const json = (body: unknown, token?: string) => ({
  method: 'POST',
  headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
  body: JSON.stringify(body),
});

describe('HTTP app (in memory)', () => {
  it('creates a session and runs a turn', async () => {
    const { http, manager } = await app();
    const created = await http.request('/api/sessions', json({ title: 'x' }));
    expect(created.status).toBe(201);
    const { id } = (await created.json()) as { id: string };
    const sent = await http.request(`/api/sessions/${id}/messages`, json({ content: 'hi' }));
    expect(sent.status).toBe(202);
    expect(await sent.json()).toMatchObject({ seq: 2 });
    expect(await manager.waitIdle(id, 2000)).toBe(true);
    const messages = (await (await http.request(`/api/sessions/${id}/messages`)).json()) as { messages: unknown[] };
    expect(messages.messages).toHaveLength(2);
  });

  it('maps domain errors to statuses in one place', async () => {
    const { http } = await app();
    const cases: Array<[string, RequestInit | undefined, number, string]> = [
      ['/api/sessions/none', undefined, 404, 'unknown_session'],
      ['/api/sessions', json({ model: 'other/x' }), 422, 'unknown_model'],
      ['/api/sessions', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{' }, 400, 'invalid_request'],
      ['/nowhere', undefined, 404, 'not_found'],
    ];
    for (const [url, init, status, code] of cases) {
      const res = await http.request(url, init);
      expect([url, res.status]).toEqual([url, status]);
      expect(((await res.json()) as { code: string }).code).toBe(code);
    }
  });

  it('a permissions PATCH changes only the fields it names', async () => {
    const { http } = await app();
    const initial = { allow: ['read'], ask: ['bash:cmd=git push*'], deny: [], policy: 'strict', auto_approve: true };
    const created = await http.request('/api/sessions', json({ permissions: initial }));
    const { id } = (await created.json()) as { id: string };
    const patch = (body: unknown) =>
      http.request(`/api/sessions/${id}`, { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const denied = await patch({ permissions: { deny: ['bash:cmd=rm *'] } });
    expect(denied.status).toBe(200);
    expect(((await denied.json()) as { permissions: unknown }).permissions).toEqual({ ...initial, deny: ['bash:cmd=rm *'] });
    const relaxed = await patch({ permissions: { policy: 'balanced' } });
    expect(((await relaxed.json()) as { permissions: unknown }).permissions).toEqual({ ...initial, deny: ['bash:cmd=rm *'], policy: 'balanced' });
    const bad = await patch({ permissions: { allow: 'read' } });
    expect(bad.status).toBe(400);
    const read = (await (await http.request(`/api/sessions/${id}`)).json()) as { permissions: unknown };
    expect(read.permissions).toEqual({ ...initial, deny: ['bash:cmd=rm *'], policy: 'balanced' });
  });

  it('requires the bearer token on /api and /openapi.json, not on health', async () => {
    const { http } = await app(TOKEN);
    expect((await http.request('/health')).status).toBe(200);
    expect((await http.request('/api/sessions')).status).toBe(401);
    expect((await http.request('/openapi.json')).status).toBe(401);
    expect((await http.request('/api/sessions', { headers: { authorization: `Bearer ${TOKEN}x` } })).status).toBe(401);
    expect((await http.request('/api/sessions', { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(200);
  });

  it('streams events as SSE frames with id and event lines', async () => {
    const { http, manager } = await app();
    const s = await manager.create({});
    const res = await http.request(`/api/sessions/${s.id}/events?since=0`);
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const reader = res.body!.getReader();
    let text = '';
    while (!text.includes('event: session_created')) text += new TextDecoder().decode((await reader.read()).value);
    await reader.cancel();
    expect(text).toMatch(/id: 1\nevent: session_created\ndata: \{.*"seq":1.*\}\n\n/);
  });

  it('validates since and Last-Event-ID on the event stream with the schemas messages', async () => {
    const { http, manager } = await app();
    const s = await manager.create({});
    const bad = async (path: string, headers: Record<string, string> = {}) => {
      const res = await http.request(path, { headers });
      expect(res.status).toBe(400);
      return ((await res.json()) as { code: string; message: string }).message;
    };
    expect(await bad(`/api/sessions/${s.id}/events?since=-1`)).toBe('Invalid query: since: must be a non-negative integer');
    expect(await bad(`/api/sessions/${s.id}/events?since=0`, { 'last-event-id': 'x1' })).toBe(
      'Invalid header: last-event-id: must be a non-negative integer',
    );
    expect(await bad(`/api/sessions/${s.id}/events?since=1234567890123456`)).toMatch(/^Invalid query: since: /);
    expect(await bad(`/api/sessions/${'x'.repeat(201)}/events`)).toMatch(/^Invalid path: id: /);
    // Last-Event-ID wins over since: the stream starts after it.
    const res = await http.request(`/api/sessions/${s.id}/events?since=5`, { headers: { 'last-event-id': '0' } });
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    let text = '';
    while (!text.includes('event: session_created')) text += new TextDecoder().decode((await reader.read()).value);
    await reader.cancel();
    expect(text).toContain('id: 1\n');
  });
});
