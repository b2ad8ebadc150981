/**
 * Summarizes a V8 .cpuprofile (from `BENCH_CPU_PROF=1 npm run bench -- NAME`): self time by function and
 * by file/package, and inclusive time of the heaviest frames in repository code.
 *
 *   npx tsx bench/prof.ts /tmp/tower-bench-prof/fanout-200 [top=25] [from-ms] [to-ms]   (a directory: its largest profile)
 *
 * With from/to (ms since the profile started), only the samples in that window: a benchmark's steady
 * phase without the process's start-up and shutdown.
 */
import { frameLabel as label, loadProfileArg, type CallFrame } from './lib/cpuprofile.js';

const { file, profile, byId, parent } = loadProfileArg(process.argv[2], 'usage: tsx bench/prof.ts FILE.cpuprofile [top]\n');
const top = Number(process.argv[3] ?? 25);
const fromUs = Number(process.argv[4] ?? 0) * 1000;
const toUs = Number(process.argv[5] ?? Infinity) * 1000;
const selfUs = new Map<number, number>();
let atUs = 0;
profile.samples.forEach((id, i) => {
  atUs += profile.timeDeltas[i] ?? 0;
  if (atUs >= fromUs && atUs < toUs) selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
});
const sampled = [...selfUs.values()].reduce((a, b) => a + b, 0);
// Percentages are of busy time: idle and "(program)" (time outside JS, e.g. in the event loop) excluded.
const idleUs = [...selfUs].filter(([id]) => ['(idle)', '(program)'].includes(byId.get(id)!.callFrame.functionName)).reduce((a, [, us]) => a + us, 0);
const total = sampled - idleUs;

const pkg = (url: string): string => {
  if (!url) return '(native, gc)';
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + 13).split('/');
    return rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]!;
  }
  const m = /\/(src\/[^/]+(?:\/[^/]+)?)\//.exec(url);
  if (m) return m[1]!;
  if (url.startsWith('node:')) return url.split('/')[0]!;
  return url;
};

const pct = (us: number): string => `${((us / total) * 100).toFixed(1).padStart(5)}%`;
const ms = (us: number): string => `${(us / 1000).toFixed(0).padStart(7)} ms`;

const selfByLabel = new Map<string, number>();
const selfByPkg = new Map<string, number>();
const isIdle = (f: CallFrame): boolean => f.functionName === '(idle)' || f.functionName === '(program)';
for (const [id, us] of selfUs) {
  const f = byId.get(id)!.callFrame;
  if (isIdle(f)) continue;
  selfByLabel.set(label(f), (selfByLabel.get(label(f)) ?? 0) + us);
  selfByPkg.set(pkg(f.url), (selfByPkg.get(pkg(f.url)) ?? 0) + us);
}

// Inclusive time per label (counted once per sample even under recursion).
const inclusive = new Map<string, number>();
atUs = 0;
profile.samples.forEach((id, i) => {
  atUs += profile.timeDeltas[i] ?? 0;
  if (atUs < fromUs || atUs >= toUs) return;
  const seen = new Set<string>();
  for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
    const l = label(byId.get(cur)!.callFrame);
    if (seen.has(l)) continue;
    seen.add(l);
    inclusive.set(l, (inclusive.get(l) ?? 0) + (profile.timeDeltas[i] ?? 0));
  }
});

const print = (title: string, map: Map<string, number>, n: number, filter: (k: string) => boolean = () => true): void => {
  process.stdout.write(`\n${title}\n`);
  for (const [k, us] of [...map].filter(([k]) => filter(k)).sort((a, b) => b[1] - a[1]).slice(0, n)) {
    process.stdout.write(`${pct(us)} ${ms(us)}  ${k}\n`);
  }
};
process.stdout.write(
  `${file}\n  sampled ${(sampled / 1e6).toFixed(2)} s, busy ${(total / 1e6).toFixed(2)} s (percentages below are of busy time)\n`,
);
print('self time by package/dir', selfByPkg, 20);
print('self time by function', selfByLabel, top);
print('inclusive time, repository code', inclusive, top, (k) => /\s(src|bench)\//.test(k));
print('inclusive time, dependencies', inclusive, top, (k) => !/\s(src|bench)\//.test(k) && !k.startsWith('(') && !/^\(anonymous\) \(native\)/.test(k));
