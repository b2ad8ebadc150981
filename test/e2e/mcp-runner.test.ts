import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { TowerEvent } from '../../src/client/index.js';
import type { McpServerSetting } from '../../src/protocol/mcp.js';
import { startMcpHttpServer, stdioServerCommand, type McpHttpTestServer } from '../support/mcp-http-server.js';
import { startRunnerTower, type RunnerTower } from '../support/runners.js';

/**
 * MCP servers of a session placed on runners: listed and called on a real `tower runner` child process
 * through the `mcp_list_tools` / `mcp_call` operations, and through seed 004's `mcp.call` frame.
 */

let t: RunnerTower | undefined;
let http: McpHttpTestServer;
beforeAll(async () => {
  http = await startMcpHttpServer('on-runner');
});
afterAll(async () => {
  await http.close();
});
afterEach(async () => {
  await t?.close();
  t = undefined;
});

/** The parent pid from /proc/<pid>/stat (the field after the parenthesised command name). */
const parentOf = (pid: number): number => Number(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ')[1]);
const ofType = (events: TowerEvent[], type: string) => events.filter((e) => e.type === type) as Array<TowerEvent & Record<string, unknown>>;
const stdio: McpServerSetting = { name: 'local', transport: 'stdio', ...stdioServerCommand(), env: { MCP_SERVER_NAME: 'runner-side' } };

describe('MCP through a runner', () => {
  it("runs a runner-placed session's MCP servers on the runner; elicitation is not offered there", async () => {
    t = await startRunnerTower();
    const token = await t.token('mcp-runner', ['mcp']);
    const child = t.runner(token.token, 'mcp-runner', path.join(t.base, 'ws'));
    await t.online(token.id);
    const session = await t.client.createSession({ runner: { labels: ['mcp'] }, mcp: { servers: [stdio, { name: 'web', transport: 'sse', url: http.url }] } });

    const echoed = await t.call(session.id, 'mcp__local__echo', { text: 'hi' });
    expect(ofType(echoed, 'tool_call_response')[0]).toMatchObject({ is_error: false, result: 'runner-side: hi', runner: { id: token.id, name: 'mcp-runner' } });
    const web = await t.call(session.id, 'mcp__web__echo', { text: 'there' });
    expect(ofType(web, 'tool_call_response')[0]).toMatchObject({ is_error: false, result: 'on-runner: there', runner: { id: token.id } });
    // The stdio server is a child of the runner process, not of Tower.
    const pid = Number(ofType(await t.call(session.id, 'mcp__local__pid', {}), 'tool_call_response')[0]?.result);
    expect(parentOf(pid)).toBe(child.pid);

    const asked = await t.call(session.id, 'mcp__local__ask', { question: 'Which colour?' });
    expect(ofType(asked, 'elicitation_request')).toEqual([]);
    expect(ofType(asked, 'tool_call_response')[0]).toMatchObject({ is_error: true, result: expect.stringContaining('does not support elicitation') });

    // Seed 004's own frame for the same thing.
    const viaFrame = await t.gateway.callMcp(token.id, stdio, 'echo', { text: 'frame' });
    expect(viaFrame).toMatchObject({ success: true, result: { content: 'runner-side: frame' } });
  });

  it('with no runner online, listing fails with no_runner and mcp_server_failed errors and the turn still ends normally', async () => {
    t = await startRunnerTower({ runnerWaitMs: 200 });
    const session = await t.client.createSession({ runner: { labels: ['nowhere'] }, mcp: { servers: [stdio] } });
    const events = await t.call(session.id, 'mcp__local__echo', { text: 'x' });
    const codes = ofType(events, 'error').map((e) => e.code);
    expect(codes).toContain('no_runner');
    expect(codes).toContain('mcp_server_failed');
    expect(ofType(events, 'tool_call_response')[0]).toMatchObject({ is_error: true });
    expect(events.at(-1)).toMatchObject({ type: 'stream_stopped', reason: 'normal' });
  });
});
