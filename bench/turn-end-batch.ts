/**
 * The main thread's cost of one turn-end group commit at the sessions bench's shape: N sessions'
 * `token_usage` entries, each with its step's assistant message (500 tokens, ~4.5 KB of text) and a
 * usage patch, committed in one batch through the SQLite store's writer thread. Per batch size (median
 * of rounds): the encoding (`encodeEntry`), the hand-over alone (`encodeBatch` + a structured clone),
 * and `store.commit`'s synchronous part (wall, and this thread's time on a CPU per the kernel).
 *
 *   npx tsx bench/turn-end-batch.ts [sizes=32,500] [rounds=15]
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { encodeEntry } from '../src/core/event-log/encode.js';
import { SqliteStore } from '../src/store/sqlite/index.js';
import { encodeBatch, transfers } from '../src/store/sqlite/writer-wire.js';
import { testSessionRecord } from '../src/store/testing/fixtures.js';
import type { CommitEntry } from '../src/store/types.js';
import { benchSessionId } from './lib/ids.js';

const SIZES = (process.argv[2] ?? '32,500').split(',').map(Number);
const ROUNDS = Number(process.argv[3] ?? 15);
const dir = mkdtempSync(path.join(os.tmpdir(), 'turn-end-batch-'));
// Every batch through the writer thread, as the turn-end batches go on the sessions bench's saturated loop.
const store = new SqliteStore(path.join(dir, 'tower.db'), { writerThread: { minBatch: 1, prestart: 'open' } });
const ids: string[] = [];
for (let i = 0; i < Math.max(...SIZES); i++) {
  const r = testSessionRecord(benchSessionId(i));
  ids.push(r.id);
  await store.createSession(r);
}
const text = (tag: string): string => Array.from({ length: 500 }, (_, n) => `${tag}.${n} `).join('');
function batch(round: number, n: number): CommitEntry[] {
  return ids.slice(0, n).map((id) => ({
    session_id: id,
    type: 'token_usage',
    data: { model: 'fake', input_tokens: 10, output_tokens: 500, cost: 0, total_input_tokens: 10, total_output_tokens: 500, total_cost: 0 },
    timestamp: new Date().toISOString(),
    message: { role: 'assistant', content: text(`${id}r${round}`) },
    session: { add_input_tokens: 10, add_output_tokens: 500, add_cost: 0 },
  }));
}
const med = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
/** This thread's time on a CPU (ns), from the kernel. */
const onCpu = (): number => Number(readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ')[0]);
// The first batch waits for the writer thread's start: not measured.
await store.commit(batch(-1, 1));
for (const n of SIZES) {
  const enc: number[] = [];
  const wire: number[] = [];
  const commit: number[] = [];
  const cpu: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const entries = batch(r, n);
    let t = performance.now();
    for (const e of entries) e.encoded = encodeEntry(e, 8 << 20);
    enc.push(performance.now() - t);
    t = performance.now();
    const b = encodeBatch(entries);
    structuredClone(b, { transfer: transfers(b) });
    wire.push(performance.now() - t);
    const c0 = onCpu();
    t = performance.now();
    const committed = store.commit(entries);
    commit.push(performance.now() - t);
    cpu.push((onCpu() - c0) / 1e6);
    await committed;
  }
  process.stdout.write(
    `turn-end batch of ${n}, median of ${ROUNDS}: encodeEntry ${med(enc).toFixed(2)} ms, encodeBatch + clone ${med(wire).toFixed(2)} ms, ` +
      `store.commit's sync part ${med(commit).toFixed(2)} ms (on CPU ${med(cpu).toFixed(2)} ms)\n`,
  );
}
await store.close();
rmSync(dir, { recursive: true, force: true });
