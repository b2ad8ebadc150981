/**
 * Loop iterations of a V8 .cpuprofile: the stretches between successive timer phases (`processTimers`
 * at the root of a sample), and for each long one (>= threshold ms) where its time went, by what the
 * sample's stack entered through (timers, the check phase's immediates by callback, I/O callbacks of the
 * poll phase by their first JS frame, microtasks, GC). A saturated loop shows no long single task in
 * `long-tasks.ts`; this shows what one turn of it was made of, which is what a no-op request waits for.
 *
 *   npx tsx bench/loop-turns.ts FILE.cpuprofile|DIR [threshold-ms=40] [top=12] [from-ms] [to-ms]
 */
import { frameLabel as label, loadProfileArg, type ProfileNode } from './lib/cpuprofile.js';

const { file, profile, byId, parent } = loadProfileArg(process.argv[2], 'usage: tsx bench/loop-turns.ts FILE.cpuprofile|DIR [threshold-ms] [top] [from] [to]\n');
const thresholdMs = Number(process.argv[3] ?? 40);
const top = Number(process.argv[4] ?? 12);
const fromMs = Number(process.argv[5] ?? 0);
const toMs = Number(process.argv[6] ?? Infinity);

/** The stack of a node from the root's child down (root excluded). */
function stack(id: number): ProfileNode[] {
  const out: ProfileNode[] = [];
  for (let n: number | undefined = id; n !== undefined; n = parent.get(n)) out.push(byId.get(n) as ProfileNode);
  out.pop();
  return out.reverse();
}

const INTERNAL = /^node:|^$/;
/** Where a sample entered: its phase and, inside it, the first repository/dependency frame. */
function entry(id: number): { phase: string; via: string } {
  const s = stack(id);
  const first = s[0];
  if (!first) return { phase: '(root)', via: '' };
  const name = first.callFrame.functionName;
  if (name === '(idle)' || name === '(program)' || name === '(garbage collector)') return { phase: name, via: '' };
  const user = s.find((n) => !INTERNAL.test(n.callFrame.url) && n.callFrame.url !== '');
  const via = user ? label(user.callFrame) : label((s[Math.min(2, s.length - 1)] as ProfileNode).callFrame);
  if (s.some((n) => n.callFrame.functionName === 'processTimers')) return { phase: 'timers', via };
  if (s.some((n) => n.callFrame.functionName === 'processImmediate')) return { phase: 'check', via };
  if (s.some((n) => n.callFrame.functionName === 'processTicksAndRejections' || n.callFrame.functionName === 'runMicrotasks')) return { phase: 'ticks/microtasks', via };
  return { phase: `poll:${label(first.callFrame)}`, via };
}

interface Turn {
  startMs: number;
  ms: number;
  idleMs: number;
  byPhase: Map<string, number>;
  byVia: Map<string, number>;
}

const turns: Turn[] = [];
let cur: Turn | undefined;
let t = 0;
let inTimers = false;
const cache = new Map<number, { phase: string; via: string }>();
for (let i = 0; i < profile.samples.length; i++) {
  t += profile.timeDeltas[i] as number;
  const ms = t / 1000;
  const id = profile.samples[i] as number;
  const dt = ((profile.timeDeltas[i + 1] ?? 0) as number) / 1000;
  let e = cache.get(id);
  if (!e) cache.set(id, (e = entry(id)));
  const timers = e.phase === 'timers';
  if (timers && !inTimers) {
    if (cur) cur.ms = ms - cur.startMs;
    if (cur && cur.startMs >= fromMs && cur.startMs <= toMs) turns.push(cur);
    cur = { startMs: ms, ms: 0, idleMs: 0, byPhase: new Map(), byVia: new Map() };
  }
  inTimers = timers;
  if (!cur) continue;
  if (e.phase === '(idle)') cur.idleMs += dt;
  cur.byPhase.set(e.phase, (cur.byPhase.get(e.phase) ?? 0) + dt);
  if (e.via) cur.byVia.set(`${e.phase.startsWith('poll') ? 'poll' : e.phase} ${e.via}`, (cur.byVia.get(`${e.phase.startsWith('poll') ? 'poll' : e.phase} ${e.via}`) ?? 0) + dt);
}

const long = turns.filter((x) => x.ms >= thresholdMs);
const lengths = turns.map((x) => x.ms).sort((a, b) => a - b);
const q = (p: number): number => lengths[Math.min(lengths.length - 1, Math.floor((lengths.length * p) / 100))] ?? NaN;
process.stdout.write(`${file}\n${turns.length} turns (timer phase to timer phase); ms p50 ${q(50).toFixed(1)}, p90 ${q(90).toFixed(1)}, p99 ${q(99).toFixed(1)}, max ${q(100).toFixed(1)}; ${long.length} >= ${thresholdMs} ms\n`);
// Totals over the long turns, then the three longest.
const sum = (maps: Map<string, number>[]): Map<string, number> => {
  const out = new Map<string, number>();
  for (const m of maps) for (const [k, v] of m) out.set(k, (out.get(k) ?? 0) + v);
  return out;
};
const show = (title: string, m: Map<string, number>, scale = 1): void => {
  process.stdout.write(`  ${title}\n`);
  for (const [k, v] of [...m].sort((a, b) => b[1] - a[1]).slice(0, top)) process.stdout.write(`    ${(v / scale).toFixed(1).padStart(8)} ms  ${k}\n`);
};
if (long.length > 0) {
  const n = long.length;
  process.stdout.write(`\nper long turn (mean of ${n}, ${(long.reduce((a, x) => a + x.ms, 0) / n).toFixed(1)} ms):\n`);
  show('by phase', sum(long.map((x) => x.byPhase)), n);
  show('by entry', sum(long.map((x) => x.byVia)), n);
}
for (const x of [...long].sort((a, b) => b.ms - a.ms).slice(0, 3)) {
  process.stdout.write(`\n@${x.startMs.toFixed(1)} ms: ${x.ms.toFixed(1)} ms, idle ${x.idleMs.toFixed(1)}\n`);
  show('by phase', x.byPhase);
  show('by entry', x.byVia);
}
