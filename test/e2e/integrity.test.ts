import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestTower, type TestTower } from '../support/harness.js';

let t: TestTower;
let sessionId: string;
let exported: Record<string, unknown>;

beforeAll(async () => {
  t = await startTestTower({ script: (req) => (req.index === 0 ? { text: 'slow '.repeat(400), tokensPerSecond: 50 } : { text: 'ok' }) });
  sessionId = (await t.client.createSession({ title: 'source' })).id;
  exported = (await t.client.exportSession(sessionId)) as unknown as Record<string, unknown>;
});
afterAll(() => t.close());

async function call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${t.url}${path}`, {
    method,
    headers: { 'content-type': 'application/json', ...headers },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  return { status: res.status, body: (await res.json()) as { code?: string; message?: string; issues?: Array<{ path: string; message: string }> } };
}

function variant(change: (e: { session: Record<string, unknown>; events: Array<Record<string, unknown>>; messages: unknown[] }) => void) {
  const copy = structuredClone(exported) as { session: Record<string, unknown>; events: Array<Record<string, unknown>>; messages: unknown[] };
  copy.session.id = `imported-${Math.random().toString(36).slice(2)}`;
  for (const e of copy.events) e.session_id = copy.session.id;
  change(copy);
  return copy;
}

describe('import holds an export to the rules of create, PATCH and the log', () => {
  const junk: Array<[string, Parameters<typeof variant>[0]]> = [
    ['an empty id', (e) => { e.session.id = ''; }],
    ['a gap in the seqs', (e) => { e.events.push({ ...e.events[0], seq: 5 }); }],
    ['a mid-log session_deleted', (e) => { e.events.push({ ...e.events[0], seq: 2, type: 'session_deleted', data: {} }); }],
    ['a turn without stream_stopped', (e) => { e.events.push({ ...e.events[0], seq: 2, type: 'stream_started', data: { turn_id: 't', model: 'm' } }); }],
    ['an unknown event type', (e) => { e.events.push({ ...e.events[0], seq: 2, type: 'made_up', data: {} }); }],
    ['permission rules the API refuses', (e) => { e.session.permissions = { allow: ['bash:'], ask: [], deny: [], policy: 'balanced', auto_approve: false }; }],
    ['an invalid date', (e) => { e.session.created_at = '9999-zz'; }],
    ['a relative working_dir', (e) => { e.session.working_dir = 'relative/dir'; }],
    ['data nested 5,000 deep', (e) => { e.events.push({ ...e.events[0], seq: 2, type: 'agent_choice', data: { content: 'x', deep: '__DEEP__' } }); }],
    ['a lone surrogate in the title', (e) => { e.session.title = 'bad \ud800 title'; }],
  ];
  for (const [name, change] of junk) {
    it(`refuses ${name} with 400 invalid_request and creates nothing`, async () => {
      const body = variant(change);
      // Too deep for JSON.stringify on this side too: spliced in as text.
      const deep = '{"a":'.repeat(5000) + '{}' + '}'.repeat(5000);
      const r = await call('POST', '/api/sessions/import', JSON.stringify(body).replace('"__DEEP__"', deep));
      expect(r.status).toBe(400);
      expect(r.body.code).toBe('invalid_request');
      if (name !== 'permission rules the API refuses') expect(r.body.issues?.length).toBeGreaterThan(0);
      if (typeof body.session.id === 'string' && body.session.id) {
        expect((await call('GET', `/api/sessions/${body.session.id}`)).status).toBe(404);
      }
    });
  }

  it('still imports a well-formed export', async () => {
    const r = await call('POST', '/api/sessions/import', variant(() => {}));
    expect(r.status).toBe(201);
  });
});

describe('request bodies at the edge', () => {
  it('refuses a lone surrogate in a title, a message and a permission rule', async () => {
    expect((await call('POST', '/api/sessions', '{"title": "a \\ud800 b"}')).body.code).toBe('invalid_request');
    expect((await call('PATCH', `/api/sessions/${sessionId}`, '{"title": "\\udc00"}')).status).toBe(400);
    expect((await call('POST', `/api/sessions/${sessionId}/messages`, '{"content": "x\\ud83d"}')).status).toBe(400);
    expect((await call('POST', '/api/sessions', '{"permissions": {"allow": ["re\\ud800ad"]}}')).status).toBe(400);
    expect((await t.client.getSession(sessionId)).title).toBe('source');
    // A proper pair is fine.
    expect((await call('POST', '/api/sessions', '{"title": "rocket \\ud83d\\ude80"}')).status).toBe(201);
  });

  it('accepts role "user" in steer and follow-up messages and refuses other roles clearly', async () => {
    const s = (await t.client.createSession()).id;
    await t.client.send(s, 'a long turn');
    const steer = await call('POST', `/api/sessions/${s}/steer`, { messages: [{ role: 'user', content: 'also this' }] });
    expect(steer.status).toBe(202);
    const wrong = await call('POST', `/api/sessions/${s}/followup`, { messages: [{ role: 'assistant', content: 'x' }] });
    expect(wrong.status).toBe(400);
    expect(wrong.body.message).toContain('only role "user" is accepted');
    const follow = await call('POST', `/api/sessions/${s}/followup`, { messages: [{ role: 'user', content: 'next' }] });
    expect(follow.status).toBe(202);
    await t.client.interrupt(s, { clearQueue: true });
  });

  it('answers a reused Idempotency-Key with another body 422 idempotency_key_reused; a true retry is a duplicate', async () => {
    const s = (await t.client.createSession()).id;
    const headers = { 'idempotency-key': 'key-1' };
    const first = await call('POST', `/api/sessions/${s}/followup`, { messages: [{ content: 'one' }] }, headers);
    expect(first.status).toBe(202);
    const retry = await call('POST', `/api/sessions/${s}/followup`, { messages: [{ content: 'one' }] }, headers);
    expect(retry.body).toMatchObject({ status: 'duplicate' });
    const reused = await call('POST', `/api/sessions/${s}/followup`, { messages: [{ content: 'two' }] }, headers);
    expect(reused.status).toBe(422);
    expect(reused.body.code).toBe('idempotency_key_reused');
  });
});
