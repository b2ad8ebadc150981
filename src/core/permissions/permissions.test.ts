import { describe, expect, it } from 'vitest';
import { isTowerError, TowerError } from '../../protocol/errors.js';
import { evaluate } from './evaluate.js';
import { toolRule, validatePermissions, withAllowedTool } from './permissions.js';
import { perms } from './test-helpers.js';

describe('validatePermissions', () => {
  it('accepts good rules and partial objects', () => {
    expect(() => validatePermissions(perms({ allow: ['read', 'bash:cmd=git *'], deny: ['write:path=.env'] }))).not.toThrow();
    expect(() => validatePermissions({ ask: ['mcp_*'] })).not.toThrow();
    expect(() => validatePermissions({})).not.toThrow();
  });

  it('refuses with invalid_request naming every bad rule and where it is', () => {
    let error: unknown;
    try {
      validatePermissions({ allow: ['read', 'bash:'], deny: [''], ask: ['write:path=src/[x'] });
    } catch (err) {
      error = err;
    }
    expect(isTowerError(error)).toBe(true);
    const towerError = error as TowerError;
    expect(towerError.code).toBe('invalid_request');
    expect(towerError.message).toContain('deny[0]');
    expect(towerError.message).toContain('allow[1]');
    expect(towerError.message).toContain('"bash:"');
    expect(towerError.message).toContain('ask[0]');
    expect(towerError.details).toMatchObject({
      problems: [
        { list: 'deny', index: 0, rule: '' },
        { list: 'allow', index: 1, rule: 'bash:' },
        { list: 'ask', index: 0, rule: 'write:path=src/[x' },
      ],
    });
  });
});

describe('withAllowedTool', () => {
  it('adds an allow rule for the tool and leaves the input untouched', () => {
    const before = perms({ policy: 'strict', allow: ['read'] });
    const after = withAllowedTool(before, 'write');
    expect(after).toEqual({ ...before, allow: ['read', 'write'] });
    expect(before.allow).toEqual(['read']);
    expect(evaluate(after, { name: 'write', args: { path: 'x' } })).toMatchObject({ action: 'allow', rule: 'write' });
  });

  it('is idempotent', () => {
    const once = withAllowedTool(perms(), 'bash');
    const twice = withAllowedTool(once, 'bash');
    expect(twice.allow).toEqual(['bash']);
    expect(twice).toEqual(once);
    expect(twice).not.toBe(once);
  });

  it('does not override a deny rule', () => {
    const p = withAllowedTool(perms({ deny: ['bash:cmd=rm *'] }), 'bash');
    expect(evaluate(p, { name: 'bash', args: { command: 'rm -rf /' } }).action).toBe('deny');
    expect(evaluate(p, { name: 'bash', args: { command: 'ls' } }).action).toBe('allow');
  });

  it.each(['mcp_*', 'a:b', 'x?', 'a[1]', '{a,b}', '!x', 'a(b)', 'a+b', 'a@b', 'a|b', 'a\\b', 'a.b', 'a/b'])(
    'escapes glob syntax so the rule names only %j',
    (tool) => {
      const p = withAllowedTool(perms({ policy: 'strict' }), tool);
      expect(p.allow).toEqual([toolRule(tool)]);
      expect(() => validatePermissions(p)).not.toThrow();
      expect(evaluate(p, { name: tool, args: {} }).action).toBe('allow');
      expect(evaluate(p, { name: `${tool}z`, args: {} }).action).toBe('ask');
      expect(evaluate(p, { name: 'mcp_other', args: {} }).action).toBe('ask');
    },
  );

  it('refuses an empty tool name', () => {
    expect(() => withAllowedTool(perms(), ' ')).toThrow(TowerError);
  });
});
