import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TowerClient } from './client.js';
import { TowerApiError, TowerConnectionError, TowerProtocolError } from './errors.js';
import { startRealTower, type RealTower } from './testing/real-tower.js';
import { StubTower } from './testing/stub-tower.js';

describe('TowerClient against the real HTTP app', () => {
  let t: RealTower;
  beforeEach(async () => {
    t = await startRealTower({ token: 'secret' });
  });
  afterEach(async () => {
    await t.close();
  });

  it('sends the bearer token and validates responses', async () => {
    await t.client.createSession({ title: 'first' });
    const list = await t.client.listSessions({ limit: 10 });
    expect(list.items.map((s) => s.title)).toEqual(['first']);
    const request = t.requests.at(-1);
    expect(request?.headers.authorization).toBe('Bearer secret');
    expect(request?.query.get('limit')).toBe('10');
  });

  it('covers the session routes', async () => {
    const created = await t.client.createSession({ model: 'fake/other' });
    expect(created.model).toBe('fake/other');
    expect((await t.client.getSession(created.id)).id).toBe(created.id);
    expect((await t.client.models()).default).toBe('fake/m');
    expect(await t.client.health()).toMatchObject({ status: 'ok' });
    const exported = await t.client.exportSession(created.id);
    expect(exported.session.id).toBe(created.id);
    // On the server it came from, the export's id is taken.
    await expect(t.client.importSession(exported)).rejects.toMatchObject({ status: 409, code: 'conflict' });
    expect(await t.client.batchDelete([created.id, 'ses_missing'])).toEqual({ deleted: 1, failed: ['ses_missing'] });
    expect((await t.client.importSession(exported)).id).toBe(created.id);
    expect(await t.client.deleteSession(created.id)).toEqual({ deleted: true });
  });

  it('round-trips sandbox, network and runner through export and import, validated as on create', async () => {
    const created = await t.client.createSession({ sandbox: 'none', network: true, runner: { labels: ['gpu', 'eu'] } });
    const exported = await t.client.exportSession(created.id);
    expect(exported.session).toMatchObject({ sandbox: 'none', network: true, runner: { labels: ['gpu', 'eu'] } });
    const imported = await t.client.importSession(exported, { asNew: true });
    expect(imported).toMatchObject({ sandbox: 'none', network: true, runner: { labels: ['gpu', 'eu'] } });
    expect(await t.client.getSession(imported.id)).toMatchObject({ sandbox: 'none', network: true, runner: { labels: ['gpu', 'eu'] } });
    // null placement: on the server, stored as no placement (as create does).
    const local = await t.client.importSession({ ...exported, session: { ...exported.session, runner: null } }, { asNew: true });
    expect(local.runner).toBeUndefined();
    for (const bad of [{ sandbox: 'sometimes' }, { network: 'yes' }, { runner: { labels: ['no spaces'] } }, { runner: { labels: [], extra: 1 } }]) {
      const body = { ...exported, session: { ...exported.session, ...bad } } as unknown as typeof exported;
      await expect(t.client.importSession(body, { asNew: true })).rejects.toMatchObject({ status: 400, code: 'invalid_request' });
    }
  });

  it('maps validation errors to TowerApiError with status, code, message and issues', async () => {
    const error = await t.client.createSession({ title: 'x'.repeat(501) }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TowerApiError);
    expect(error).toMatchObject({ status: 400, code: 'invalid_request', issues: [{ path: 'title' }] });
  });

  it('maps 404 and 401', async () => {
    await expect(t.client.getSession('0b7e2a52-9a53-4c43-9d0f-5a3b0b4c9d21')).rejects.toMatchObject({ status: 404, code: 'unknown_session' });
    const anonymous = new TowerClient({ url: t.url });
    await expect(anonymous.listSessions()).rejects.toMatchObject({ status: 401, code: 'unauthorized' });
  });

  it('encodes session ids in paths', async () => {
    await expect(t.client.getSession('a/b?c')).rejects.toBeInstanceOf(TowerApiError);
    expect(t.requests.at(-1)?.path).toBe('/api/sessions/a%2Fb%3Fc');
  });
});

// What the real server never sends (a proxy's HTML page, a body from another version): the stub says it.
describe('TowerClient against answers only a broken server gives', () => {
  let stub: StubTower;
  let client: TowerClient;
  beforeEach(async () => {
    stub = await StubTower.start({ token: 'secret' });
    client = new TowerClient({ url: stub.url, token: 'secret' });
  });
  afterEach(async () => {
    await stub.close();
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
});
