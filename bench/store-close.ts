/**
 * store-close: the longest event-loop block during `SqliteStore.close()` after a large WAL (20k events
 * of ~1 KB on the writer thread, the checkpointer's timer effectively off), and close's wall time. A
 * 1 ms interval measures the block. Not part of `npm run bench`.
 *
 *   npx tsx bench/store-close.ts [tree]     (tree: a checkout to import from, default this one)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

const tree = process.argv[2] ?? path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { SqliteStore } = (await import(path.join(tree, 'src/store/sqlite/store.ts'))) as typeof import('../src/store/sqlite/store.js');
const { testEntry, testSessionRecord } = (await import(path.join(tree, 'src/store/testing/fixtures.ts'))) as typeof import('../src/store/testing/fixtures.js');
const out: string[] = [];
for (let r = 0; r < 5; r++) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tower-store-close-'));
  const store = new SqliteStore(path.join(dir, 'tower.db'), { checkpointer: { intervalMs: 600_000 } });
  await store.createSession(testSessionRecord('s1'));
  const text = 'x'.repeat(1000);
  for (let b = 0; b < 40; b++) await store.commit(Array.from({ length: 500 }, (_, n) => testEntry('s1', b * 500 + n, { data: { content: text } })));
  let last = performance.now();
  let worst = 0;
  const tick = setInterval(() => {
    const now = performance.now();
    worst = Math.max(worst, now - last);
    last = now;
  }, 1);
  const t0 = performance.now();
  last = t0;
  await store.close();
  const wall = performance.now() - t0;
  worst = Math.max(worst, performance.now() - last);
  clearInterval(tick);
  out.push(`loop block ${worst.toFixed(1)} ms / close ${wall.toFixed(1)} ms`);
  rmSync(dir, { recursive: true, force: true });
}
console.log(`store-close (${tree}): ${out.join('; ')}; load ${os.loadavg()[0]?.toFixed(2)}`);
