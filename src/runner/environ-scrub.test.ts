import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { probeBwrap } from './bwrap.js';
import { environBounds } from './environ-scrub.js';

const here = (file: string): string => fileURLToPath(new URL(file, import.meta.url));

/**
 * A server stand-in: a fresh node process started with secrets in its environment, which (when `scrub`)
 * clears its initial environment block, then runs a sandbox-`none` bash tool that hunts for the secret in
 * every `/proc/<pid>/environ` it may read, its parent's first. It prints one JSON line.
 */
function runServerStandIn(secret: string, scrub: boolean, sandbox: 'none' | 'bwrap'): Promise<{ output: string; env: Record<string, string | undefined> }> {
  const script = `
    import { scrubInitialEnvironment } from ${JSON.stringify(here('./environ-scrub.ts'))};
    import { runCommand } from ${JSON.stringify(here('./executor/run-command.ts'))};
    import { MemoryProcessRegistry } from ${JSON.stringify(here('./process-registry.ts'))};
    if (${scrub}) scrubInitialEnvironment();
    const out = await runCommand({
      command: 'N="$NP"sekrit; tr "\\\\0" "\\\\n" < /proc/$PPID/environ | grep -c "$N"; echo "server=$PPID"; grep -l -a "$N" /proc/[0-9]*/environ 2>/dev/null; true',
      cwd: ${JSON.stringify(tmpdir())}, timeoutMs: 20000, signal: new AbortController().signal,
      env: { PATH: process.env.PATH, NP: process.env.NEEDLE_PREFIX },
      sandbox: ${sandbox === 'bwrap' ? '{ network: false }' : 'null'}, registry: new MemoryProcessRegistry(),
    });
    console.log(JSON.stringify({ output: out.output, env: { TOWER_TOKEN: process.env.TOWER_TOKEN, OPENAI_API_KEY: process.env.OPENAI_API_KEY, PATH: process.env.PATH } }));
  `;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      // The needle is split so that only the stand-in's own environment holds it whole.
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: tmpdir(), TOWER_TOKEN: secret, OPENAI_API_KEY: `${secret}-key`, NEEDLE_PREFIX: secret.replace(/sekrit$/, '') },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.once('error', reject);
    child.once('close', (code) => {
      if (code !== 0) reject(new Error(`stand-in exited ${code}: ${stderr}`));
      else resolve(JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as { output: string; env: Record<string, string | undefined> });
    });
  });
}

describe.runIf(process.platform === 'linux')('scrubInitialEnvironment', () => {
  it('reads the environment bounds after a comm with spaces and parentheses', () => {
    const tail = Array.from({ length: 50 }, (_, i) => String(i + 3));
    expect(environBounds(`42 (a b) c)) ${tail.join(' ')}\n`)).toEqual([50, 51]);
    expect(environBounds('42 (x) S 1 2')).toBeNull();
  });

  it("a sandbox-none command cannot find the secret in its parent's or the server's /proc/<pid>/environ", async () => {
    const secret = `w6-${randomUUID()}-sekrit`;
    const res = await runServerStandIn(secret, true, 'none');
    const [count, server, ...hits] = res.output.trim().split('\n');
    expect(count).toBe('0');
    // Children the stand-in started with its environment (tsx's esbuild service) still carry it; the
    // server's own block does not.
    expect(hits).not.toContain(`/proc/${server?.replace('server=', '')}/environ`);
    // The server itself still sees its whole environment.
    expect(res.env).toMatchObject({ TOWER_TOKEN: secret, OPENAI_API_KEY: `${secret}-key` });
  }, 30_000);

  it('without the scrub the same command finds it (the test can fail)', async () => {
    const secret = `w6-${randomUUID()}-sekrit`;
    const res = await runServerStandIn(secret, false, 'none');
    const [count, server, ...hits] = res.output.trim().split('\n');
    expect(count).toBe('2'); // TOWER_TOKEN and OPENAI_API_KEY
    expect(hits).toContain(`/proc/${server?.replace('server=', '')}/environ`);
  }, 30_000);

  it('a bwrap command sees no other process of the host, scrubbed or not', async (ctx) => {
    if (!(await probeBwrap()).ok) ctx.skip();
    const secret = `w6-${randomUUID()}-sekrit`;
    const res = await runServerStandIn(secret, false, 'bwrap');
    // Its parent is the sandbox's own init, and no /proc/<pid>/environ it can see holds the secret.
    expect(res.output.trim().split('\n')).toEqual(['0', 'server=1']);
  }, 30_000);
});
