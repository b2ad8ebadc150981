import { useState, type FormEvent } from 'react';
import type { RunnerInfo, RunnerToken } from '../api/types.js';
import { Chart } from '../components/Chart.js';
import { useTower } from '../context.js';
import { formatAgo } from '../format.js';
import { foldRunner, loadRunners, type RunnerRows } from '../folds/runners.js';
import { Unavailable, usePoll } from '../hooks.js';
import { useLiveList } from '../live/useLiveList.js';

const listOf = <T,>(v: unknown, key: string): T[] => (Array.isArray(v) ? (v as T[]) : ((v as Record<string, T[]> | undefined)?.[key] ?? []));

/**
 * Runners (online/offline, labels, environment, heartbeat sparklines, tasks) and their tokens: live
 * from the hub's runner events (connected, heartbeat, disconnected), polled without the hub.
 */
export function Runners() {
  const { api } = useTower();
  const { list: runners, transport } = useLiveList<RunnerRows, RunnerInfo[]>({
    topic: 'runner',
    pollMs: 2000,
    // A runner that stops heartbeating without closing its socket sends no event: the list says so.
    refreshMs: 30_000,
    load: async () => listOf<RunnerInfo>(await api.get<unknown>('/api/runners'), 'runners'),
    merge: loadRunners,
    fold: (rows, type, data) => (type === 'runner' ? foldRunner(rows, data) : rows),
  });
  if (runners.state === 'unavailable') return <section><h1>Runners</h1><Unavailable what="Remote runners are" /></section>;
  const rows = runners.state === 'ok' ? [...runners.value.values()].sort((a, b) => a.runner.name.localeCompare(b.runner.name)) : [];
  return (
    <section aria-labelledby="runners-title">
      <h1 id="runners-title">Runners</h1>
      {runners.state === 'error' ? <p role="alert" className="error">{runners.message}</p> : null}
      {runners.state === 'ok' && rows.length === 0 ? <p className="muted">No runner has connected yet. Create a token below and start <code>tower runner</code> with it.</p> : null}
      <ul className="cards" data-testid="runners" data-transport={transport}>
        {rows.map(({ runner: r, samples: h }) => (
          <li key={r.id} className="card" data-runner={r.name} data-online={r.online} aria-label={`Runner ${r.name}`}>
            <div className="row spread">
              <strong>{r.name}</strong>
              <span className={`status ${r.online ? 'status-running' : 'status-idle'}`} data-testid="runner-status">{r.online ? 'online' : 'offline'}</span>
            </div>
            <p>{r.labels.map((l) => <span key={l} className="badge">{l}</span>)}</p>
            {/* In a cluster, the node whose gateway holds the runner (a single node names none). */}
            {r.node ? <p className="small" data-testid="runner-node">node <code>{r.node}</code></p> : null}
            {r.last_heartbeat ? <p className="muted small">last heartbeat {formatAgo(r.last_heartbeat)}</p> : null}
            <p className="small">running tasks: {r.running_tasks}</p>
            {r.environment ? (
              <details>
                <summary>Environment: {r.environment.os} {r.environment.arch}, {r.environment.num_cpu} CPU, {r.environment.hostname}</summary>
                <pre>{JSON.stringify(r.environment, null, 2)}</pre>
              </details>
            ) : null}
            <Chart title={`${r.name}: CPU / memory / disk %`} empty="no heartbeat metrics yet" height={90} x={h.map((s) => s.t)} series={[
              { label: 'cpu', values: h.map((s) => s.cpu), stroke: '#3b82f6' },
              { label: 'mem', values: h.map((s) => s.memory), stroke: '#10b981' },
              { label: 'disk', values: h.map((s) => s.disk), stroke: '#f59e0b' },
            ]} />
          </li>
        ))}
      </ul>
      <RunnerTokens runnersKey={rows.map((r) => `${r.runner.id}:${r.runner.status}`).join(',')} />
    </section>
  );
}

/**
 * Tokens are read when the page opens, after each create and revoke here, and whenever a runner
 * connects or goes offline (a token revoked elsewhere disconnects its runners), not on a timer.
 */
function RunnerTokens({ runnersKey }: { runnersKey: string }) {
  const { api } = useTower();
  const [tokens, reload] = usePoll(async () => listOf<RunnerToken>(await api.get<unknown>('/api/runners/tokens'), 'tokens'), null, [runnersKey]);
  const [name, setName] = useState('');
  const [labels, setLabels] = useState('');
  const [created, setCreated] = useState<string>();
  const [error, setError] = useState<string>();
  if (tokens.state === 'unavailable') return <Unavailable what="Runner tokens are" />;
  const create = async (e: FormEvent) => {
    e.preventDefault();
    try {
      const t = await api.post<RunnerToken>('/api/runners/tokens', { name, labels: labels.split(',').map((l) => l.trim()).filter(Boolean) });
      setCreated(t.token);
      setName('');
      setLabels('');
      reload();
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    }
  };
  const revoke = async (id: string) => {
    try {
      await api.del(`/api/runners/tokens/${encodeURIComponent(id)}`);
      reload();
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    }
  };
  return (
    <section className="card" aria-labelledby="tokens-title">
      <h2 id="tokens-title">Runner tokens</h2>
      {created ? <p role="status">New token (shown once, copy it now): <code data-testid="new-token">{created}</code></p> : null}
      {error ? <p role="alert" className="error">{error}</p> : null}
      <form className="row wrap" onSubmit={(e) => void create(e)}>
        <input aria-label="Token name" placeholder="name" value={name} onChange={(e) => setName(e.target.value)} required />
        <input aria-label="Token labels" placeholder="labels, comma separated" value={labels} onChange={(e) => setLabels(e.target.value)} />
        <button type="submit">Create token</button>
      </form>
      <ul>
        {(tokens.state === 'ok' ? tokens.value : []).map((t) => (
          <li key={t.id} className="row" data-testid="runner-token" data-token-name={t.name ?? t.id}>
            <span>{t.name ?? t.id}</span>
            {(t.labels ?? []).map((l) => <span key={l} className="badge">{l}</span>)}
            <span className="muted small">{formatAgo(t.created_at)}</span>
            {t.revoked_at ? <span className="badge">revoked</span> : <button type="button" className="danger" onClick={() => void revoke(t.id)}>Revoke</button>}
          </li>
        ))}
      </ul>
    </section>
  );
}
