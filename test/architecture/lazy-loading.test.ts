import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const HOOKS = pathToFileURL(path.join(ROOT, 'test/architecture/record-loads.mjs')).href;
const dir = mkdtempSync(path.join(tmpdir(), 'tower-loads-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** What the client side must never pull in: the server, its storage, the AI SDK and its providers. */
const HEAVY = [
  /\/node_modules\/better-sqlite3\//,
  /\/node_modules\/ai\//,
  /\/node_modules\/@ai-sdk\//,
  /\/node_modules\/hono\//,
  /\/node_modules\/pino\//,
  /\/src\/(server|core|store|bus|transports|runner|fake-models)\//,
];

let runs = 0;

/**
 * Runs `code` (an ES module body) in a fresh Node with tsx, recording every module it resolves, and
 * returns the resolved URLs.
 */
async function loadedBy(code: string): Promise<string[]> {
  const out = path.join(dir, `loads-${runs++}.txt`);
  const register = `import { register } from 'node:module'; register(${JSON.stringify(HOOKS)}, { data: { out: ${JSON.stringify(out)} } });`;
  await promisify(execFile)(
    process.execPath,
    ['--import', 'tsx', '--import', `data:text/javascript,${encodeURIComponent(register)}`, '--input-type=module', '-e', code],
    { cwd: ROOT, env: { ...process.env, NO_COLOR: '1' } },
  );
  return readFileSync(out, 'utf8').split('\n').filter(Boolean);
}

const heavyIn = (urls: string[]): string[] => urls.filter((url) => HEAVY.some((pattern) => pattern.test(url)));
const src = (file: string): string => JSON.stringify(pathToFileURL(path.join(ROOT, 'src', file)).href);

describe('what a client-side import loads', () => {
  it('the recorder sees a heavy module when one is loaded (the check can fail)', async () => {
    const urls = await loadedBy(`await import(${src('store/sqlite/store.ts')});`);
    expect(heavyIn(urls).some((url) => url.includes('/node_modules/better-sqlite3/'))).toBe(true);
  });

  it('tower/client (the SDK) loads neither SQLite, the AI SDK nor the server', async () => {
    const urls = await loadedBy(`await import(${src('client/index.ts')});`);
    expect(urls.some((url) => url.includes('/src/client/client.ts'))).toBe(true);
    expect(heavyIn(urls)).toEqual([]);
  });

  it('tower/protocol loads nothing but zod', async () => {
    const urls = await loadedBy(`await import(${src('protocol/index.ts')});`);
    expect(heavyIn(urls)).toEqual([]);
    expect(urls.filter((url) => url.includes('/node_modules/') && !url.includes('/node_modules/zod/'))).toEqual([]);
  });

  it('the CLI prints --help with commander alone: no client, no zod', async () => {
    const urls = await loadedBy(`
      const { run } = await import(${src('cli/program.ts')});
      const io = { stdout: { write() {} }, stderr: { write() {} }, env: {}, cwd: process.cwd(),
        readStdin: async () => '', onInterrupt: () => () => {} };
      process.exitCode = await run(['--help'], io);
    `);
    expect(urls.some((url) => url.includes('/src/cli/commands/send.ts'))).toBe(true);
    expect(urls.filter((url) => /\/src\/(client|protocol)\/|\/node_modules\/zod\//.test(url))).toEqual([]);
  });

  it('the CLI prints --help and sends a message without loading the server', async () => {
    const urls = await loadedBy(`
      const { run } = await import(${src('cli/program.ts')});
      const io = { stdout: { write() {} }, stderr: { write() {} }, env: {}, cwd: process.cwd(),
        readStdin: async () => '', onInterrupt: () => () => {} };
      await run(['--help'], io);
      // Port 9 (discard) on loopback: refused at once, after the whole send path has been loaded.
      await run(['--url', 'http://127.0.0.1:9', 'send', 'new', 'hello'], io);
    `);
    expect(urls.some((url) => url.includes('/src/cli/commands/send.ts'))).toBe(true);
    expect(urls.some((url) => url.includes('/src/client/http.ts'))).toBe(true);
    expect(heavyIn(urls)).toEqual([]);
  });
});
