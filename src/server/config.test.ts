import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigFile, mcpDefaults, readConfigFile } from './config.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function configFile(content: unknown): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tower-config-'));
  dirs.push(dir);
  const file = path.join(dir, 'tower.config.json');
  writeFileSync(file, JSON.stringify(content));
  return file;
}

describe('the config file: mcp listing limits', () => {
  it('takes mcp.list_timeout and mcp.list_cache in seconds and hands them to the sessions in ms', () => {
    const file = readConfigFile(configFile({ mcp: { servers: [], list_timeout: 2.5, list_cache: 0 } }), {});
    expect(file.mcp).toEqual({ servers: [], list_timeout: 2.5, list_cache: 0 });
    expect(mcpDefaults(file.mcp)).toEqual({ mcpServers: [], mcpListTimeoutMs: 2500, mcpListCacheMs: 0 });
  });

  it('leaves the built-in limits alone when they are not set', () => {
    expect(mcpDefaults(undefined)).toEqual({});
    expect(mcpDefaults(ConfigFile.parse({ mcp: { servers: [] } }).mcp)).toEqual({ mcpServers: [] });
  });

  it('refuses bad limits, naming the key, and keeps checking the servers', () => {
    for (const [mcp, key] of [
      [{ servers: [], list_timeout: 0 }, 'mcp.list_timeout'],
      [{ servers: [], list_timeout: '15' }, 'mcp.list_timeout'],
      [{ servers: [], list_timeout: 601 }, 'mcp.list_timeout'],
      [{ servers: [], list_cache: -1 }, 'mcp.list_cache'],
      [{ servers: [], list_cahce: 5 }, 'mcp'],
      [{ servers: [{ name: 'a', transport: 'stdio' }], list_timeout: 5 }, 'mcp.servers.0.command'],
    ] as const) {
      const file = configFile({ mcp });
      expect(() => readConfigFile(file, {}), JSON.stringify(mcp)).toThrow(`Config file ${file}: ${key}:`);
    }
  });
});
