import { describe, expect, it } from 'vitest';
import { isTowerError } from './errors.js';
import { redactedPaths, redactMcp, restoreMcpSecrets, SECRET_MARKER, withRedactedMcp } from './mcp-secrets.js';
import type { McpSettings } from './mcp.js';

const stored: McpSettings = {
  servers: [
    { name: 'a', transport: 'stdio', command: 'node', env: { TOKEN: 't-1', MODE: 'x' } },
    { name: 'b', transport: 'http', url: 'https://h/', headers: { authorization: 'Bearer b-1' }, dynamic_headers: { 'x-d': 'd-1' } },
  ],
};

describe('MCP secrets', () => {
  it('redacts every env, headers and dynamic_headers value and keeps keys and other fields', () => {
    const shown = redactMcp(stored);
    expect(shown).toEqual({
      servers: [
        { name: 'a', transport: 'stdio', command: 'node', env: { TOKEN: SECRET_MARKER, MODE: SECRET_MARKER } },
        { name: 'b', transport: 'http', url: 'https://h/', headers: { authorization: SECRET_MARKER }, dynamic_headers: { 'x-d': SECRET_MARKER } },
      ],
    });
    expect(stored.servers[0]?.env?.TOKEN).toBe('t-1'); // the input is not changed
    const plain: { id: string; mcp?: McpSettings } = { id: 's' };
    expect(withRedactedMcp(plain)).toBe(plain);
    expect(redactedPaths(shown)).toEqual(['servers[0].env.TOKEN', 'servers[0].env.MODE', 'servers[1].headers.authorization', 'servers[1].dynamic_headers.x-d']);
    expect(redactedPaths(stored)).toEqual([]);
  });

  it('restores markers from the stored server of the same name; new values replace; unknown markers are refused', () => {
    const incoming: McpSettings = {
      servers: [
        { name: 'b', transport: 'http', url: 'https://h/', headers: { authorization: SECRET_MARKER }, dynamic_headers: { 'x-d': 'd-2' } },
        { name: 'a', transport: 'stdio', command: 'node', env: { TOKEN: SECRET_MARKER, MODE: 'y' } },
      ],
    };
    expect(restoreMcpSecrets(incoming, stored)).toEqual({
      servers: [
        { name: 'b', transport: 'http', url: 'https://h/', headers: { authorization: 'Bearer b-1' }, dynamic_headers: { 'x-d': 'd-2' } },
        { name: 'a', transport: 'stdio', command: 'node', env: { TOKEN: 't-1', MODE: 'y' } },
      ],
    });
    const unknown: McpSettings = { servers: [{ name: 'c', transport: 'stdio', command: 'node', env: { TOKEN: SECRET_MARKER } }] };
    for (const before of [stored, undefined]) {
      let caught: unknown;
      try {
        restoreMcpSecrets(unknown, before);
      } catch (err) {
        caught = err;
      }
      expect(isTowerError(caught) && caught.code === 'invalid_request' && caught.message.includes('env.TOKEN')).toBe(true);
    }
  });
});
