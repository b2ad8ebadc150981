import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { stdioServerCommand } from '../../../test/support/mcp-http-server.js';
import { probeBwrap } from '../../runner/bwrap.js';
import { McpHost, type McpSessionSandbox } from './host.js';

const bwrapWorks = (await probeBwrap()).ok;

describe.runIf(bwrapWorks)('local stdio MCP servers and the session sandbox', () => {
  let dir: string;
  let hidden: string;
  let host: McpHost;

  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'tower-mcp-bwrap-'));
    hidden = await mkdtemp(path.join(tmpdir(), 'tower-mcp-data-'));
    await writeFile(path.join(hidden, 'token'), 'secret\n');
    host = new McpHost({
      defaults: [{ name: 'local', transport: 'stdio', ...stdioServerCommand(), env: { MCP_SERVER_NAME: 'local' } }],
      sandbox: { mode: 'auto', network: false, hide: [hidden] },
    });
  });

  afterEach(async () => {
    await host.close();
    await rm(dir, { recursive: true, force: true });
    await rm(hidden, { recursive: true, force: true });
  });

  /** Calls a tool of the session's server the way a turn does, and answers its text. */
  async function call(id: string, placement: McpSessionSandbox, tool: string, args: Record<string, unknown> = {}): Promise<string> {
    const errors: string[] = [];
    const tools = await host.openTurn({ id, placement }, { signal: new AbortController().signal, onServerError: (_c, m) => errors.push(m) });
    expect(errors.join("; ")).toBe("");
    const res = await tools!.execute({ id: 'c', name: `mcp__local__${tool}`, args }, { workingDir: dir, signal: new AbortController().signal });
    expect(res.is_error).toBe(false);
    return res.output;
  }

  it('a bwrap session starts its server inside bubblewrap: own pid namespace, private /tmp', async () => {
    // In its own pid namespace the server is one of the first processes; outside, it has a host pid.
    expect(Number(await call('s1', { sandbox: 'bwrap', workingDir: dir }, 'pid'))).toBeLessThanOrEqual(3);
    expect(await call('s1', { sandbox: 'bwrap', workingDir: dir }, 'env', { name: 'TMPDIR' })).toBe('/tmp');
  }, 30_000);

  it('the server default applies when the session sets none; auto and none run servers outside', async () => {
    const strict = new McpHost({
      defaults: [{ name: 'local', transport: 'stdio', ...stdioServerCommand(), env: { MCP_SERVER_NAME: 'local' } }],
      sandbox: { mode: 'bwrap', network: false, hide: [hidden] },
    });
    try {
      const tools = await strict.openTurn({ id: 's2', placement: { workingDir: dir } }, { signal: new AbortController().signal, onServerError: () => undefined });
      const res = await tools!.execute({ id: 'c', name: 'mcp__local__pid', args: {} }, { workingDir: dir, signal: new AbortController().signal });
      expect(Number(res.output)).toBeLessThanOrEqual(3);
    } finally {
      await strict.close();
    }
    expect(Number(await call('s3', { workingDir: dir }, 'pid'))).toBeGreaterThan(3);
    expect(Number(await call('s4', { sandbox: 'none', workingDir: dir }, 'pid'))).toBeGreaterThan(3);
  }, 30_000);
});
