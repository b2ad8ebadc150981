import { afterEach, describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../../protocol/errors.js';
import { statusOf } from './errors.js';
import { memoryHttp, type MemoryHttp } from './testing.js';

let app: MemoryHttp | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

const post = (body: string, headers: Record<string, string> = { 'content-type': 'application/json' }) => ({ method: 'POST', headers, body });

describe('HTTP error mapping', () => {
  it('gives every error code a deliberate status', () => {
    for (const code of ERROR_CODES) expect(statusOf(code), code).toBeGreaterThanOrEqual(400);
    expect(statusOf('unsupported_media_type')).toBe(415);
    expect(statusOf('not_ready')).toBe(503);
    expect(statusOf('no such code')).toBe(500);
  });

  it('answers a body in the wrong media type with 415 unsupported_media_type, changing nothing', async () => {
    app = await memoryHttp();
    for (const headers of [{ 'content-type': 'text/plain' }, {} as Record<string, string>, { 'content-type': 'application/x-www-form-urlencoded' }]) {
      const res = await app.http.request('/api/sessions', post('{"title":"x"}', headers));
      expect(res.status, JSON.stringify(headers)).toBe(415);
      expect(((await res.json()) as { code: string }).code).toBe('unsupported_media_type');
    }
    expect((await app.manager.list({ limit: 10 })).items).toEqual([]);
  });

  it('says "Invalid request body" for schema errors on valid JSON, with the path and the issues', async () => {
    app = await memoryHttp();
    const res = await app.http.request('/api/sessions', post('{"title": 42}'));
    expect(res.status).toBe(400);
    const body = (await res.json()) as { code: string; message: string; issues: Array<{ path: string }> };
    expect(body.code).toBe('invalid_request');
    expect(body.message).toMatch(/^Invalid request body: title: /);
    expect(body.issues.map((i) => i.path)).toEqual(['title']);
    const malformed = await app.http.request('/api/sessions', post('{"title": '));
    expect(((await malformed.json()) as { message: string }).message).toMatch(/Malformed JSON/);
    const query = await app.http.request('/api/sessions?limit=0');
    expect(((await query.json()) as { message: string }).message).toMatch(/^Invalid query: limit: /);
  });

  it('takes the interrupt body as optional JSON: absent, empty object, clear_queue, or refused junk', async () => {
    app = await memoryHttp();
    const { id } = await app.manager.create({});
    const interrupt = (init: RequestInit) => app!.http.request(`/api/sessions/${id}/interrupt`, { method: 'POST', ...init });
    expect(await (await interrupt({})).json()).toEqual({ interrupted: false });
    expect((await interrupt(post('{}'))).status).toBe(200);
    expect((await interrupt(post(''))).status).toBe(200);
    expect((await interrupt(post('  \n'))).status).toBe(200);
    expect((await interrupt(post('{"clear_queue": true}'))).status).toBe(200);
    const junk = await interrupt(post('{"clear_queue": "yes"}'));
    expect(junk.status).toBe(400);
    expect(((await junk.json()) as { message: string }).message).toMatch(/^Invalid request body: clear_queue/);
    expect((await interrupt(post('{"other": 1}'))).status).toBe(400);
    expect((await interrupt(post('{"clear_queue": true}', { 'content-type': 'text/plain' }))).status).toBe(415);
  });

  it('imports an export of the same server under a new id with ?as_new=true', async () => {
    app = await memoryHttp();
    const { id } = await app.manager.create({ title: 'original' });
    const exported = await (await app.http.request(`/api/sessions/${id}/export`)).text();
    const again = await app.http.request('/api/sessions/import', post(exported));
    expect(again.status).toBe(409);
    expect(((await again.json()) as { code: string }).code).toBe('conflict');
    const copy = await app.http.request('/api/sessions/import?as_new=true', post(exported));
    expect(copy.status).toBe(201);
    const session = (await copy.json()) as { id: string; title: string };
    expect(session.id).not.toBe(id);
    expect(session.title).toBe('original');
    const events = (await (await app.http.request(`/api/sessions/${session.id}/export`)).json()) as { events: Array<{ session_id: string }> };
    expect(events.events.length).toBeGreaterThan(0);
    expect(events.events.every((e) => e.session_id === session.id)).toBe(true);
    expect((await app.http.request('/api/sessions/import?as_new=maybe', post(exported))).status).toBe(400);
  });
});
