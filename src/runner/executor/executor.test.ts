import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isTowerError } from '../../protocol/errors.js';
import { BUILTIN_TOOL_NAMES, createLocalExecutor, type BuiltinToolName } from './index.js';
import { callTool, makeWorkspace, type Workspace } from './test-support.js';

let ws: Workspace;
beforeEach(async () => {
  ws = await makeWorkspace();
});
afterEach(async () => {
  await ws.cleanup();
});

describe('createLocalExecutor', () => {
  it('offers every built-in tool with a description and a JSON Schema from its zod schema', () => {
    const specs = createLocalExecutor().specs();
    expect(specs.map((s) => s.name)).toEqual(['read', 'write', 'list', 'glob', 'grep', 'bash', 'webfetch']);
    for (const spec of specs) {
      expect(spec.description.length).toBeGreaterThan(80);
      expect(spec.parameters).toMatchObject({ type: 'object' });
      expect(spec.parameters).not.toHaveProperty('$schema');
    }
    const read = specs.find((s) => s.name === 'read');
    expect(read?.description).toMatch(/relative to the working directory/);
    expect(read?.parameters).toMatchObject({ required: ['path'], properties: { offset: { type: 'integer', minimum: 1 } } });
    const bash = specs.find((s) => s.name === 'bash');
    expect(bash?.parameters).toMatchObject({ required: ['command'], properties: { timeout: { maximum: 600 } } });
    // Defaulted fields are optional for the model.
    expect(specs.find((s) => s.name === 'list')?.parameters).not.toHaveProperty('required');
  });

  it('restricts the offered tools with opts.tools', async () => {
    const executor = createLocalExecutor({ tools: ['read', 'list'] });
    expect(executor.specs().map((s) => s.name)).toEqual(['read', 'list']);
    const res = await callTool(executor, ws.root, 'bash', { command: 'echo hi' });
    expect(res).toEqual({ is_error: true, output: 'unknown tool bash; available tools: read, list' });
  });

  it('throws at construction for an unknown tool name in opts.tools', () => {
    const bogus = ['read', 'nope'] as unknown as BuiltinToolName[];
    expect(() => createLocalExecutor({ tools: bogus })).toThrow(/unknown built-in tool "nope"/);
    try {
      createLocalExecutor({ tools: bogus });
    } catch (err) {
      expect(isTowerError(err) && err.code).toBe('invalid_request');
    }
  });

  it('answers an unknown tool name with an is_error result', async () => {
    const res = await callTool(createLocalExecutor(), ws.root, 'rm_rf', {});
    expect(res.is_error).toBe(true);
    expect(res.output).toMatch(/^unknown tool rm_rf; available tools: read, write, list, glob, grep, bash, webfetch$/);
  });

  it('turns bad arguments into an is_error result naming the problem', async () => {
    const executor = createLocalExecutor();
    expect(await callTool(executor, ws.root, 'write', { path: 3, content: 'x' })).toEqual({
      is_error: true,
      output: 'invalid arguments for write: path: Invalid input: expected string, received number',
    });
    expect((await callTool(executor, ws.root, 'read', 'not an object')).output).toMatch(/expected object/);
    expect((await callTool(executor, ws.root, 'grep', { pattern: 'x', ignore_case: 'yes' })).output).toMatch(/ignore_case:/);
  });

  it('reports a missing working directory as a result, not a throw', async () => {
    const res = await callTool(createLocalExecutor(), path.join(ws.root, 'gone'), 'list', {});
    expect(res).toEqual({ is_error: true, output: `working directory ${path.join(ws.root, 'gone')} does not exist` });
  });

  it('does not run any tool once the signal is aborted', async () => {
    const controller = new AbortController();
    controller.abort();
    const res = await callTool(createLocalExecutor(), ws.root, 'write', { path: 'x.txt', content: 'x' }, { signal: controller.signal });
    expect(res).toEqual({ is_error: true, output: 'write was canceled before it started' });
  });

  it('exports the names of all built-in tools', () => {
    expect(BUILTIN_TOOL_NAMES).toEqual(['read', 'write', 'list', 'glob', 'grep', 'bash', 'webfetch']);
  });
});
