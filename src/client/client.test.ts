import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TowerClient } from './client.js';
import { TowerApiError, TowerConnectionError, TowerProtocolError } from './errors.js';
import { StubTower } from './testing/stub-tower.js';

let stub: StubTower;
let client: TowerClient;

beforeEach(async () => {
  stub = await StubTower.start({ token: 'secret' });
  client = new TowerClient({ url: stub.url, token: 'secret' });
});

afterEach(async () => {
  await stub.close();
});

describe('TowerClient requests', () => {
  it('sends the bearer token and validates responses', async () => {
    stub.addSession({ title: 'first' });
    const list = await client.listSessions({ limit: 10 });
    expect(list.items.map((s) => s.title)).toEqual(['first']);
    const request = stub.requests.at(-1);
    expect(request?.headers.authorization).toBe('Bearer secret');
    expect(request?.query.get('limit')).toBe('10');
  });

  it('covers the session routes', async () => {
    const created = await client.createSession({ model: 'fake/other', working_dir: '/w' });
    expect(created.model).toBe('fake/other');
    expect((await client.getSession(created.id)).id).toBe(created.id);
    expect((await client.models()).default).toBe('fake/model');
    expect(await client.health()).toEqual({ status: 'ok' });
    const exported = await client.exportSession(created.id);
    await expect(client.importSession(exported)).rejects.toMatchObject({ status: 409, code: 'conflict' });
    const imported = await client.importSession(exported, { asNew: true });
    expect(imported.id).not.toBe(created.id);
    expect(stub.requests.at(-1)?.query.get('as_new')).toBe('true');
    expect(await client.batchDelete([imported.id, 'ses_missing'])).toEqual({ deleted: 1, failed: ['ses_missing'] });
    expect(await client.deleteSession(created.id)).toEqual({ deleted: true });
  });

  it('maps an ErrorBody to TowerApiError with status, code, message and issues', async () => {
    stub.intercept = (req, res) => {
      if (req.method !== 'POST') return false;
      res.writeHead(400, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ code: 'invalid_request', message: 'bad body', issues: [{ path: 'title', message: 'too long' }] }));
      return true;
    };
    const error = await client.createSession({ title: 'x' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TowerApiError);
    expect(error).toMatchObject({ status: 400, code: 'invalid_request', message: 'bad body', issues: [{ path: 'title', message: 'too long' }] });
  });

  it('maps 404 and 401', async () => {
    await expect(client.getSession('nope')).rejects.toMatchObject({ status: 404, code: 'unknown_session' });
    const anonymous = new TowerClient({ url: stub.url });
    await expect(anonymous.listSessions()).rejects.toMatchObject({ status: 401, code: 'unauthorized' });
  });

  it('derives a code from the status when the error body is not JSON', async () => {
    stub.intercept = (_req, res) => {
      res.writeHead(502, { 'content-type': 'text/html' });
      res.end('<h1>Bad Gateway</h1>');
      return true;
    };
    await expect(client.listSessions()).rejects.toMatchObject({ status: 502, code: 'internal', message: '<h1>Bad Gateway</h1>' });
  });

  it('rejects a 2xx body that does not match the schema', async () => {
    stub.intercept = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ items: [{ id: 1 }] }));
      return true;
    };
    await expect(client.listSessions()).rejects.toBeInstanceOf(TowerProtocolError);
  });

  it('reports an unreachable server as TowerConnectionError', async () => {
    const url = stub.url;
    await stub.close();
    const error = await new TowerClient({ url }).health().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TowerConnectionError);
    expect(error).toMatchObject({ errno: 'ECONNREFUSED' });
    stub = await StubTower.start();
  });

  it('names the innermost cause when there is no system error code', async () => {
    // fetch refuses some ports outright ("bad port") before any socket is opened.
    const error = await new TowerClient({ url: 'http://127.0.0.1:1' }).health().catch((e: unknown) => e);
    expect(error).toMatchObject({ errno: undefined, reason: 'bad port', message: 'cannot reach Tower at http://127.0.0.1:1 (bad port)' });
  });

  it('encodes session ids in paths', async () => {
    await expect(client.getSession('a/b?c')).rejects.toBeInstanceOf(TowerApiError);
    expect(stub.requests.at(-1)?.path).toBe('/api/sessions/a%2Fb%3Fc');
  });
});
