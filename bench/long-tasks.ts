/**
 * The long stretches of a V8 .cpuprofile: runs of samples in which the main thread never went idle
 * (waiting in the event loop), longer than a threshold. For each, what ran in it (inclusive time of
 * repository frames, and the top self time), so a loop-delay figure can be traced to its cause. Sample
 * gaps are wall time: a process the OS held off a core shows long stretches with few samples.
 *
 *   npx tsx bench/long-tasks.ts /tmp/tower-bench-prof/sessions-500 [threshold-ms=50] [top=8] [from-ms] [to-ms]
 *
 * With from/to (ms since the profile started), only the stretches that begin in that window, in time
 * order (for example a benchmark's steady phase, leaving out start-up and shutdown).
 */
import { frameLabel as label, loadProfileArg, type CallFrame } from './lib/cpuprofile.js';

const { file, profile, byId, parent } = loadProfileArg(
  process.argv[2],
  'usage: tsx bench/long-tasks.ts FILE.cpuprofile|DIR [threshold-ms] [top]\n',
);
const thresholdUs = Number(process.argv[3] ?? 50) * 1000;
const top = Number(process.argv[4] ?? 8);
const fromMs = process.argv[5] === undefined ? undefined : Number(process.argv[5]);
const toMs = Number(process.argv[6] ?? Infinity);
const isRepo = (f: CallFrame): boolean => /\/(src|bench)\//.test(f.url) && !f.url.includes('node_modules');

interface Stretch {
  startUs: number;
  wallUs: number;
  samples: number;
  self: Map<string, number>;
  inclusive: Map<string, number>;
}

const stretches: Stretch[] = [];
let current: Stretch | undefined;
let at = profile.startTime;
profile.samples.forEach((id, i) => {
  const delta = profile.timeDeltas[i] ?? 0;
  at += delta;
  const frame = byId.get(id)!.callFrame;
  if (frame.functionName === '(idle)') {
    if (current && current.wallUs >= thresholdUs) stretches.push(current);
    current = undefined;
    return;
  }
  current ??= { startUs: at - delta, wallUs: 0, samples: 0, self: new Map(), inclusive: new Map() };
  current.wallUs += delta;
  current.samples++;
  const own = label(frame);
  current.self.set(own, (current.self.get(own) ?? 0) + delta);
  const seen = new Set<string>();
  for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
    const f = byId.get(cur)!.callFrame;
    if (!isRepo(f)) continue;
    const l = label(f);
    if (seen.has(l)) continue;
    seen.add(l);
    current.inclusive.set(l, (current.inclusive.get(l) ?? 0) + delta);
  }
});
if (current && current.wallUs >= thresholdUs) stretches.push(current);

const ms = (us: number): string => `${(us / 1000).toFixed(1)} ms`;
const best = (map: Map<string, number>, n: number): string[] =>
  [...map].sort((a, b) => b[1] - a[1]).slice(0, n).map(([k, us]) => `${ms(us).padStart(9)}  ${k}`);

const sinceStart = (s: Stretch): number => (s.startUs - profile.startTime) / 1000;
const shown =
  fromMs === undefined
    ? stretches.sort((a, b) => b.wallUs - a.wallUs).slice(0, 10)
    : stretches.filter((s) => sinceStart(s) >= fromMs && sinceStart(s) < toMs).sort((a, b) => a.startUs - b.startUs);
process.stdout.write(`${file}\n${stretches.length} stretches without idle >= ${ms(thresholdUs)}${fromMs === undefined ? '' : `, ${shown.length} from ${fromMs} to ${toMs} ms`}\n`);
for (const s of shown) {
  process.stdout.write(`\n@${ms(s.startUs - profile.startTime)}: ${ms(s.wallUs)} wall, ${s.samples} samples\n  self:\n`);
  for (const line of best(s.self, top)) process.stdout.write(`    ${line}\n`);
  process.stdout.write('  inclusive (repository frames):\n');
  for (const line of best(s.inclusive, top)) process.stdout.write(`    ${line}\n`);
}
