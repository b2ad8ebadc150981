/**
 * What a profiled sessions run's event-loop stalls are made of. `BENCH_CPU_PROF=1` runs of
 * bench/sessions.ts (and sessions-capacity) leave `stalls.json` beside Tower's .cpuprofile (the loop
 * monitor's stalls > 40 ms and the GC pauses >= 10 ms, on the machine's monotonic clock, which V8's
 * profile timestamps share on Linux). For each stall's window (the 10 ms tick it delayed, plus the
 * delay), the profile's samples by the innermost repository directory on the stack (else the frame's
 * package), GC, and time the main thread was not sampled at all (a sample gap beyond 2x the interval:
 * the OS held the thread off a core); then the same for all stalls together against the steady window.
 *
 *   npx tsx bench/stall-parts.ts /tmp/tower-bench-prof/sessions-500 [top-stalls=8] [top-functions=3]
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { frameLabel, loadProfileArg, shortUrl, type CallFrame } from './lib/cpuprofile.js';
import type { StallDump } from './lib/sessions-run.js';

const dir = process.argv[2];
const { profile, byId, parent } = loadProfileArg(dir, 'usage: tsx bench/stall-parts.ts DIR [top-stalls] [top-functions]\n');
const topStalls = Number(process.argv[3] ?? 8);
const topFns = Number(process.argv[4] ?? 3);
const dump = JSON.parse(readFileSync(path.join(dir!, 'stalls.json'), 'utf8')) as StallDump;

const isRepo = (f: CallFrame): boolean => /\/(src|bench)\//.test(f.url) && !f.url.includes('node_modules');
/** A sample's part: GC, idle, program, else the innermost repository directory, else the package. */
function partOf(id: number): string {
  const self = byId.get(id)!.callFrame;
  if (['(garbage collector)', '(idle)', '(program)'].includes(self.functionName)) return self.functionName;
  for (let n: number | undefined = id; n !== undefined; n = parent.get(n)) {
    const f = byId.get(n)!.callFrame;
    if (isRepo(f)) return path.dirname(shortUrl(f.url));
  }
  const url = shortUrl(self.url);
  return url.startsWith('node:') ? url.replace(/\/[^/]*$/, '') : url.split('/')[0]!;
}

// Sample times on the machine clock (ms), each sample's CPU share and its gap.
const intervalUs = (profile.endTime - profile.startTime) / Math.max(1, profile.samples.length);
/** Twice the sampling interval the run asked for (`BENCH_CPU_PROF_INTERVAL`, Node's default 1000 us). */
const capUs = 2 * Number(process.env.BENCH_CPU_PROF_INTERVAL ?? 1000);
interface Sample {
  at: number;
  part: string;
  fn: string;
  cpuMs: number;
  gapMs: number;
}
const samples: Sample[] = [];
let at = profile.startTime;
profile.samples.forEach((id, i) => {
  const delta = profile.timeDeltas[i] ?? 0;
  at += delta;
  samples.push({ at: at / 1000, part: partOf(id), fn: frameLabel(byId.get(id)!.callFrame), cpuMs: Math.min(delta, capUs) / 1000, gapMs: Math.max(0, delta - capUs) / 1000 });
});

function parts(from: number, to: number): { wall: number; byPart: Map<string, number>; byFn: Map<string, number> } {
  const byPart = new Map<string, number>();
  const byFn = new Map<string, number>();
  for (const s of samples) {
    if (s.at < from || s.at >= to) continue;
    byPart.set(s.part, (byPart.get(s.part) ?? 0) + s.cpuMs);
    if (s.gapMs > 0) byPart.set('(not sampled: off a core)', (byPart.get('(not sampled: off a core)') ?? 0) + s.gapMs);
    if (!s.part.startsWith('(')) byFn.set(s.fn, (byFn.get(s.fn) ?? 0) + s.cpuMs);
  }
  return { wall: to - from, byPart, byFn };
}
const sorted = (m: Map<string, number>): Array<[string, number]> => [...m].sort((a, b) => b[1] - a[1]);
const ms = (x: number): string => `${Math.round(x * 10) / 10}`;
const phaseOf = (t: number): string =>
  t < dump.releasedAt ? 'start-up' : t < dump.releasedAt + dump.warmupMs ? 'warm-up' : t < dump.releasedAt + dump.streamS * 1000 ? 'steady' : 'turn ends';

const first = samples[0]?.at ?? 0;
const last = samples.at(-1)?.at ?? 0;
const inProfile = dump.stalls.filter(([t, late]) => t - late - 10 >= first && t <= last);
process.stdout.write(`${inProfile.length} of ${dump.stalls.length} stalls > 40 ms inside the profile (${ms(intervalUs / 1000)} ms mean sample interval)\n`);
const worst = [...inProfile].sort((a, b) => b[1] - a[1]).slice(0, topStalls).sort((a, b) => a[0] - b[0]);
const total = new Map<string, number>();
for (const [t, late] of inProfile) {
  for (const [k, v] of parts(t - late - 10, t).byPart) total.set(k, (total.get(k) ?? 0) + v);
}
for (const [t, late, cpu, main] of worst) {
  const { byPart, byFn } = parts(t - late - 10, t);
  const gcs = dump.gc.filter(([end, d]) => end - d < t && end > t - late - 10).map(([, d, kind]) => `${kind} ${Math.round(d)}`);
  process.stdout.write(
    `\n+${ms((t - dump.releasedAt) / 1000)} s (${phaseOf(t)}): ${Math.round(late)} ms late, process CPU ${Math.round(cpu)} ms, main thread ${main === undefined ? '?' : Math.round(main)} ms${gcs.length ? `, GC pauses ${gcs.join(', ')}` : ''}\n` +
      `  ${sorted(byPart).map(([k, v]) => `${k} ${ms(v)}`).join(', ')}\n` +
      `  top: ${sorted(byFn).slice(0, topFns).map(([k, v]) => `${k} ${ms(v)}`).join('; ')}\n`,
  );
}
const steady = parts(dump.releasedAt + dump.warmupMs, dump.releasedAt + dump.streamS * 1000);
const share = (m: Map<string, number>): string => {
  const sum = [...m.values()].reduce((a, b) => a + b, 0);
  return sorted(m).slice(0, 12).map(([k, v]) => `${k} ${Math.round((v / sum) * 100)}%`).join(', ');
};
process.stdout.write(`\nall ${inProfile.length} stalls' windows together: ${share(total)}\n`);
process.stdout.write(`steady window (${ms(steady.wall / 1000)} s) for comparison: ${share(steady.byPart)}\n`);
