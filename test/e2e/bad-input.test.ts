import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestTower, type TestTower } from '../support/harness.js';

const TOKEN = 'test-token-0123456789abcdef';
let t: TestTower;
let sessionId: string;

beforeAll(async () => {
  t = await startTestTower({ token: TOKEN, script: [{ text: 'ok' }] });
  sessionId = (await t.client.createSession({ title: 'kept' })).id;
});
afterAll(() => t.close());

interface Case {
  name: string;
  method: string;
  path: () => string;
  body?: string;
  headers?: Record<string, string>;
  auth?: string | null;
  status: number;
  code: string;
}

const big = JSON.stringify({ content: 'x'.repeat(2 * 1024 * 1024) });

const cases: Case[] = [
  { name: 'malformed JSON', method: 'POST', path: () => '/api/sessions', body: '{"title": ', status: 400, code: 'invalid_request' },
  { name: 'JSON that is not an object', method: 'POST', path: () => '/api/sessions', body: '[1,2]', status: 400, code: 'invalid_request' },
  { name: 'wrong type', method: 'POST', path: () => '/api/sessions', body: '{"title": 42}', status: 400, code: 'invalid_request' },
  { name: 'unknown field', method: 'POST', path: () => '/api/sessions', body: '{"titel": "x"}', status: 400, code: 'invalid_request' },
  { name: 'missing working dir', method: 'POST', path: () => '/api/sessions', body: '{"working_dir": "/no/such/dir"}', status: 400, code: 'invalid_request' },
  { name: 'unknown model', method: 'POST', path: () => '/api/sessions', body: '{"model": "nope/nothing"}', status: 422, code: 'unknown_model' },
  { name: 'empty message', method: 'POST', path: () => `/api/sessions/${sessionId}/messages`, body: '{"content": ""}', status: 400, code: 'invalid_request' },
  { name: 'message with wrong type', method: 'POST', path: () => `/api/sessions/${sessionId}/messages`, body: '{"content": ["a"]}', status: 400, code: 'invalid_request' },
  { name: '2 MiB body', method: 'POST', path: () => `/api/sessions/${sessionId}/messages`, body: big, status: 413, code: 'payload_too_large' },
  { name: 'unknown session', method: 'GET', path: () => '/api/sessions/does-not-exist', status: 404, code: 'unknown_session' },
  { name: 'send to unknown session', method: 'POST', path: () => '/api/sessions/does-not-exist/messages', body: '{"content":"hi"}', status: 404, code: 'unknown_session' },
  { name: 'events of unknown session', method: 'GET', path: () => '/api/sessions/does-not-exist/events', status: 404, code: 'unknown_session' },
  { name: 'since=-1', method: 'GET', path: () => `/api/sessions/${sessionId}/events?since=-1`, status: 400, code: 'invalid_request' },
  { name: 'since=abc', method: 'GET', path: () => `/api/sessions/${sessionId}/events?since=abc`, status: 400, code: 'invalid_request' },
  { name: 'since beyond the log', method: 'GET', path: () => `/api/sessions/${sessionId}/events?since=999999`, status: 400, code: 'invalid_request' },
  { name: 'Last-Event-ID junk', method: 'GET', path: () => `/api/sessions/${sessionId}/events`, headers: { 'Last-Event-ID': '1e3' }, status: 400, code: 'invalid_request' },
  { name: 'bad page limit', method: 'GET', path: () => '/api/sessions?limit=0', status: 400, code: 'invalid_request' },
  { name: 'bad cursor', method: 'GET', path: () => '/api/sessions?cursor=%%%', status: 400, code: 'invalid_request' },
  { name: 'fork at a non-user message', method: 'POST', path: () => `/api/sessions/${sessionId}/fork`, body: '{"message_index": 7}', status: 400, code: 'invalid_request' },
  { name: 'import junk', method: 'POST', path: () => '/api/sessions/import', body: '{"version": 2}', status: 400, code: 'invalid_request' },
  { name: 'batch with no ids', method: 'POST', path: () => '/api/sessions/batch/delete', body: '{"ids": []}', status: 400, code: 'invalid_request' },
  { name: 'rename to empty', method: 'PATCH', path: () => `/api/sessions/${sessionId}`, body: '{"title": ""}', status: 400, code: 'invalid_request' },
  { name: 'switch to unknown model', method: 'PATCH', path: () => `/api/sessions/${sessionId}`, body: '{"model": "x/y"}', status: 422, code: 'unknown_model' },
  { name: 'steer with no messages', method: 'POST', path: () => `/api/sessions/${sessionId}/steer`, body: '{"messages": []}', status: 400, code: 'invalid_request' },
  { name: 'steer with a string', method: 'POST', path: () => `/api/sessions/${sessionId}/steer`, body: '{"messages": "hi"}', status: 400, code: 'invalid_request' },
  { name: 'steer an idle session', method: 'POST', path: () => `/api/sessions/${sessionId}/steer`, body: '{"messages": [{"content": "x"}]}', status: 409, code: 'session_idle' },
  { name: 'steer an unknown session', method: 'POST', path: () => '/api/sessions/nope/steer', body: '{"messages": [{"content": "x"}]}', status: 404, code: 'unknown_session' },
  { name: 'follow-up with malformed JSON', method: 'POST', path: () => `/api/sessions/${sessionId}/followup`, body: '{"messages": [', status: 400, code: 'invalid_request' },
  { name: 'follow-up with an empty key', method: 'POST', path: () => `/api/sessions/${sessionId}/followup`, body: '{"messages": [{"content": "x"}]}', headers: { 'Idempotency-Key': '' }, status: 400, code: 'invalid_request' },
  { name: 'follow-up with 21 messages', method: 'POST', path: () => `/api/sessions/${sessionId}/followup`, body: JSON.stringify({ messages: Array.from({ length: 21 }, () => ({ content: 'x' })) }), status: 400, code: 'invalid_request' },
  { name: 'send with a bad on_busy', method: 'POST', path: () => `/api/sessions/${sessionId}/messages`, body: '{"content": "x", "on_busy": "maybe"}', status: 400, code: 'invalid_request' },
  { name: 'interrupt with malformed JSON', method: 'POST', path: () => `/api/sessions/${sessionId}/interrupt`, body: '{"clear_queue": ', status: 400, code: 'invalid_request' },
  { name: 'interrupt with a wrong type', method: 'POST', path: () => `/api/sessions/${sessionId}/interrupt`, body: '{"clear_queue": "yes"}', status: 400, code: 'invalid_request' },
  { name: 'confirmation with a bad decision', method: 'POST', path: () => `/api/sessions/${sessionId}/confirmations/c1`, body: '{"decision": "maybe"}', status: 400, code: 'invalid_request' },
  { name: 'confirmation nobody asked for', method: 'POST', path: () => `/api/sessions/${sessionId}/confirmations/c1`, body: '{"decision": "approve"}', status: 404, code: 'not_found' },
  { name: 'elicitation answer with a bad action', method: 'POST', path: () => `/api/sessions/${sessionId}/elicitations/e1`, body: '{"action": "shrug"}', status: 400, code: 'invalid_request' },
  { name: 'elicitation nobody asked', method: 'POST', path: () => `/api/sessions/${sessionId}/elicitations/e1`, body: '{"action": "decline"}', status: 404, code: 'not_found' },
  { name: 'status with a junk wait', method: 'GET', path: () => `/api/sessions/${sessionId}/status?wait=soon`, status: 400, code: 'invalid_request' },
  { name: 'status waiting too long', method: 'GET', path: () => `/api/sessions/${sessionId}/status?wait=5m`, status: 400, code: 'invalid_request' },
  { name: 'title empty', method: 'PATCH', path: () => `/api/sessions/${sessionId}/title`, body: '{"title": ""}', status: 400, code: 'invalid_request' },
  { name: 'starred as a string', method: 'PATCH', path: () => `/api/sessions/${sessionId}/starred`, body: '{"starred": "yes"}', status: 400, code: 'invalid_request' },
  { name: 'permissions with a junk rule', method: 'PATCH', path: () => `/api/sessions/${sessionId}`, body: '{"permissions": {"deny": ["bash:=x"]}}', status: 400, code: 'invalid_request' },
  { name: 'permissions with an unknown policy', method: 'PATCH', path: () => `/api/sessions/${sessionId}`, body: '{"permissions": {"policy": "yolo"}}', status: 400, code: 'invalid_request' },
  { name: 'missing token', method: 'GET', path: () => '/api/sessions', auth: null, status: 401, code: 'unauthorized' },
  { name: 'wrong token', method: 'GET', path: () => '/api/sessions', auth: 'Bearer wrong', status: 401, code: 'unauthorized' },
  { name: 'wrong scheme', method: 'GET', path: () => '/api/sessions', auth: `Basic ${TOKEN}`, status: 401, code: 'unauthorized' },
  { name: 'token on a write', method: 'DELETE', path: () => `/api/sessions/${sessionId}`, auth: 'Bearer nope', status: 401, code: 'unauthorized' },
  { name: 'openapi without token', method: 'GET', path: () => '/openapi.json', auth: null, status: 401, code: 'unauthorized' },
  { name: 'body sent as text/plain', method: 'POST', path: () => '/api/sessions', body: '{"title": "x"}', headers: { 'content-type': 'text/plain' }, status: 415, code: 'unsupported_media_type' },
  { name: 'interrupt body sent as form data', method: 'POST', path: () => `/api/sessions/${sessionId}/interrupt`, body: 'clear_queue=1', headers: { 'content-type': 'application/x-www-form-urlencoded' }, status: 415, code: 'unsupported_media_type' },
  { name: 'import as_new junk', method: 'POST', path: () => '/api/sessions/import?as_new=perhaps', body: '{"version": 1}', status: 400, code: 'invalid_request' },
  { name: 'unknown route', method: 'GET', path: () => '/api/nothing-here', status: 404, code: 'not_found' },
];

async function fingerprint(): Promise<string> {
  const store = t.store();
  const ids = await store.listSessionIds();
  const parts = await Promise.all(
    ids.sort().map(async (id) => [await store.getSession(id), await store.listMessages(id), await store.readEvents(id, 0, 10_000)]),
  );
  return JSON.stringify(parts);
}

describe('bad input gets its documented code and changes nothing', () => {
  it.each(cases)('$name → $status $code', async (c) => {
    const before = await fingerprint();
    const headers: Record<string, string> = { 'content-type': 'application/json', ...c.headers };
    if (c.auth !== null) headers.authorization = c.auth ?? `Bearer ${TOKEN}`;
    const res = await fetch(`${t.url}${c.path()}`, { method: c.method, headers, ...(c.body !== undefined ? { body: c.body } : {}) });
    const body = (await res.json()) as { code: string; message: string };
    expect(res.status).toBe(c.status);
    expect(body.code).toBe(c.code);
    expect(typeof body.message).toBe('string');
    expect(body.message.length).toBeGreaterThan(0);
    expect(await fingerprint()).toBe(before);
  });

  it('lists the zod issues for invalid bodies', async () => {
    const res = await fetch(`${t.url}/api/sessions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: '{"title": 1, "starred": "yes"}',
    });
    const body = (await res.json()) as { issues: Array<{ path: string; message: string }> };
    expect(body.issues.length).toBeGreaterThan(0);
    expect(body.issues.map((i) => i.path).join(',')).toMatch(/title|\(root\)/);
  });

  it('health and ready need no token; the API does', async () => {
    expect((await fetch(`${t.url}/health`)).status).toBe(200);
    expect((await fetch(`${t.url}/ready`)).status).toBe(200);
    expect((await fetch(`${t.url}/api/models`)).status).toBe(401);
    expect((await fetch(`${t.url}/api/models`, { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(200);
  });

  it('a second send while a turn runs is refused with session_busy and changes nothing', async () => {
    const t2 = await startTestTower({ script: [{ text: 'slow', hang: true }] });
    try {
      const s = await t2.client.createSession();
      await t2.client.send(s.id, 'first');
      const before = await t2.store().readEvents(s.id, 0, 1000);
      const res = await fetch(`${t2.url}/api/sessions/${s.id}/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"content":"second"}',
      });
      expect(res.status).toBe(409);
      expect(((await res.json()) as { code: string }).code).toBe('session_busy');
      const after = await t2.store().readEvents(s.id, 0, 1000);
      expect(after.filter((e) => e.type === 'user_message')).toEqual(before.filter((e) => e.type === 'user_message'));
    } finally {
      await t2.close();
    }
  });

  it('serves an OpenAPI document generated from the route schemas', async () => {
    const res = await fetch(`${t.url}/openapi.json`, { headers: { authorization: `Bearer ${TOKEN}` } });
    const doc = (await res.json()) as { openapi: string; paths: Record<string, unknown> };
    expect(doc.openapi).toMatch(/^3\./);
    for (const p of ['/api/sessions', '/api/sessions/{id}/messages', '/api/sessions/{id}/events', '/api/sessions/batch/export', '/api/models']) {
      expect(Object.keys(doc.paths)).toContain(p);
    }
  });
});
