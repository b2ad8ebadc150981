import type { Telemetry } from '../api/types.js';

/** A session's telemetry (`GET /api/telemetry` and the hub's `telemetry` topic; `instance_id` is the session id). */
export type TelemetryRecord = Telemetry;

/** One reading (t in unix seconds). */
export interface Reading {
  t: number;
  tokens: number;
  cost: number;
}

export interface SessionSeries {
  latest: TelemetryRecord;
  readings: readonly Reading[];
}

export type TelemetryState = ReadonlyMap<string, SessionSeries>;

export const MAX_READINGS = 600;

const isRecord = (v: unknown): v is TelemetryRecord =>
  typeof v === 'object' && v !== null && typeof (v as TelemetryRecord).instance_id === 'string' && Number.isFinite((v as TelemetryRecord).tokens_out) && Number.isFinite((v as TelemetryRecord).cost);

/**
 * Adds a reading of one session at `atMs`. Readings are kept in time order; one that says nothing new
 * (same tokens and cost) only updates the session's latest record, so a chart's points are changes.
 */
export function foldTelemetry(state: TelemetryState, data: unknown, atMs: number): TelemetryState {
  if (!isRecord(data)) return state;
  const t = atMs / 1000;
  const old = state.get(data.instance_id);
  const reading: Reading = { t, tokens: data.tokens_in + data.tokens_out, cost: data.cost };
  const last = old?.readings[old.readings.length - 1];
  let readings = old?.readings ?? [];
  if (!last || (t > last.t && (last.tokens !== reading.tokens || last.cost !== reading.cost))) readings = [...readings, reading].slice(-MAX_READINGS);
  return new Map(state).set(data.instance_id, { latest: data, readings });
}

/** A read of `GET /api/telemetry` at `atMs`: every listed session's reading folded in (history kept); sessions no longer listed (deleted) go. */
export function loadTelemetry(prev: TelemetryState | undefined, list: readonly TelemetryRecord[], atMs: number): TelemetryState {
  const listed = new Set(list.map((r) => r.instance_id));
  let state: TelemetryState = new Map([...(prev ?? new Map<string, SessionSeries>())].filter(([id]) => listed.has(id)));
  for (const r of list) state = foldTelemetry(state, r, atMs);
  return state;
}

export interface Charts {
  x: number[];
  totalCost: (number | null)[];
  totalRate: (number | null)[];
  perSession: { id: string; title: string; rate: (number | null)[]; cost: (number | null)[] }[];
  sum: { tokens: number; cost: number };
}

/**
 * Chart series on one time axis: cost and tokens per second in total (sum of every session's latest
 * reading at each time) and per session (at its own readings, gaps elsewhere). Tokens per second is the
 * token growth between two readings over the time between them.
 */
export function charts(state: TelemetryState, shown: number): Charts {
  const sessions = [...state.entries()];
  const x = [...new Set(sessions.flatMap(([, s]) => s.readings.map((r) => r.t)))].sort((a, b) => a - b);
  const index = new Map(x.map((t, i) => [t, i]));
  const totalCost: (number | null)[] = [];
  const totalRate: (number | null)[] = [];
  const cursor = sessions.map(() => 0);
  let prevTokens: number | undefined;
  for (let i = 0; i < x.length; i++) {
    const t = x[i] as number;
    let cost = 0;
    let tokens = 0;
    sessions.forEach(([, s], k) => {
      while ((cursor[k] as number) < s.readings.length && (s.readings[cursor[k] as number]?.t ?? Infinity) <= t) cursor[k] = (cursor[k] as number) + 1;
      const at = s.readings[(cursor[k] as number) - 1];
      if (at) {
        cost += at.cost;
        tokens += at.tokens;
      }
    });
    totalCost.push(cost);
    const dt = i > 0 ? t - (x[i - 1] as number) : 0;
    totalRate.push(prevTokens !== undefined && dt > 0 ? Math.max(0, tokens - prevTokens) / dt : null);
    prevTokens = tokens;
  }
  const recent = sessions
    .filter(([, s]) => s.readings.length > 0)
    .sort(([, a], [, b]) => (b.readings[b.readings.length - 1]?.t ?? 0) - (a.readings[a.readings.length - 1]?.t ?? 0))
    .slice(0, shown);
  const perSession = recent.map(([id, s]) => {
    const rate: (number | null)[] = x.map(() => null);
    const cost: (number | null)[] = x.map(() => null);
    s.readings.forEach((r, j) => {
      const i = index.get(r.t) as number;
      cost[i] = r.cost;
      const before = s.readings[j - 1];
      if (before && r.t > before.t) rate[i] = Math.max(0, r.tokens - before.tokens) / (r.t - before.t);
    });
    return { id, title: s.latest.title || id, rate, cost };
  });
  let sumTokens = 0;
  let sumCost = 0;
  for (const [, s] of sessions) {
    sumTokens += s.latest.tokens_in + s.latest.tokens_out;
    sumCost += s.latest.cost;
  }
  return { x, totalCost, totalRate, perSession, sum: { tokens: sumTokens, cost: sumCost } };
}
