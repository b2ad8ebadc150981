/**
 * writer-handover: the main thread's cost of handing one group commit to the SQLite writer thread and
 * taking its reply, in isolation (no SQLite). A worker that answers at once stands for the writer; per
 * round the main thread builds nothing it measures: it encodes a 2,000-entry batch of token-sized
 * events (500 sessions, as the sessions bench's batches), posts it, and receives where each entry
 * landed. The main thread's busy time over the round (event-loop utilisation: encode, structured
 * clone, the reply's deserialisation) is per entry; the worker's busy time (deserialising, decoding)
 * is reported beside it. Variants alternate round by round in this one process:
 *   objects  — the protocol before: one slim object per entry, seqs and message indexes as number[]
 *   arrays   — one array of strings per field (ids, types, timestamps, JSON), typed arrays back
 *   columns  — `writer-wire.ts` (kept): one string plus a transferred offsets table, typed arrays back
 *
 *   npx tsx bench/writer-handover.ts            (BENCH_QUICK=1 or --quick for fewer rounds)
 */
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import type { WriterEntry } from '../src/store/sqlite/commit.js';
import { encodeBatch, transfers } from '../src/store/sqlite/writer-wire.js';
import type { CommitEntry } from '../src/store/types.js';
import { pick } from './lib/cli.js';
import { median } from './lib/hist.js';
import { benchSessionId } from './lib/ids.js';

const SESSIONS = 500;
const BATCH = Number(process.env.BENCH_BATCH ?? 2000);
const ROUNDS = pick(200, 600);

// The writer's stand-in: decodes as the real thread does (objects need nothing; columns are sliced
// back into entries) and answers with seqs and message indexes in the variant's form.
const WORKER = `
const { parentPort } = require('node:worker_threads');
const { performance } = require('node:perf_hooks');
let elu = performance.eventLoopUtilization();
parentPort.on('message', (msg) => {
  if (msg.kind === 'elu') {
    const d = performance.eventLoopUtilization(elu);
    elu = performance.eventLoopUtilization();
    parentPort.postMessage({ kind: 'elu', active: d.active });
    return;
  }
  let n;
  if (msg.kind === 'objects') {
    n = msg.entries.length;
    let sink = 0;
    for (const e of msg.entries) sink += e.encoded.data.length;
    const seqs = new Array(n), messages = new Array(n);
    for (let i = 0; i < n; i++) { seqs[i] = i + 1; messages[i] = -1; }
    parentPort.postMessage({ kind: 'committed', id: msg.id, placed: { seqs, messages }, sink });
  } else if (msg.kind === 'arrays') {
    const { ids, types, timestamps, data } = msg;
    n = ids.length;
    const entries = new Array(n);
    for (let i = 0; i < n; i++) entries[i] = { session_id: ids[i], type: types[i], timestamp: timestamps[i], encoded: { data: data[i] } };
    const seqs = new Float64Array(n), messages = new Int32Array(n);
    for (let i = 0; i < n; i++) { seqs[i] = i + 1; messages[i] = -1; }
    parentPort.postMessage({ kind: 'committed', id: msg.id, seqs, messages }, [seqs.buffer, messages.buffer]);
  } else {
    const { text, ends } = msg.batch;
    n = ends.length / 4;
    const entries = new Array(n);
    let start = 0;
    for (let i = 0, k = 0; i < n; i++) {
      const a = ends[k++], b = ends[k++], c = ends[k++], d = ends[k++];
      entries[i] = { session_id: text.slice(start, a), type: text.slice(a, b), timestamp: text.slice(b, c), encoded: { data: text.slice(c, d) } };
      start = d;
    }
    const seqs = new Float64Array(n), messages = new Int32Array(n);
    for (let i = 0; i < n; i++) { seqs[i] = i + 1; messages[i] = -1; }
    parentPort.postMessage({ kind: 'committed', id: msg.id, seqs, messages }, [seqs.buffer, messages.buffer]);
  }
});
`;

/** The protocol before this change: `writer-thread.ts`'s `slim`, as it was. */
function slim(e: CommitEntry): WriterEntry {
  const encoded = e.encoded ?? { data: JSON.stringify(e.data) };
  const w: WriterEntry = { session_id: e.session_id, type: e.type, timestamp: e.timestamp, encoded };
  if (e.message) w.message = { role: e.message.role };
  if (e.session) w.session = e.session;
  if (e.state) w.state = e.state;
  return w;
}

function batch(round: number): CommitEntry[] {
  const entries: CommitEntry[] = [];
  for (let i = 0; i < BATCH; i++) {
    const s = (round * BATCH + i) % SESSIONS;
    const data = { content: `tok${i % 7} `, type: 'text' };
    entries.push({
      session_id: benchSessionId(s),
      type: 'agent_choice',
      data,
      timestamp: new Date(1_800_000_000_000 + round * 10 + (i >> 8)).toISOString(),
      encoded: { data: JSON.stringify(data) },
    });
  }
  return entries;
}

type Kind = 'objects' | 'arrays' | 'columns';
const KINDS: Kind[] = ['objects', 'arrays', 'columns'];

async function main(): Promise<void> {
  const worker = new Worker(WORKER, { eval: true });
  let waiting: ((msg: { kind: string; active?: number; seqs?: ArrayLike<number>; placed?: { seqs: number[] } }) => void) | undefined;
  worker.on('message', (msg) => waiting?.(msg));
  const reply = () => new Promise<Parameters<NonNullable<typeof waiting>>[0]>((resolve) => (waiting = resolve));
  const workerBusy = async (): Promise<number> => {
    const p = reply();
    worker.postMessage({ kind: 'elu' });
    return (await p).active ?? 0;
  };
  const main: Record<Kind, number[]> = { objects: [], arrays: [], columns: [] };
  const send: Record<Kind, number[]> = { objects: [], arrays: [], columns: [] };
  const thread: Record<Kind, number[]> = { objects: [], arrays: [], columns: [] };
  let sink = 0;
  for (let round = 0; round < ROUNDS; round++) {
    for (const kind of round % 2 ? KINDS : [...KINDS].reverse()) {
      const entries = batch(round);
      await workerBusy();
      const p = reply();
      const elu0 = performance.eventLoopUtilization();
      const t0 = performance.now();
      if (kind === 'objects') {
        worker.postMessage({ kind, id: round, entries: entries.map(slim) });
      } else if (kind === 'arrays') {
        const n = entries.length;
        const ids = new Array<string>(n), types = new Array<string>(n), timestamps = new Array<string>(n), data = new Array<string>(n);
        for (let i = 0; i < n; i++) {
          const e = entries[i] as CommitEntry;
          ids[i] = e.session_id;
          types[i] = e.type;
          timestamps[i] = e.timestamp;
          data[i] = e.encoded?.data ?? JSON.stringify(e.data);
        }
        worker.postMessage({ kind, id: round, ids, types, timestamps, data });
      } else {
        const wire = encodeBatch(entries);
        worker.postMessage({ kind, id: round, batch: wire }, transfers(wire));
      }
      const t1 = performance.now();
      const msg = await p;
      // Read the reply as resultsOf does, so lazily materialised values are paid for here.
      const seqs = kind === 'objects' ? (msg.placed?.seqs ?? []) : (msg.seqs ?? []);
      for (let i = 0; i < seqs.length; i++) sink += seqs[i] as number;
      const d = performance.eventLoopUtilization(elu0);
      if (round >= 10) {
        // ELU counts the loop's busy time since elu0: the send, and the reply's deserialisation and handler.
        main[kind].push((d.active * 1000) / BATCH);
        send[kind].push(((t1 - t0) * 1000) / BATCH);
        thread[kind].push(((await workerBusy()) * 1000) / BATCH);
      }
    }
  }
  await worker.terminate();
  const f = (xs: number[]): string => median(xs).toFixed(3);
  console.log(`writer-handover: ${BATCH}-entry batches, ${ROUNDS - 10} rounds per variant (median us per entry), sink ${sink > 0}`);
  console.log('variant   main busy   of it: encode+post   worker busy');
  for (const kind of KINDS) {
    console.log(`${kind.padEnd(9)} ${f(main[kind]).padStart(9)}   ${f(send[kind]).padStart(18)}   ${f(thread[kind]).padStart(11)}`);
  }
  console.log(`ratio columns/objects, main busy: ${(median(main.columns) / median(main.objects)).toFixed(3)}`);
}

await main();
