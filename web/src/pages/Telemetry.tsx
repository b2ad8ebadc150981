import { useMemo } from 'react';
import type { SessionExport, SessionList, WireEvent } from '../api/types.js';
import { Chart } from '../components/Chart.js';
import { useTower } from '../context.js';
import { formatCost } from '../format.js';
import { usePoll } from '../hooks.js';
import { applyEvents, initialTranscript } from '../transcript/reducer.js';
import type { UsagePoint } from '../transcript/items.js';

const RECENT = 20;
const COLORS = ['#3b82f6', '#f59e0b', '#10b981', '#ef4444', '#8b5cf6', '#ec4899'];

interface PerSession {
  id: string;
  title: string;
  usage: readonly UsagePoint[];
}

/** Tokens per second and cost over time, per session (the most recent) and in total. */
export function Telemetry() {
  const { api } = useTower();
  const [loaded] = usePoll(async (): Promise<PerSession[]> => {
    const list = await api.get<SessionList>(`/api/sessions?limit=${RECENT}`);
    return Promise.all(
      list.items.map(async (s) => {
        const exp = await api.get<SessionExport>(`/api/sessions/${s.id}/export`);
        // The export holds stored events; their wire form puts payload and envelope side by side.
        const wire = exp.events.map((e) => ({ ...e.data, type: e.type, seq: e.seq, session_id: e.session_id, timestamp: e.timestamp }) as unknown as WireEvent);
        return { id: s.id, title: s.title, usage: applyEvents(initialTranscript(s.id), wire).usage };
      }),
    );
  }, 10_000);
  const charts = useMemo(() => {
    const sessions = loaded.state === 'ok' ? loaded.value.filter((s) => s.usage.length > 0) : [];
    const all = sessions.flatMap((s) => s.usage.map((u) => ({ ...u, id: s.id }))).sort((a, b) => a.t - b.t);
    const x = all.map((u) => u.t);
    let cost = 0;
    const last = new Map<string, number>();
    const totalCost = all.map((u) => {
      cost += u.totalCost - (last.get(u.id) ?? 0);
      last.set(u.id, u.totalCost);
      return cost;
    });
    const shown = sessions.slice(0, COLORS.length);
    return {
      x,
      total: [{ label: 'all sessions ($)', values: totalCost, stroke: '#f59e0b' }],
      speed: shown.map((s, i) => ({
        label: s.title.slice(0, 30) || s.id,
        values: all.map((u) => (u.id === s.id ? u.tokensPerSecond : null)),
        stroke: COLORS[i] ?? '#888',
      })),
      perSessionCost: shown.map((s, i) => ({
        label: s.title.slice(0, 30) || s.id,
        values: all.map((u) => (u.id === s.id ? u.totalCost : null)),
        stroke: COLORS[i] ?? '#888',
      })),
      sum: cost,
      sessions,
    };
  }, [loaded]);
  return (
    <section aria-labelledby="telemetry-title">
      <h1 id="telemetry-title">Telemetry</h1>
      {loaded.state === 'error' ? <p role="alert" className="error">{loaded.message}</p> : null}
      {loaded.state === 'loading' ? <p className="muted">Loading…</p> : null}
      <p data-testid="total-cost">Total cost of the {RECENT} most recent sessions: {formatCost(charts.sum)}</p>
      <div className="charts">
        <Chart title="Cost over time, all sessions" x={charts.x} series={charts.total} />
        <Chart title="Tokens per second, per session" x={charts.x} series={charts.speed} />
        <Chart title="Cost over time, per session" x={charts.x} series={charts.perSessionCost} />
      </div>
    </section>
  );
}
