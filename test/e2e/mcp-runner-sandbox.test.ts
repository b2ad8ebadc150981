import { once } from 'node:events';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { TowerEvent } from '../../src/client/index.js';
import { probeBwrap } from '../../src/runner/bwrap.js';
import { spawnRunner } from '../../src/runner/worker/testing/control-plane.js';
import { startRunnerTower, type RunnerTower } from '../support/runners.js';

/**
 * A `tower runner --sandbox bwrap` runs its stdio MCP servers inside bubblewrap, as it runs bash: the
 * server cannot read the runner's hidden `.tower` (its outbox with other tasks' results, its process
 * records), it has its own pid namespace, and it still reads and writes the workspace.
 */

const bwrapWorks = (await probeBwrap()).ok;

/** A stdio MCP server with no dependencies (it may run where no node_modules are visible): `read` and `pid`. */
const PROBE_SERVER = `
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
const send = (m) => process.stdout.write(JSON.stringify({ jsonrpc: '2.0', ...m }) + '\\n');
const text = (t) => ({ content: [{ type: 'text', text: t }] });
const tools = [
  { name: 'read', description: 'Reads a file', inputSchema: { type: 'object', properties: { path: { type: 'string' } }, required: ['path'] } },
  { name: 'pid', description: 'The server pid', inputSchema: { type: 'object', properties: {} } },
];
createInterface({ input: process.stdin }).on('line', (line) => {
  const m = JSON.parse(line);
  if (m.id === undefined) return;
  if (m.method === 'initialize') return send({ id: m.id, result: { protocolVersion: m.params.protocolVersion, capabilities: { tools: {} }, serverInfo: { name: 'probe', version: '1' } } });
  if (m.method === 'tools/list') return send({ id: m.id, result: { tools } });
  if (m.method === 'tools/call' && m.params.name === 'pid') return send({ id: m.id, result: text(String(process.pid)) });
  if (m.method === 'tools/call' && m.params.name === 'read') {
    try {
      return send({ id: m.id, result: text(readFileSync(m.params.arguments.path, 'utf8')) });
    } catch (err) {
      return send({ id: m.id, result: text('unreadable: ' + err.code) });
    }
  }
  send({ id: m.id, error: { code: -32601, message: 'no such method' } });
});
`;

let t: RunnerTower | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

const results = (events: TowerEvent[]): unknown[] => events.filter((e) => e.type === 'tool_call_response').map((e) => (e as TowerEvent & { result?: unknown }).result);

describe.runIf(bwrapWorks)('MCP servers of a bwrap runner', () => {
  it('run inside bubblewrap: the runner state is hidden, the pid namespace is their own, the workspace is theirs', async () => {
    t = await startRunnerTower();
    const script = path.join(t.base, 'probe-server.mjs');
    writeFileSync(script, PROBE_SERVER);
    const workspace = path.join(t.base, 'ws');
    mkdirSync(path.join(workspace, '.tower'), { recursive: true });
    const secret = path.join(workspace, '.tower', 'other-task-result.json');
    writeFileSync(secret, 'another session\'s result\n');
    writeFileSync(path.join(workspace, 'notes.txt'), 'workspace file\n');
    const token = await t.token('bwrap-runner', ['bw']);
    const configFile = path.join(t.base, 'runner.json');
    writeFileSync(configFile, JSON.stringify({ workspace, reconnect_min_ms: 50, reconnect_max_ms: 200, heartbeat_ms: 300 }));
    const child = spawnRunner(['--url', t.wsUrl, '--token', token.token, '--config', configFile, '--name', 'bwrap-runner', '--sandbox', 'bwrap']);
    try {
      await t.online(token.id);
      const session = await t.client.createSession({ runner: { labels: ['bw'] }, mcp: { servers: [{ name: 'probe', transport: 'stdio', command: process.execPath, args: [script] }] } });

      expect(results(await t.call(session.id, 'mcp__probe__read', { path: path.join(workspace, 'notes.txt') }))).toEqual(['workspace file\n']);
      expect(results(await t.call(session.id, 'mcp__probe__read', { path: secret }))).toEqual(['unreadable: ENOENT']);
      const pid = Number(results(await t.call(session.id, 'mcp__probe__pid', {}))[0]);
      expect(pid).toBeGreaterThan(0);
      expect(pid).toBeLessThanOrEqual(3);
    } finally {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await once(child, 'exit');
      }
    }
  }, 60_000);
});
