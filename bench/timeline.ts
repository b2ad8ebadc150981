/**
 * A .cpuprofile's samples in a window as a timeline: consecutive samples with the same summary (the
 * innermost repository frame, the self frame, and the outermost repository frame) collapsed into one
 * line with their wall time. For reading what one stall is made of, in order.
 *
 *   npx tsx bench/timeline.ts FILE|DIR FROM-MS TO-MS [min-ms=0]
 */
import { frameLabel as label, loadProfileArg, type CallFrame } from './lib/cpuprofile.js';

const { profile, byId, parent } = loadProfileArg(process.argv[2], 'usage: tsx bench/timeline.ts FILE|DIR FROM-MS TO-MS [min-ms]\n');
const fromUs = Number(process.argv[3] ?? 0) * 1000;
const toUs = Number(process.argv[4] ?? Infinity) * 1000;
const minUs = Number(process.argv[5] ?? 0) * 1000;
const isRepo = (f: CallFrame): boolean => /\/(src|bench)\//.test(f.url) && !f.url.includes('node_modules');

function summary(id: number): string {
  const self = byId.get(id)!.callFrame;
  let inner: CallFrame | undefined;
  let outer: CallFrame | undefined;
  for (let n: number | undefined = id; n !== undefined; n = parent.get(n)) {
    const f = byId.get(n)!.callFrame;
    if (isRepo(f)) {
      inner ??= f;
      outer = f;
    }
  }
  const parts = [label(self)];
  if (inner && inner !== self) parts.push(`in ${label(inner)}`);
  if (outer && outer !== inner) parts.push(`under ${label(outer)}`);
  return parts.join(' ');
}

let atUs = 0;
let line: { key: string; startUs: number; us: number; n: number } | undefined;
const flush = (): void => {
  if (line && line.us >= minUs) process.stdout.write(`${(line.startUs / 1000).toFixed(1).padStart(9)} ${(line.us / 1000).toFixed(1).padStart(6)} ms ${String(line.n).padStart(3)}  ${line.key}\n`);
  line = undefined;
};
profile.samples.forEach((id, i) => {
  const d = profile.timeDeltas[i] ?? 0;
  atUs += d;
  if (atUs < fromUs || atUs >= toUs) return;
  const key = summary(id);
  if (line?.key === key) {
    line.us += d;
    line.n++;
    return;
  }
  flush();
  line = { key, startUs: atUs, us: d, n: 1 };
});
flush();
