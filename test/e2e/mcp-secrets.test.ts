import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { TowerEvent } from '../../src/client/index.js';
import { SECRET_MARKER } from '../../src/protocol/mcp-secrets.js';
import type { McpServerSetting } from '../../src/protocol/mcp.js';
import { startTestTower, type TestTower } from '../support/harness.js';
import { HubClient } from '../support/hub.js';
import { startMcpHttpServer, stdioServerCommand, type McpHttpTestServer } from '../support/mcp-http-server.js';
import { toolCallScript } from '../support/runners.js';

/**
 * MCP server secrets (`env`, `headers` values) reach the MCP servers and nothing else: not API responses,
 * events (SSE and hub frames), exports. A PATCH sending the marker back keeps the stored value.
 */

const ENV_SECRET = 'env-secret-5f1c9a';
const HEADER_SECRET = 'header-secret-8d2e7b';
const PROVIDER_KEY = 'provider-key-3a9e40';

let t: TestTower | undefined;
let http: McpHttpTestServer;
const hubs: HubClient[] = [];
beforeAll(async () => {
  http = await startMcpHttpServer();
});
afterAll(async () => {
  await http.close();
});
afterEach(async () => {
  for (const h of hubs.splice(0)) h.close();
  await t?.close();
  t = undefined;
});

const servers = (envValue: string): McpServerSetting[] => [
  { name: 'local', transport: 'stdio', ...stdioServerCommand(), env: { MCP_SERVER_NAME: 'local', SECRET_TOKEN: envValue } },
  { name: 'web', transport: 'http', url: http.url, headers: { authorization: `Bearer ${HEADER_SECRET}` } },
];

async function callTool(tt: TestTower, id: string, tool: string, args: unknown): Promise<unknown> {
  let result: unknown = 'no tool_call_response';
  // Followed to the turn's end, so the next call starts a new turn.
  for await (const e of tt.client.sendAndFollow(id, JSON.stringify({ tool, args }))) {
    const ev = e as TowerEvent & Record<string, unknown>;
    if (ev.type === 'tool_call_response') result = ev.result;
  }
  return result;
}

async function allEvents(tt: TestTower, id: string): Promise<TowerEvent[]> {
  const last = (await tt.client.getSession(id)).last_event_seq;
  const events: TowerEvent[] = [];
  const abort = new AbortController();
  for await (const e of tt.client.events(id, { since: 0, signal: abort.signal })) {
    events.push(e);
    if (e.seq >= last) abort.abort();
  }
  return events;
}

const leaks = (value: unknown): boolean => {
  const text = JSON.stringify(value);
  return text.includes(ENV_SECRET) || text.includes(HEADER_SECRET) || text.includes('new-secret-value');
};

describe('MCP secrets', () => {
  it('never leave the store except to the MCP servers; a PATCH with the marker keeps them, a new value replaces', async () => {
    const saved = process.env.OPENAI_API_KEY;
    process.env.OPENAI_API_KEY = PROVIDER_KEY;
    try {
      t = await startTestTower({ script: toolCallScript });
      const hub = await HubClient.connect(t.url);
      hubs.push(hub);
      hub.send('subscribe', { topics: ['sessions'] });
      await hub.next((f) => f.type === 'subscribed');

      const created = await t.client.createSession({ mcp: { servers: servers(ENV_SECRET) } });
      expect(leaks(created)).toBe(false);
      expect(created.mcp?.servers[0]?.env).toEqual({ MCP_SERVER_NAME: SECRET_MARKER, SECRET_TOKEN: SECRET_MARKER });
      expect(created.mcp?.servers[1]?.headers).toEqual({ authorization: SECRET_MARKER });

      // The servers themselves get the values; the stdio server inherits no provider key of Tower's.
      expect(await callTool(t, created.id, 'mcp__local__env', { name: 'SECRET_TOKEN' })).toBe(ENV_SECRET);
      expect(await callTool(t, created.id, 'mcp__local__env', { name: 'OPENAI_API_KEY' })).toBe('(unset)');
      expect(await callTool(t, created.id, 'mcp__web__echo', { text: 'x' })).toBe('http-test: x');
      expect(http.requests.some((h) => h.authorization === `Bearer ${HEADER_SECRET}`)).toBe(true);

      // Round trip: what GET answered, sent back as it is, keeps the secrets.
      const got = await t.client.getSession(created.id);
      const patched = await t.client.updateSession(created.id, { mcp: got.mcp!, title: 'round trip' });
      expect(leaks(patched)).toBe(false);
      expect(await callTool(t, created.id, 'mcp__local__env', { name: 'SECRET_TOKEN' })).toBe(ENV_SECRET);

      // A new value replaces the stored one.
      const changed = servers('new-secret-value').map((s, i) => (i === 0 ? s : got.mcp!.servers[1]!));
      await t.client.updateSession(created.id, { mcp: { servers: changed } });
      expect(await callTool(t, created.id, 'mcp__local__env', { name: 'SECRET_TOKEN' })).toBe('new-secret-value');

      const events = await allEvents(t, created.id);
      expect(events.filter((e) => e.type === 'session_updated').length).toBeGreaterThanOrEqual(2);
      // The env tool answers the secret by design: only its three results carry it.
      expect(events.filter((e) => leaks(e)).map((e) => e.type)).toEqual(['tool_call_response', 'tool_call_response', 'tool_call_response']);
      expect(leaks(events.filter((e) => e.type !== 'tool_call_response'))).toBe(false);
      expect(leaks(await t.client.getSession(created.id))).toBe(false);
      expect(leaks(await t.client.listSessions())).toBe(false);
      const exported = await t.client.exportSession(created.id);
      expect(leaks(exported.session)).toBe(false);
      expect(leaks(exported.events.filter((e) => e.type === 'session_updated'))).toBe(false);
      expect(leaks((await t.client.batchExport([created.id])).sessions.map((s) => s.session))).toBe(false);
      expect(hub.frames.some((f) => f.type === 'session_change')).toBe(true);
      expect(leaks(hub.frames)).toBe(false);

      // A redacted export cannot be imported as it is: the markers would become the secrets.
      await expect(t.client.importSession(exported)).rejects.toMatchObject({ code: 'invalid_request', message: expect.stringContaining('servers[0].env.SECRET_TOKEN') });
      // A marker for a key the session never stored is refused, and changes nothing.
      const unknown = { servers: [{ ...got.mcp!.servers[0]!, env: { OTHER: SECRET_MARKER } }] };
      await expect(t.client.updateSession(created.id, { mcp: unknown })).rejects.toMatchObject({ code: 'invalid_request' });
      expect(await callTool(t, created.id, 'mcp__local__env', { name: 'SECRET_TOKEN' })).toBe('new-secret-value');

      // With the real values put back in, the export imports (here after deleting the original).
      await t.client.deleteSession(created.id);
      const filled = { servers: servers('imported-secret').map((s, i) => (i === 0 ? s : { ...s, headers: { authorization: `Bearer ${HEADER_SECRET}` } })) };
      const imported = await t.client.importSession({ ...exported, session: { ...exported.session, mcp: filled } });
      expect(leaks(imported) || JSON.stringify(imported).includes('imported-secret')).toBe(false);
    } finally {
      if (saved === undefined) delete process.env.OPENAI_API_KEY;
      else process.env.OPENAI_API_KEY = saved;
    }
  });

  it('an export from an older Tower, whose session_updated events hold the secrets, is imported with them redacted', async () => {
    t = await startTestTower({ script: [] });
    const created = await t.client.createSession({ title: 'old export' });
    const exported = await t.client.exportSession(created.id);
    const last = exported.events.at(-1)!;
    // What a Tower that wrote settings whole into events exported: the values in the event itself.
    const old = {
      ...exported,
      session: { ...exported.session, mcp: { servers: servers(ENV_SECRET) } },
      events: [...exported.events, { ...last, seq: last.seq + 1, type: 'session_updated' as const, data: { sandbox: 'none' as const, mcp: { servers: servers(ENV_SECRET) } } }],
    };
    await t.client.deleteSession(created.id);
    const imported = await t.client.importSession(old as unknown as typeof exported);
    expect(leaks(imported)).toBe(false);
    const events = await allEvents(t, imported.id);
    const updated = events.find((e) => e.type === 'session_updated') as (TowerEvent & { mcp?: { servers: McpServerSetting[] }; sandbox?: string }) | undefined;
    expect(updated?.sandbox).toBe('none');
    expect(updated?.mcp?.servers[0]?.env).toEqual({ MCP_SERVER_NAME: SECRET_MARKER, SECRET_TOKEN: SECRET_MARKER });
    expect(leaks(events)).toBe(false);
  });
});
