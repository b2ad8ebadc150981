import { describe, expect, it } from 'vitest';
import { hubRig } from '../support/hub.js';

const TOKEN = 'hub-test-token-0123456789abcdef';
const rig = hubRig();

describe('hub auth and origin', () => {
  it('accepts a Bearer header, refuses a wrong one at the upgrade', async () => {
    const t = await rig.start({ token: TOKEN });
    const c = await rig.connect(t, { headers: { authorization: `Bearer ${TOKEN}` } });
    c.send('ping');
    await c.next((f) => f.type === 'pong');
    await expect(rig.connect(t, { headers: { authorization: 'Bearer wrong' } })).rejects.toThrow(/401/);
  });

  it('without a header: only an auth frame is accepted, then everything works', async () => {
    const t = await rig.start({ token: TOKEN });
    const early = await rig.connect(t);
    early.send('ping');
    expect((await early.next((f) => f.type === 'error')).data?.code).toBe('UNAUTHORIZED');
    expect((await early.closed).code).toBe(1008);

    const c = await rig.connect(t);
    c.send('auth', { token: TOKEN, client_id: 'dash-1' });
    expect((await c.next((f) => f.type === 'authenticated')).data).toEqual({ client_id: 'dash-1' });
    c.send('ping');
    await c.next((f) => f.type === 'pong');
  });

  it('a wrong token in the auth frame, and no auth frame in time, both close the connection', async () => {
    const t = await rig.start({ token: TOKEN, hub: { authTimeoutMs: 200 } });
    const wrong = await rig.connect(t);
    wrong.send('auth', { token: 'nope' });
    expect((await wrong.next((f) => f.type === 'error')).data?.code).toBe('UNAUTHORIZED');
    expect((await wrong.closed).code).toBe(1008);
    const silent = await rig.connect(t);
    expect((await silent.next((f) => f.type === 'error')).data?.code).toBe('UNAUTHORIZED');
    expect((await silent.closed).code).toBe(1008);
  });

  it('refuses a cross-origin browser even with a token; allows its own origin and the allow-list', async () => {
    const t = await rig.start({ token: TOKEN, hub: { allowedOrigins: ['https://dash.example'] } });
    const auth = { authorization: `Bearer ${TOKEN}` };
    await expect(rig.connect(t, { headers: { ...auth, origin: 'https://evil.example' } })).rejects.toThrow(/403/);
    await expect(rig.connect(t, { headers: { origin: 'https://evil.example' } })).rejects.toThrow(/403/);
    const host = new URL(t.url).host;
    const same = await rig.connect(t, { headers: { ...auth, origin: `http://${host}` } });
    same.send('ping');
    await same.next((f) => f.type === 'pong');
    const listed = await rig.connect(t, { headers: { ...auth, origin: 'https://dash.example' } });
    listed.send('ping');
    await listed.next((f) => f.type === 'pong');
  });

  it('refuses other paths and a malformed client_id', async () => {
    const t = await rig.start();
    await expect(rig.connect(t, { query: 'client_id=%20bad%20' })).rejects.toThrow(/400/);
    const ws = new (await import('ws')).default(`${t.url.replace('http', 'ws')}/elsewhere`);
    const status = await new Promise<number>((resolve) => {
      ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.on('error', () => resolve(-1));
    });
    expect(status).toBe(404);
  });
});
