import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { tempDir } from '../support/harness.js';
import { runToEnd, spawnCli } from '../support/process.js';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function scratch(): string {
  const dir = tempDir('serve-config');
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** `tower serve` with these args, expected to fail at start: its exit code and stderr. */
async function failedStart(args: string[], env: Record<string, string> = {}) {
  const proc = spawnCli(['serve', '--port', '0', ...args], env);
  cleanups.push(() => proc.kill('SIGKILL'));
  return runToEnd(proc);
}

/** `tower serve` expected to start: resolves with its banner once printed; stopped after the test. */
async function bannerOf(args: string[], env: Record<string, string> = {}): Promise<string> {
  const proc = spawnCli(['serve', '--port', '0', ...args], env);
  const exited = new Promise((r) => proc.once('exit', r));
  cleanups.push(async () => {
    proc.kill('SIGTERM');
    await exited;
  });
  let out = '';
  return new Promise<string>((resolve, reject) => {
    proc.stderr?.on('data', (d: Buffer) => {
      out += d.toString();
      if (/\n {2}try: .*\n/.test(out)) resolve(out);
    });
    void exited.then(() => reject(new Error(`tower exited:\n${out}`)));
  });
}

describe('tower serve fails loudly on bad configuration', () => {
  it('exits non-zero on --model with no configured provider, creating nothing', async () => {
    const dataDir = path.join(scratch(), 'data');
    const { code, stderr } = await failedStart(['--model', 'bogus/model', '--data-dir', dataDir]);
    expect(code).not.toBe(0);
    expect(stderr).toContain('Model "bogus/model" has no configured provider');
    expect(existsSync(dataDir)).toBe(false);
  });

  it('refuses a default_model in the config file that no provider serves', async () => {
    const dir = scratch();
    const config = path.join(dir, 'tower.config.json');
    writeFileSync(config, JSON.stringify({ default_model: 'bogus/model' }));
    const { code, stderr } = await failedStart(['--config', config, '--data-dir', path.join(dir, 'data')]);
    expect(code).not.toBe(0);
    expect(stderr).toContain(`default_model "bogus/model" in ${config} has no configured provider`);
    expect(existsSync(path.join(dir, 'data'))).toBe(false);
  });

  it('refuses junk MCP servers in the config file, naming the field', async () => {
    const dir = scratch();
    const config = path.join(dir, 'tower.config.json');
    writeFileSync(config, JSON.stringify({ mcp: { servers: [{ name: 'docs', transport: 'http', url: 'ftp://example.com/mcp' }] } }));
    const { code, stderr } = await failedStart(['--config', config, '--data-dir', path.join(dir, 'data')]);
    expect(code).not.toBe(0);
    expect(stderr).toContain('mcp.servers.0.url: the url must be http or https');
    expect(existsSync(path.join(dir, 'data'))).toBe(false);
  });

  it('fails on a port in use before creating its data dir or database', async () => {
    const busy: Server = createServer();
    await new Promise<void>((r) => busy.listen(0, '127.0.0.1', r));
    cleanups.push(() => new Promise((r) => busy.close(r)));
    const port = (busy.address() as { port: number }).port;
    const dataDir = path.join(scratch(), 'data');
    const proc = spawnCli(['serve', '--port', String(port), '--data-dir', dataDir]);
    const { code, stderr } = await runToEnd(proc);
    expect(code).not.toBe(0);
    expect(stderr).toContain(`Cannot listen on 127.0.0.1:${port}: the port is in use`);
    expect(existsSync(dataDir)).toBe(false);
  });
});

describe('the serve banner says what is true', () => {
  it('--demo with OpenAI configured: demo on because of the flag, openai listed', async () => {
    const out = await bannerOf(['--demo', '--data-dir', path.join(scratch(), 'data')], { OPENAI_API_KEY: 'sk-test-not-used' });
    expect(out).toMatch(/demo: +on \(--demo\)/);
    expect(out).toMatch(/providers: openai \(\+ demo\)/);
    expect(out).toMatch(/model: +demo\/scripted/);
    expect(out).not.toContain('no model provider configured');
  });

  it('no provider: demo on because nothing is configured', async () => {
    const out = await bannerOf(['--data-dir', path.join(scratch(), 'data')]);
    expect(out).toMatch(/demo: +on \(no model provider configured\)/);
    expect(out).toMatch(/providers: none \(\+ demo\)/);
  });
});
