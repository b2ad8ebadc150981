import { mkdir, open, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLocalExecutor } from './executor.js';
import { callTool, makeWorkspace, type Workspace } from './test-support.js';

/**
 * No built-in tool may hold the event loop: a hostile regex, a huge tree or a huge line must leave timers
 * running and honour abort. Assertions are structural (the call finished, a concurrent timer kept firing,
 * the worst loop stall stayed far below what blocking would cause), never tight timings.
 */
const executor = createLocalExecutor({ sandbox: 'none' });
let ws: Workspace;
beforeEach(async () => {
  ws = await makeWorkspace();
});
afterEach(async () => {
  await ws.cleanup();
});

async function whileWatching<T>(work: () => Promise<T>): Promise<{ result: T; ticks: number; maxStallMs: number }> {
  const histogram = monitorEventLoopDelay({ resolution: 10 });
  let ticks = 0;
  const timer = setInterval(() => (ticks += 1), 5);
  histogram.enable();
  try {
    const result = await work();
    return { result, ticks, maxStallMs: histogram.max / 1e6 };
  } finally {
    histogram.disable();
    clearInterval(timer);
  }
}

describe('grep with a catastrophic regular expression', () => {
  it('returns while timers keep firing (RE2 semantics: no exponential backtracking)', async () => {
    // `^(a+)+$` against "aaaa…!" takes exponential time in a backtracking engine (V8's RegExp froze the
    // server for 19.7 s on 29 characters). Enough lines that the search takes many event-loop turns.
    const hostile = `${'a'.repeat(40)}!\n`;
    await writeFile(path.join(ws.root, 'evil.txt'), hostile.repeat(150_000));
    const { result, ticks, maxStallMs } = await whileWatching(() =>
      callTool(executor, ws.root, 'grep', { pattern: '^(a+)+$', path: 'evil.txt' }),
    );
    expect(result.is_error).toBe(false);
    expect(result.output).toContain('no matches');
    expect(ticks).toBeGreaterThan(0);
    expect(maxStallMs).toBeLessThan(2000); // generous: a blocking search stalls for the whole call
  });

  it('refuses syntax RE2 does not support, with a clear message', async () => {
    await writeFile(path.join(ws.root, 'a.txt'), 'abc\n');
    const res = await callTool(executor, ws.root, 'grep', { pattern: '(a)\\1' });
    expect(res.is_error).toBe(true);
    expect(res.output).toMatch(/invalid regular expression/);
  });
});

describe('abort stops long walks', () => {
  beforeEach(async () => {
    for (let d = 0; d < 60; d++) {
      const dir = path.join(ws.root, `dir${d}`, 'deeper');
      await mkdir(dir, { recursive: true });
      await Promise.all(Array.from({ length: 50 }, (_, f) => writeFile(path.join(dir, `f${f}.txt`), 'needle\n')));
    }
  });

  for (const [name, args] of [
    ['grep', { pattern: 'needle' }],
    ['glob', { pattern: '**/*.txt' }],
  ] as const) {
    it(`${name} over 3000 files returns "canceled" when aborted mid-walk`, async () => {
      const abort = new AbortController();
      const pending = callTool(executor, ws.root, name, args, { signal: abort.signal });
      setImmediate(() => abort.abort()); // the walk needs many more event-loop turns than one
      const res = await pending;
      expect(res.is_error).toBe(true);
      expect(res.output).toBe(`${name} was canceled`);
    });
  }
});

describe('a huge single-line file', () => {
  it('is read with bounded memory: the line is cut while reading, never buffered whole', async () => {
    // Sparse: 200 MB of one line costs no disk. Text at the start so it is not taken for binary.
    const file = path.join(ws.root, 'huge.txt');
    const size = 200 * 1024 * 1024;
    const handle = await open(file, 'w');
    await handle.write('x'.repeat(10_000), 0);
    await handle.truncate(size);
    await handle.close();

    global.gc?.();
    const before = process.memoryUsage().rss;
    let peak = before;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 5);
    const res = await callTool(executor, ws.root, 'read', { path: 'huge.txt' });
    clearInterval(sampler);
    peak = Math.max(peak, process.memoryUsage().rss);

    expect(res.is_error).toBe(false);
    expect(res.output).toContain(`[line cut: ${size} chars]`);
    // Buffering the line would add at least its 200 MB; reading in capped chunks adds a few MB.
    expect(peak - before).toBeLessThan(64 * 1024 * 1024);
  });
});
