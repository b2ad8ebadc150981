import { describe, expect, it } from 'vitest';
import type { SafetyPolicy } from '../../protocol/session.js';
import { evaluate, type PermissionAction } from './evaluate.js';
import { perms } from './test-helpers.js';

const bash = (command: string) => ({ name: 'bash', args: { command } });

describe('evaluate: the safety policy for tools no rule names', () => {
  const tools: Array<[tool: string, args: unknown]> = [
    ['read', { path: 'a.ts' }],
    ['list', { path: '.' }],
    ['glob', { pattern: '**/*.ts' }],
    ['grep', { pattern: 'x' }],
    ['ask_user', { message: 'ok?' }],
    ['write', { path: 'a.ts', content: '' }],
    ['bash', { command: 'ls' }],
    ['mcp_unknown', {}],
  ];
  const expected: Record<SafetyPolicy, PermissionAction[]> = {
    autonomous: ['allow', 'allow', 'allow', 'allow', 'allow', 'allow', 'allow', 'allow'],
    balanced: ['allow', 'allow', 'allow', 'allow', 'allow', 'allow', 'ask', 'ask'],
    strict: ['allow', 'allow', 'allow', 'allow', 'allow', 'ask', 'ask', 'ask'],
  };
  const rows = (Object.keys(expected) as SafetyPolicy[]).flatMap((policy) =>
    tools.map(([tool, args], i) => [policy, tool, args, expected[policy][i]!] as const),
  );
  it.each(rows)('%s × %s → %s', (policy, tool, args, action) => {
    const verdict = evaluate(perms({ policy }), { name: tool, args });
    expect(verdict.action).toBe(action);
    expect(verdict.rule).toBeUndefined();
    expect(verdict.reason).toContain(JSON.stringify(tool));
  });

  it('treats tool names that are Object.prototype keys as unknown tools', () => {
    expect(evaluate(perms(), { name: 'constructor', args: {} }).action).toBe('ask');
    expect(evaluate(perms(), { name: 'toString', args: {} }).action).toBe('ask');
  });

  it('lets agents read messages freely, asks for posts only under strict, and always asks for a handoff by default', () => {
    const act = (policy: 'strict' | 'balanced', name: string) => evaluate(perms({ policy }), { name, args: {} }).action;
    expect(['thread_read', 'inbox_list'].map((n) => act('strict', n))).toEqual(['allow', 'allow']);
    expect(['thread_post', 'inbox_reply'].map((n) => act('balanced', n))).toEqual(['allow', 'allow']);
    expect(['thread_post', 'inbox_reply'].map((n) => act('strict', n))).toEqual(['ask', 'ask']);
    expect(act('balanced', 'handoff')).toBe('ask');
  });

  it('asks before webfetch unless the policy is autonomous or an allow rule covers the URL', () => {
    const call = { name: 'webfetch', args: { url: 'https://docs.example.com/a' } };
    expect((['autonomous', 'balanced', 'strict'] as const).map((policy) => evaluate(perms({ policy }), call).action)).toEqual(['allow', 'ask', 'ask']);
    expect(evaluate(perms({ policy: 'balanced' }), call).reason).toContain('tools that reach the network');
    expect(evaluate(perms({ policy: 'strict', allow: ['webfetch:url=https://docs.example.com/*'] }), call).action).toBe('allow');
    expect(evaluate(perms({ policy: 'balanced', allow: ['webfetch:url=https://docs.example.com/*'] }), { ...call, args: { url: 'https://evil.example/x' } }).action).toBe('ask');
  });

  it('accepts an extended category table', () => {
    const categories = { mcp_fetch: 'read_only' as const, mcp_deploy: 'execute' as const };
    expect(evaluate(perms({ policy: 'strict' }), { name: 'mcp_fetch', args: {} }, { categories }).action).toBe('allow');
    expect(evaluate(perms({ policy: 'balanced' }), { name: 'mcp_deploy', args: {} }, { categories }).action).toBe('ask');
    expect(evaluate(perms({ policy: 'strict' }), { name: 'mcp_fetch', args: {} }).action).toBe('ask');
  });
});

describe('evaluate: precedence deny > allow > ask', () => {
  type Rules = { allow?: string[]; ask?: string[]; deny?: string[] };
  const cases: Array<[name: string, rules: Rules, action: PermissionAction, rule: string]> = [
    ['deny beats allow', { allow: ['bash'], deny: ['bash'] }, 'deny', 'bash'],
    ['deny beats ask', { ask: ['bash'], deny: ['bash'] }, 'deny', 'bash'],
    ['allow beats ask', { allow: ['bash'], ask: ['bash'] }, 'allow', 'bash'],
    ['ask alone', { ask: ['bash'] }, 'ask', 'bash'],
    ['allow alone', { allow: ['bash'] }, 'allow', 'bash'],
    ['a specific deny beats a broad allow', { allow: ['*'], deny: ['bash:cmd=rm *'] }, 'deny', 'bash:cmd=rm *'],
    ['a specific allow beats a broad ask', { allow: ['bash:cmd=rm *'], ask: ['*'] }, 'allow', 'bash:cmd=rm *'],
    ['a non-matching deny falls through', { allow: ['bash'], deny: ['bash:cmd=git *'] }, 'allow', 'bash'],
    ['a non-matching allow falls to ask', { allow: ['bash:cmd=ls *'], ask: ['bash'] }, 'ask', 'bash'],
    ['glob rules on tool names', { deny: ['ba*'] }, 'deny', 'ba*'],
  ];
  it.each(cases)('%s', (_name, rules, action, rule) => {
    const verdict = evaluate(perms({ policy: 'autonomous', ...rules }), bash('rm -rf build'));
    expect(verdict).toMatchObject({ action, rule });
    expect(verdict.reason).toContain(rule);
  });

  it('an ask rule asks even under the autonomous policy', () => {
    expect(evaluate(perms({ policy: 'autonomous', ask: ['write'] }), { name: 'write', args: { path: 'a' } }).action).toBe('ask');
  });

  it('an allow rule allows even under the strict policy', () => {
    const p = perms({ policy: 'strict', allow: ['write:path=src/**'] });
    const write = (path: string) => ({ name: 'write', args: { path } });
    expect(evaluate(p, write('src/a.ts'))).toMatchObject({ action: 'allow', rule: 'write:path=src/**' });
    expect(evaluate(p, write('lib/a.ts')).action).toBe('ask');
  });
});

describe('evaluate: auto_approve', () => {
  it('allows what no deny rule stops, ask rules and unknown tools included', () => {
    const p = perms({ policy: 'strict', auto_approve: true, ask: ['bash'] });
    expect(evaluate(p, bash('make')).action).toBe('allow');
    expect(evaluate(p, { name: 'mcp_x', args: {} }).action).toBe('allow');
    expect(evaluate(p, bash('make')).reason).toContain('auto-approve');
  });

  it('never overrides a deny rule', () => {
    const p = perms({ policy: 'autonomous', auto_approve: true, allow: ['*'], deny: ['bash:cmd=rm *'] });
    expect(evaluate(p, bash('rm -rf /'))).toMatchObject({ action: 'deny', rule: 'bash:cmd=rm *' });
    expect(evaluate(p, bash('git status && rm -rf /')).action).toBe('deny');
  });
});

describe('evaluate: ask_user', () => {
  it('is allowed under every policy and despite ask rules', () => {
    for (const policy of ['strict', 'balanced', 'autonomous'] as const) {
      expect(evaluate(perms({ policy, ask: ['*'] }), { name: 'ask_user', args: { message: 'hi' } }).action).toBe('allow');
    }
  });

  it('is denied by a deny rule', () => {
    expect(evaluate(perms({ deny: ['ask_*'] }), { name: 'ask_user', args: {} })).toMatchObject({ action: 'deny', rule: 'ask_*' });
  });
});

describe('evaluate: argument conditions', () => {
  const cases: Array<[rule: string, call: { name: string; args: unknown }, allowed: boolean]> = [
    ['bash:cmd=git *', bash('git status'), true],
    ['bash:command=git *', bash('git status'), true],
    ['bash:cmd=git *', bash('gitk'), false],
    ['bash:cmd=git *', { name: 'bash', args: {} }, false],
    ['bash:cmd=git *', { name: 'bash', args: { command: 42 } }, false],
    ['bash:cmd=git *', { name: 'bash', args: null }, false],
    ['bash:cmd=git *', { name: 'bash', args: 'git status' }, false],
    ['bash:cmd=git *', { name: 'bash', args: ['git status'] }, false],
    ['bash:cmd=*', bash(''), true],
    ['write:path=src/*', { name: 'write', args: { path: 'src/a.ts' } }, true],
    ['write:path=src/*', { name: 'write', args: { path: 'src/a/b.ts' } }, false],
    ['write:path=src/**', { name: 'write', args: { path: './src/a/b.ts' } }, true],
    ['write:path=src/**', { name: 'write', args: { path: 'src/../secrets' } }, false],
    ['write:path=src/**', { name: 'write', args: {} }, false],
    ['mcp_read:file=*.md', { name: 'mcp_read', args: { file: 'README.md' } }, true],
    ['mcp_read:file=*.md', { name: 'mcp_read', args: { file: 'docs/README.md' } }, false],
    ['search:pattern=TODO*,path=src/**', { name: 'search', args: { pattern: 'TODO: x', path: 'src/a' } }, true],
    ['search:pattern=TODO*,path=src/**', { name: 'search', args: { pattern: 'TODO: x', path: 'lib/a' } }, false],
    ['search:pattern=TODO*,path=src/**', { name: 'search', args: { pattern: 'TODO: x' } }, false],
    ['mcp_*:url=https://*', { name: 'mcp_fetch', args: { url: 'https://a/b' } }, true],
    ['mcp_*:url=https://*', { name: 'mcp_fetch', args: { url: 'http://a/b' } }, false],
  ];
  // Strict, and tools it asks for, so an "allow" can only come from the rule.
  it.each(cases)('allow %j for %j → %s', (rule, call, allowed) => {
    const verdict = evaluate(perms({ policy: 'strict', allow: [rule] }), call);
    expect(verdict.action).toBe(allowed ? 'allow' : 'ask');
  });

  it('compares absolute paths relative to the working directory when it is given', () => {
    const p = perms({ policy: 'strict', deny: ['write:path=secrets/**'] });
    const call = { name: 'write', args: { path: '/work/repo/secrets/key' } };
    expect(evaluate(p, call, { workingDir: '/work/repo' }).action).toBe('deny');
    expect(evaluate(p, call).action).toBe('ask');
  });

  it('skips rules that do not parse instead of throwing', () => {
    expect(evaluate(perms({ allow: ['bash:', 'bash:cmd=ls *'] }), bash('ls -la')).action).toBe('allow');
    expect(evaluate(perms({ deny: ['read['] }), { name: 'read', args: {} }).action).toBe('allow');
  });
});
