/**
 * sessions: 500 concurrent sessions, each driven by the fake model server at 50 tokens/s (25,000 tokens/s
 * in all) through Tower's real path (POST /messages, an openai-compatible provider over HTTP through the
 * wire stepper, agent_choice appends, group commit, SSE), one SSE subscriber each. `BENCH_SESSIONS=1000`
 * for another count.
 *
 * The fake model holds its answers until every session's model request has arrived (a barrier), so all
 * 500 stream at once; the time to get there (500 sends) is reported apart. Token latency: from the fake
 * server's write of a chunk to the subscriber's receipt of its agent_choice (same process, same clock),
 * for tokens written from 1 s after release; tokens not received when the measurement ends count at
 * their age then (so p99 is a lower bound when Tower falls behind). Keeping up: the backlog (written,
 * not yet received) must not grow while every session streams.
 *
 * Baseline: the same fake server and subscribers through a bare node:http relay (bench/servers/bare-relay.ts).
 * Full mode also runs Tower with 50 sessions, to show where it does keep up. The same runs against the
 * relay's capacity on the machine of the day: bench/sessions-capacity.ts. One run's code: bench/lib/sessions-run.ts.
 */
import os from 'node:os';
import type { Phases } from './loadgen/paced-model.js';
import { QUICK, pick } from './lib/cli.js';
import { Histogram } from './lib/hist.js';
import { emitBench, human, progress, sig, summary } from './lib/report.js';
import { TOKENS_PER_SECOND, eluText, genText, keepsUp, p99Text, rows, runSessions, stallText, type Outcome, type RunShape } from './lib/sessions-run.js';

/** Quick mode runs 250 sessions (12,500 tokens/s) to fit its time budget. */
const SESSIONS = Number(process.env.BENCH_SESSIONS ?? pick(250, 500));
const STREAM_S = pick(3, 10);
/**
 * Where each stream's tokens fall within the 20 ms period: `spread` (default) starts the streams evenly
 * over one period, as independent sessions would be; `aligned` starts them all at the release, so every
 * period opens with one burst of a token from every session (the old generator's shape at the start,
 * which its per-stream timers then smeared).
 */
const PHASES: Phases = process.env.BENCH_SESSIONS_PHASES === 'aligned' ? 'aligned' : 'spread';
const SHAPE: RunShape = {
  streamS: STREAM_S,
  drainMs: pick(2_000, 4_000),
  phases: PHASES,
  /** Extra Node flags for the Tower process only (`BENCH_TOWER_NODE_ARGS="--max-semi-space-size=32"`), for A/B trials. */
  towerNodeArgs: (process.env.BENCH_TOWER_NODE_ARGS ?? '').split(' ').filter(Boolean),
};
const run = (kind: 'tower' | 'bare', sessions: number): Promise<Outcome> => runSessions(kind, sessions, SHAPE);

progress(`sessions: tower, ${SESSIONS} sessions x ${TOKENS_PER_SECOND} tokens/s for ${STREAM_S} s`);
const tower = await run('tower', SESSIONS);
summary(`sessions: tower, ${SESSIONS} sessions`, rows(tower));
/** `BENCH_SESSIONS_TOWER_ONLY=1`: only the Tower run above (for A/B trials of Tower's flags; no baseline). */
const towerOnly = Boolean(process.env.BENCH_SESSIONS_TOWER_ONLY);
if (towerOnly) {
  process.stdout.write('  BENCH_SESSIONS_TOWER_ONLY: no bare relay run, no BENCH line\n');
  process.exit(0);
}
progress('sessions: bare relay');
const bare = await run('bare', SESSIONS);
summary(`sessions: bare relay, ${SESSIONS} sessions`, rows(bare));
let small: Outcome | undefined;
if (!QUICK) {
  progress('sessions: tower, 50 sessions');
  small = await run('tower', 50);
  summary('sessions: tower, 50 sessions', rows(small));
}
const loadAvg = os.loadavg()[0]!;
process.stdout.write(`  load average (1 min): ${sig(loadAvg)}\n`);

const p99 = tower.steady.percentile(99);
const baseP99 = bare.steady.percentile(99);
emitBench({
  name: 'sessions',
  value: p99,
  unit: 'ms (token p99)',
  baseline: baseP99,
  ratio: p99 / baseP99,
  target: 'p99 <= 50 ms, no growing backlog',
  met: p99 <= 50 && keepsUp(tower),
  p50_ms: tower.steady.percentile(50),
  p99_ms: p99,
  loop_max_ms: tower.loopDelayMaxMs,
  notes:
    `${SESSIONS} sessions x ${TOKENS_PER_SECOND} tok/s for ${STREAM_S} s; received ${human(tower.receivedPerSec)} of ` +
    `${human(tower.writtenPerSec)} tok/s written, backlog growing ${human(tower.backlogSlope)} tok/s; ` +
    `${sig(tower.stats.received / Math.max(1, tower.stats.deltaEvents))} tokens per agent_choice event; ` +
    `${tower.stats.censored > 0 ? `p99 is a lower bound (${tower.stats.censored} tokens undelivered); ` : ''}` +
    `server CPU per delivered token (incl. start-up) ${sig(tower.cpuUsPerToken)} us vs ${sig(bare.cpuUsPerToken)} bare; starting ${SESSIONS} turns took ` +
    `${sig(tower.startupMs / 1000)} s; Tower's event loop blocked up to ${sig((tower.loopDelayMaxMs ?? NaN) / 1000)} s; stalls > 40 ms ${stallText(tower)}; ` +
    `Tower main thread busy ${eluText(tower)} while streaming (relay ${eluText(bare)}); Tower GC max ${sig(tower.gc?.maxMs ?? NaN)} ms (${tower.gc?.long.length ?? 0} pauses >= 10 ms; bare ${sig(bare.gc?.maxMs ?? NaN)}); ` +
    `load generator (${PHASES} phases) ${genText(tower)} beside Tower, ${genText(bare)} beside the relay, lateness p99 ${sig(Histogram.from(tower.stats.lateness).percentile(99))} ms; ` +
    `bare relay p50/p99 ${sig(bare.steady.percentile(50))}/${sig(baseP99)} ms, loop max ${sig(bare.loopDelayMaxMs ?? NaN)} ms, received ${human(bare.receivedPerSec)} of ${human(bare.writtenPerSec)} tok/s` +
    (small
      ? `; at 50 sessions Tower: p50/p99 ${sig(small.steady.percentile(50))}/${p99Text(small)} ms, keeps up: ${keepsUp(small) ? 'yes' : 'no'}`
      : '') +
    `; load avg ${sig(loadAvg)}`,
});
