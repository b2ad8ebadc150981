import { useEffect, useMemo } from 'react';
import { Chart } from '../components/Chart.js';
import { useTower } from '../context.js';
import { charts, foldTelemetry, loadTelemetry, type TelemetryRecord, type TelemetryState } from '../folds/telemetry.js';
import { formatCost, formatTokens } from '../format.js';
import { Unavailable } from '../hooks.js';
import { useTelemetry } from '../live/telemetryStore.js';
import { useLiveList } from '../live/useLiveList.js';

const SHOWN = 6;
const COLORS = ['#3b82f6', '#f59e0b', '#10b981', '#ef4444', '#8b5cf6', '#ec4899'];

/**
 * Gathers telemetry while the dashboard is open: `GET /api/telemetry`, then the hub's `telemetry`
 * topic (each session's totals, at most once a second while it changes); polled every 5 s without the
 * hub. Mounted once in the shell; renders nothing.
 */
export function TelemetryCollector() {
  const { api, telemetry } = useTower();
  const { list, transport } = useLiveList<TelemetryState, { sessions: TelemetryRecord[]; at: number }>({
    topic: 'telemetry',
    pollMs: 5000,
    load: async () => ({ ...(await api.get<{ sessions: TelemetryRecord[] }>('/api/telemetry')), at: Date.now() }),
    merge: (prev, l) => loadTelemetry(prev, l.sessions, l.at),
    fold: (state, type, data, at) => (type === 'telemetry' ? foldTelemetry(state, data, at) : state),
  });
  useEffect(() => telemetry.set({ list, transport }), [telemetry, list, transport]);
  return null;
}

/** Tokens per second and cost over time, per session and in total, from the readings gathered. */
export function Telemetry() {
  const { list: loaded, transport } = useTelemetry();
  const c = useMemo(() => charts(loaded.state === 'ok' ? loaded.value : new Map(), SHOWN), [loaded]);
  const series = useMemo(() => {
    const label = (s: { title: string }) => s.title.slice(0, 30);
    return {
      total: [{ label: 'all sessions ($)', values: c.totalCost, stroke: '#f59e0b' }],
      totalRate: [{ label: 'all sessions (tokens/s)', values: c.totalRate, stroke: '#3b82f6' }],
      rate: c.perSession.map((s, i) => ({ label: label(s), values: s.rate, stroke: COLORS[i] ?? '#888' })),
      cost: c.perSession.map((s, i) => ({ label: label(s), values: s.cost, stroke: COLORS[i] ?? '#888' })),
    };
  }, [c]);
  if (loaded.state === 'unavailable') return <section><h1>Telemetry</h1><Unavailable what="Telemetry is" /></section>;
  const rows = loaded.state === 'ok' ? [...loaded.value.values()].sort((a, b) => b.latest.cost - a.latest.cost) : [];
  return (
    <section aria-labelledby="telemetry-title">
      <h1 id="telemetry-title">Telemetry</h1>
      {loaded.state === 'error' ? <p role="alert" className="error">{loaded.message}</p> : null}
      {loaded.state === 'loading' ? <p className="muted">Loading…</p> : null}
      <p data-testid="total-cost" data-transport={transport}>
        All sessions: {formatTokens(c.sum.tokens)} tokens, {formatCost(c.sum.cost)}
      </p>
      <div className="charts">
        <Chart title="Cost over time, all sessions" x={c.x} series={series.total} empty="no readings yet" />
        <Chart title="Tokens per second, all sessions" x={c.x} series={series.totalRate} empty="no readings yet" />
        <Chart title="Tokens per second, per session" x={c.x} series={series.rate} empty="no readings yet" />
        <Chart title="Cost over time, per session" x={c.x} series={series.cost} empty="no readings yet" />
      </div>
      <table className="sessions" data-testid="telemetry-sessions">
        <thead>
          <tr>
            <th scope="col">Session</th>
            <th scope="col">Status</th>
            <th scope="col">Turns</th>
            <th scope="col">Tokens in</th>
            <th scope="col">Tokens out</th>
            <th scope="col">Cost</th>
            <th scope="col">Time in turns</th>
          </tr>
        </thead>
        <tbody>
          {rows.map(({ latest: t }) => (
            <tr key={t.instance_id} data-session-id={t.instance_id}>
              <td>{t.title || t.instance_id}</td>
              <td>{t.status}</td>
              <td>{t.turns}</td>
              <td>{formatTokens(t.tokens_in)}</td>
              <td>{formatTokens(t.tokens_out)}</td>
              <td>{formatCost(t.cost)}</td>
              <td>{t.duration_sec} s</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
