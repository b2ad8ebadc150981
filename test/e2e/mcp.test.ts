import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { TowerEvent } from '../../src/client/index.js';
import { isTitleRequest } from '../../src/fake-models/index.js';
import type { McpServerSetting } from '../../src/protocol/mcp.js';
import { startTestTower, type TestTower } from '../support/harness.js';
import { startMcpHttpServer, stdioServerCommand, type McpHttpTestServer } from '../support/mcp-http-server.js';
import { toolCallScript } from '../support/runners.js';
import { isProcessAlive, waitFor } from '../support/wait.js';

/**
 * Sessions with MCP servers, end to end: a real Tower, the scripted fake model asking for `mcp__…` tool
 * calls, the test MCP servers over stdio and streamable HTTP (official SDK). Synchronised on events.
 */

let t: TestTower | undefined;
let http: McpHttpTestServer;
beforeAll(async () => {
  http = await startMcpHttpServer();
});
afterAll(async () => {
  await http.close();
});
afterEach(async () => {
  await t?.close();
  t = undefined;
});

const stdio = (name = 'local'): McpServerSetting => ({ name, transport: 'stdio', ...stdioServerCommand(), env: { MCP_SERVER_NAME: name } });
const remote = (name = 'remote'): McpServerSetting => ({ name, transport: 'http', url: http.url });
const ofType = (events: TowerEvent[], type: string) => events.filter((e) => e.type === type) as Array<TowerEvent & Record<string, unknown>>;

/** Sends `{tool, args}` for the fake model to call, following the turn; `onEvent` may answer questions meanwhile. */
async function call(tt: TestTower, sessionId: string, tool: string, args: unknown, onEvent?: (e: TowerEvent & Record<string, unknown>) => Promise<void>) {
  const events: TowerEvent[] = [];
  for await (const e of tt.client.sendAndFollow(sessionId, JSON.stringify({ tool, args }))) {
    events.push(e);
    await onEvent?.(e as TowerEvent & Record<string, unknown>);
  }
  return events;
}

const api = async (tt: TestTower, method: string, p: string, body?: unknown) => {
  const res = await fetch(`${tt.url}${p}`, { method, headers: { 'content-type': 'application/json' }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
};

describe('MCP servers of a session', () => {
  it('offers a stdio and an HTTP server tools as mcp__<server>__<tool> and runs their calls', async () => {
    t = await startTestTower({ script: toolCallScript });
    const session = await t.client.createSession({ mcp: { servers: [stdio(), remote('my.http server')] } });
    expect(session.mcp?.servers.map((s) => s.name)).toEqual(['local', 'my.http server']);
    const events = await call(t, session.id, 'mcp__local__echo', { text: 'hi' });
    expect(ofType(events, 'tool_call_response')[0]).toMatchObject({ tool: 'mcp__local__echo', is_error: false, result: 'local: hi' });
    // echo is annotated read-only: the balanced policy runs it without asking.
    expect(ofType(events, 'tool_call_confirmation')).toEqual([]);
    expect(events.at(-1)).toMatchObject({ type: 'stream_stopped', reason: 'normal' });

    const offered = t.fake.parsed.filter((r) => !isTitleRequest(r)).at(-1)?.tools ?? [];
    const names = offered.map((o) => o.name);
    expect(names).toEqual(expect.arrayContaining(['mcp__local__echo', 'mcp__local__ask', 'mcp__my_http_server__echo', 'read', 'bash']));
    expect(names.every((n) => /^[A-Za-z0-9_-]{1,64}$/.test(n))).toBe(true);
    expect(JSON.stringify(offered.find((o) => o.name === 'mcp__local__echo'))).toContain('"text"');

    const viaHttp = await call(t, session.id, 'mcp__my_http_server__echo', { text: 'over http' });
    expect(ofType(viaHttp, 'tool_call_response')[0]).toMatchObject({ is_error: false, result: 'http-test: over http' });
    // The result is in the conversation the model reads next.
    const { messages } = await t.client.messages(session.id);
    expect(messages.some((m) => m.message.role === 'tool' && m.message.content === 'http-test: over http')).toBe(true);
  });

  it('MCP tools without a read-only hint are asked for; rules can name mcp__server__tool and mcp__server__*', async () => {
    t = await startTestTower({ script: toolCallScript });
    const session = await t.client.createSession({ mcp: { servers: [stdio()] } });
    const asked = await call(t, session.id, 'mcp__local__pid', {}, async (e) => {
      if (e.type === 'tool_call_confirmation') await t!.client.confirm(session.id, String(e.tool_call_id), 'approve_tool');
    });
    expect(ofType(asked, 'tool_call_confirmation')[0]).toMatchObject({ tool: 'mcp__local__pid' });
    expect(ofType(asked, 'tool_call_response')[0]).toMatchObject({ is_error: false, result: expect.stringMatching(/^\d+$/) });
    expect((await t.client.getSession(session.id)).permissions.allow).toContain('mcp__local__pid');
    const again = await call(t, session.id, 'mcp__local__pid', {});
    expect(ofType(again, 'tool_call_confirmation')).toEqual([]);

    await t.client.updateSession(session.id, { permissions: { deny: ['mcp__local__*'] } });
    const denied = await call(t, session.id, 'mcp__local__echo', { text: 'no' });
    expect(ofType(denied, 'tool_call_response')[0]).toMatchObject({ is_error: true, result: expect.stringContaining('mcp__local__*') });
  });

  it("a server's elicitation becomes an elicitation_request answered over HTTP, and the tool result carries the answer", async () => {
    t = await startTestTower({ script: toolCallScript });
    const session = await t.client.createSession({ mcp: { servers: [stdio(), remote()] }, permissions: { policy: 'autonomous' } });
    const answers: Array<{ action: 'accept' | 'decline'; content?: Record<string, unknown> }> = [{ action: 'accept', content: { color: 'teal' } }, { action: 'decline' }];
    const answer = async (e: TowerEvent & Record<string, unknown>): Promise<void> => {
      if (e.type !== 'elicitation_request') return;
      expect(e).toMatchObject({ message: 'Which colour?', schema: { type: 'object', required: ['color'] } });
      // An answer that does not fit the server's schema is refused and changes nothing.
      const bad = await api(t!, 'POST', `/api/sessions/${session.id}/elicitations/${String(e.elicitation_id)}`, { action: 'accept', content: { colour: 1 } });
      expect(bad).toMatchObject({ status: 400, body: { code: 'invalid_request' } });
      const next = answers.shift()!;
      const ok = await api(t!, 'POST', `/api/sessions/${session.id}/elicitations/${String(e.elicitation_id)}`, next);
      expect(ok.status).toBe(200);
    };
    const accepted = await call(t, session.id, 'mcp__local__ask', { question: 'Which colour?' }, answer);
    expect(ofType(accepted, 'elicitation_resolved')[0]).toMatchObject({ action: 'accept' });
    expect(ofType(accepted, 'tool_call_response')[0]).toMatchObject({ is_error: false, result: 'answer: accept {"color":"teal"}' });
    const declined = await call(t, session.id, 'mcp__remote__ask', { question: 'Which colour?' }, answer);
    expect(ofType(declined, 'tool_call_response')[0]).toMatchObject({ is_error: false, result: 'answer: decline' });
  });

  it('a server that fails to start writes an mcp_server_failed error and leaves the turn and the other servers working', async () => {
    t = await startTestTower({ script: toolCallScript });
    const broken: McpServerSetting = { name: 'broken', transport: 'stdio', command: '/nonexistent/mcp-server' };
    const dead: McpServerSetting = { name: 'dead', transport: 'sse', url: 'http://127.0.0.1:1/mcp' };
    const session = await t.client.createSession({ mcp: { servers: [broken, dead, stdio()] } });
    const events = await call(t, session.id, 'mcp__local__echo', { text: 'still here' });
    const errors = ofType(events, 'error');
    expect(errors.map((e) => e.code)).toEqual(['mcp_server_failed', 'mcp_server_failed']);
    expect(errors.map((e) => String(e.message)).sort()).toEqual([expect.stringMatching(/^MCP server broken: /), expect.stringMatching(/^MCP server dead: /)]);
    expect(ofType(events, 'tool_call_response')[0]).toMatchObject({ is_error: false, result: 'local: still here' });
    expect(events.at(-1)).toMatchObject({ type: 'stream_stopped', reason: 'normal' });
    const offered = t.fake.parsed.filter((r) => !isTitleRequest(r)).at(-1)?.tools.map((o) => o.name) ?? [];
    expect(offered.some((n) => n.startsWith('mcp__broken__') || n.startsWith('mcp__dead__'))).toBe(false);
    // Another session without MCP servers is untouched.
    const plain = await t.client.createSession();
    expect(ofType(await call(t, plain.id, 'list', {}), 'error')).toEqual([]);
  });

  it("the config file's mcp.list_timeout bounds a turn's wait for a server that never lists", async () => {
    t = await startTestTower({ script: toolCallScript, config: { mcp: { servers: [], list_timeout: 0.3, list_cache: 0 } } });
    // Silent for 3 s, then gone: a list that ends another way (or later) fails with another message.
    const silent: McpServerSetting = { name: 'silent', transport: 'stdio', command: 'sleep', args: ['3'] };
    const session = await t.client.createSession({ mcp: { servers: [silent] } });
    const events = await call(t, session.id, 'list', {});
    // The message names the configured limit, not the default 15 s.
    expect(ofType(events, 'error').map((e) => [e.code, e.message])).toEqual([['mcp_server_failed', expect.stringMatching(/^MCP server silent: no tool list within 0\.3 s/)]]);
    expect(events.at(-1)).toMatchObject({ type: 'stream_stopped', reason: 'normal' });
  });

  it('config defaults apply to every session; a session server of the same name replaces one; PATCH applies from the next turn', async () => {
    t = await startTestTower({ script: toolCallScript, config: { mcp: { servers: [stdio('shared')] } } });
    const session = await t.client.createSession();
    expect(ofType(await call(t, session.id, 'mcp__shared__echo', { text: 'a' }), 'tool_call_response')[0]).toMatchObject({ result: 'shared: a' });
    await t.client.updateSession(session.id, { mcp: { servers: [{ ...stdio('shared'), env: { MCP_SERVER_NAME: 'mine' } }, remote()] } });
    expect((await t.client.getSession(session.id)).mcp?.servers).toHaveLength(2);
    expect(ofType(await call(t, session.id, 'mcp__shared__echo', { text: 'b' }), 'tool_call_response')[0]).toMatchObject({ result: 'mine: b' });
    expect(ofType(await call(t, session.id, 'mcp__remote__echo', { text: 'c' }), 'tool_call_response')[0]).toMatchObject({ result: 'http-test: c' });
  });

  it('interrupting a turn while a server waits for an answer cancels the question; deleting the session ends its servers', async () => {
    t = await startTestTower({ script: toolCallScript });
    const session = await t.client.createSession({ mcp: { servers: [stdio()] }, permissions: { policy: 'autonomous' } });
    const pid = Number(ofType(await call(t, session.id, 'mcp__local__pid', {}), 'tool_call_response')[0]?.result);
    expect(isProcessAlive(pid)).toBe(true);
    const events = await call(t, session.id, 'mcp__local__ask', { question: 'Which colour?' }, async (e) => {
      if (e.type === 'elicitation_request') await t!.client.interrupt(session.id);
    });
    expect(events.at(-1)).toMatchObject({ type: 'stream_stopped', reason: 'canceled' });
    expect(ofType(events, 'tool_call_response')[0]).toMatchObject({ is_error: true });
    expect((await t.client.status(session.id)).pending_elicitations).toEqual([]);
    await t.client.deleteSession(session.id);
    await waitFor(() => !isProcessAlive(pid), 15_000);
  });

  it('refuses junk MCP configs with invalid_request and changes nothing', async () => {
    t = await startTestTower({ script: toolCallScript });
    const junk: unknown[] = [
      { servers: [{ name: 'x', transport: 'stdio' }] },
      { servers: [{ name: 'x', transport: 'stdio', command: '  ' }] },
      { servers: [{ name: 'x', transport: 'stdio', command: 'a\u0000b' }] },
      { servers: [{ name: 'x', transport: 'stdio', command: 'node', url: 'http://a/' }] },
      { servers: [{ name: 'x', transport: 'http' }] },
      { servers: [{ name: 'x', transport: 'http', url: 'not a url' }] },
      { servers: [{ name: 'x', transport: 'sse', url: 'ftp://host/mcp' }] },
      { servers: [{ name: 'x', transport: 'sse', url: 'http://a/', command: 'node' }] },
      { servers: [stdio('dup'), remote('dup')] },
      { servers: [stdio('a.b'), remote('a_b')] },
      { servers: [{ name: '', transport: 'stdio', command: 'node' }] },
      { servers: [{ name: 'x', transport: 'websocket', url: 'ws://a/' }] },
      { servers: [{ ...stdio(), extra: 1 }] },
      { servers: 'all' },
    ];
    const before = (await t.client.listSessions()).items.length;
    for (const mcp of junk) {
      const created = await api(t, 'POST', '/api/sessions', { mcp });
      expect(created.status, JSON.stringify(mcp)).toBe(400);
      expect(created.body.code).toBe('invalid_request');
    }
    expect((await t.client.listSessions()).items.length).toBe(before);
    const session = await t.client.createSession({ mcp: { servers: [stdio()] } });
    const patched = await api(t, 'PATCH', `/api/sessions/${session.id}`, { mcp: { servers: [stdio('dup'), stdio('dup')] } });
    expect(patched).toMatchObject({ status: 400, body: { code: 'invalid_request', message: expect.stringContaining('duplicate') } });
    // Unchanged (env values are shown redacted: see mcp-secrets.test.ts).
    expect((await t.client.getSession(session.id)).mcp).toEqual({ servers: [{ ...stdio(), env: { MCP_SERVER_NAME: '***' } }] });
  });
});
