import { describe, expect, it } from 'vitest';
import { MAX_MCP_ERROR_CHARS, mcpErrorText, scrubMcpSecrets } from './mcp-scrub.js';

describe('MCP text scrubbing', () => {
  it('replaces long secrets anywhere and short ones only where they stand alone', () => {
    const server = { env: { TOKEN: 'abcd1234', FLAG: 'on' } };
    expect(scrubMcpSecrets('x=abcd1234; tokenabcd1234end; flag on; online', server)).toBe('x=***; token***end; flag ***; online');
  });

  it('replaces the longer of two overlapping secrets whole', () => {
    expect(scrubMcpSecrets('k=secret-value-long', { headers: { a: 'secret', b: 'secret-value-long' } })).toBe('k=***');
  });

  it('leaves text without secrets, and a server without secrets, untouched', () => {
    expect(scrubMcpSecrets('plain text', { env: { A: 'zzzz' } })).toBe('plain text');
    expect(mcpErrorText({}, new Error('connect ECONNREFUSED 127.0.0.1:1'))).toBe('connect ECONNREFUSED 127.0.0.1:1');
  });

  it('bounds an error message after scrubbing, saying how much was cut', () => {
    const text = mcpErrorText({ env: { K: 'kkkk-secret' } }, `${'a'.repeat(MAX_MCP_ERROR_CHARS - 2)}kkkk-secret${'b'.repeat(5000)}`);
    expect(text.startsWith(`${'a'.repeat(MAX_MCP_ERROR_CHARS - 2)}**`)).toBe(true);
    expect(text).not.toContain('kkkk');
    expect(text).toMatch(/… \(\d+ more characters cut\)$/);
  });
});
