import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLocalExecutor } from './executor.js';
import { callTool, makeWorkspace, type Workspace } from './test-support.js';
import { isSecretName, toolEnvironment } from './tool-env.js';

const serverEnv = {
  PATH: process.env.PATH ?? '/usr/bin:/bin',
  HOME: '/home/tower',
  LANG: 'C.UTF-8',
  OPENAI_API_KEY: 'sk-live-should-never-leak',
  TOWER_TOKEN: 'tower-token-should-never-leak',
  GITHUB_TOKEN: 'ghp_never',
  DB_PASSWORD: 'hunter2',
  MY_SECRET_THING: 'nope',
  RANDOM_SERVER_VAR: 'not allow-listed',
  PROJECT_MODE: 'dev',
};

describe('toolEnvironment', () => {
  it('keeps the base set and allow-listed names, drops everything else and every secret-looking name', () => {
    const env = toolEnvironment(serverEnv, ['PROJECT_MODE', 'OPENAI_API_KEY', 'TOWER_TOKEN'], { EXTRA: '1', API_TOKEN: 'x' });
    expect(env).toEqual({ PATH: serverEnv.PATH, HOME: '/home/tower', LANG: 'C.UTF-8', PROJECT_MODE: 'dev', EXTRA: '1' });
  });

  it('recognises secret names case-insensitively', () => {
    for (const name of ['TOWER_TOKEN', 'ANTHROPIC_API_KEY', 'aws_secret_access_key', 'Some_Password', 'X_TOKEN']) {
      expect(isSecretName(name)).toBe(true);
    }
    for (const name of ['PATH', 'KEYBOARD', 'TOKENIZER_PATH', 'HOME']) expect(isSecretName(name)).toBe(false);
  });
});

describe('bash environment', () => {
  let ws: Workspace;
  beforeEach(async () => {
    ws = await makeWorkspace();
  });
  afterEach(async () => {
    await ws.cleanup();
  });

  for (const sandbox of ['none', 'bwrap'] as const) {
    it(`\`env\` shows neither OPENAI_API_KEY nor TOWER_TOKEN from the server's environment (sandbox ${sandbox})`, async () => {
      const executor = createLocalExecutor({ sandbox, envSource: serverEnv, envAllow: ['PROJECT_MODE'] });
      const res = await callTool(executor, ws.root, 'bash', { command: 'env' });
      expect(res.is_error).toBe(false);
      expect(res.output).not.toMatch(/OPENAI_API_KEY|TOWER_TOKEN|sk-live|tower-token|GITHUB_TOKEN|DB_PASSWORD|MY_SECRET|RANDOM_SERVER_VAR/);
      expect(res.output).toContain('PROJECT_MODE=dev');
      expect(res.output).toContain('HOME=/home/tower');
      expect(res.output).toContain('TOWER=1');
    });
  }

  it('keeps one call\'s own variables out of the next call, and secret names out of both', async () => {
    const executor = createLocalExecutor({ sandbox: 'none', envSource: serverEnv, envAllow: ['PROJECT_MODE'] });
    const own = await callTool(executor, ws.root, 'bash', { command: 'env' }, { env: { SESSION_VAR: 'one', SESSION_TOKEN: 'tok-never', HOME: '/home/session' } });
    expect(own.output).toContain('SESSION_VAR=one');
    expect(own.output).toContain('HOME=/home/session');
    expect(own.output).not.toMatch(/SESSION_TOKEN|tok-never|sk-live|tower-token/);
    const next = await callTool(executor, ws.root, 'bash', { command: 'env' });
    expect(next.output).not.toMatch(/SESSION_VAR|SESSION_TOKEN|\/home\/session|sk-live|tower-token/);
    expect(next.output).toContain('HOME=/home/tower');
    expect(next.output).toContain('PROJECT_MODE=dev');
  });

  it('reads the environment once, when the executor is made: later changes to it reach no command', async () => {
    const source: NodeJS.ProcessEnv = { ...serverEnv };
    const executor = createLocalExecutor({ sandbox: 'none', envSource: source, envAllow: ['PROJECT_MODE', 'LATE_VAR'] });
    expect((await callTool(executor, ws.root, 'bash', { command: 'env' })).output).toContain('PROJECT_MODE=dev');
    source.PROJECT_MODE = 'changed';
    source.LATE_VAR = 'late';
    source.LATE_API_KEY = 'sk-late-never';
    const res = await callTool(executor, ws.root, 'bash', { command: 'env' });
    expect(res.output).toContain('PROJECT_MODE=dev');
    expect(res.output).not.toMatch(/LATE_VAR|LATE_API_KEY|sk-late|changed/);
  });
});
