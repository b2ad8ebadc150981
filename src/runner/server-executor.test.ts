import { describe, expect, it } from 'vitest';
import { ExecutorConfig } from './server-executor.js';

describe('ExecutorConfig', () => {
  it('accepts the three keys and nothing malformed', () => {
    expect(ExecutorConfig.parse({ sandbox: 'bwrap', network: true, tool_env: ['GOPATH', 'CARGO_HOME'] })).toEqual({
      sandbox: 'bwrap',
      network: true,
      tool_env: ['GOPATH', 'CARGO_HOME'],
    });
    expect(ExecutorConfig.parse({})).toEqual({});
    for (const junk of [
      { sandbox: 'docker' },
      { sandbox: 1 },
      { network: 'yes' },
      { tool_env: 'PATH' },
      { tool_env: ['A=B'] },
      { tool_env: ['1BAD'] },
      { tool_env: [''] },
      { tool_env: [{}] },
    ]) {
      expect(ExecutorConfig.safeParse(junk).success, JSON.stringify(junk)).toBe(false);
    }
  });
});
