import { useMemo, useState } from 'react';
import type { Session } from '../api/types.js';
import { Approvals } from '../components/Approvals.js';
import { Chart } from '../components/Chart.js';
import { Composer } from '../components/Composer.js';
import { ModelSwitcher } from '../components/ModelSwitcher.js';
import { QuestionForm } from '../components/QuestionForm.js';
import { Transcript } from '../components/Transcript.js';
import { useTower } from '../context.js';
import { formatCost, formatTokens } from '../format.js';
import { usePoll } from '../hooks.js';
import type { LiveState, Transport } from '../live/feed.js';
import { navigate } from '../router.js';
import type { Item } from '../transcript/items.js';
import { useTranscript } from '../transcript/useTranscript.js';

export function SessionView({ id }: { id: string }) {
  const { api } = useTower();
  const { state, live, transport } = useTranscript(id);
  const [session] = usePoll(() => api.get<Session>(`/api/sessions/${encodeURIComponent(id)}`), 10_000, [id]);
  const [error, setError] = useState<string>();
  const [showChart, setShowChart] = useState(false);
  const pendingTools = state.pendingConfirmations
    .map((tc) => state.items[state.toolIndex[tc] ?? -1])
    .filter((i): i is Extract<Item, { kind: 'tool' }> => i?.kind === 'tool');
  const questions = state.pendingQuestions
    .map((q) => state.items[state.questionIndex[q] ?? -1])
    .filter((i): i is Extract<Item, { kind: 'question' }> => i?.kind === 'question');
  const fork = async (messageIndex: number) => {
    try {
      const s = await api.post<Session>(`/api/sessions/${encodeURIComponent(id)}/fork`, { message_index: messageIndex });
      navigate(`/sessions/${s.id}`);
    } catch (e) {
      setError(`Fork failed: ${e instanceof Error ? e.message : String(e)}`);
    }
  };
  const chart = useMemo(() => {
    const x = state.usage.map((u) => u.t);
    return {
      x,
      speed: [{ label: 'tokens/s', values: state.usage.map((u) => u.tokensPerSecond), stroke: '#3b82f6' }],
      cost: [{ label: 'cost ($)', values: state.usage.map((u) => u.totalCost), stroke: '#f59e0b' }],
    };
  }, [state.usage]);
  if (session.state === 'error' && !state.applied) return <p role="alert" className="error">{session.message}</p>;
  const status = pendingTools.length ? 'waiting for approval' : questions.length ? 'waiting for an answer' : state.streaming ? 'running' : 'idle';
  return (
    <section className="session" aria-labelledby="session-title">
      <div className="row spread wrap">
        <h1 id="session-title">{state.title || (session.state === 'ok' ? session.value.title : '') || 'New session'}</h1>
        <LiveBadge live={live} transport={transport} />
      </div>
      <div className="row wrap meta">
        <span className={`status status-${status.replace(/ /g, '-')}`} data-testid="session-status">{status}</span>
        <ModelSwitcher id={id} current={state.model} />
        <span>{formatTokens(state.totals.input)} in · {formatTokens(state.totals.output)} out · {formatCost(state.totals.cost)}</span>
        {session.state === 'ok' ? <span className="muted">{session.value.working_dir} · {session.value.permissions.policy}</span> : null}
        <button type="button" className="ghost" aria-expanded={showChart} onClick={() => setShowChart(!showChart)}>Telemetry</button>
      </div>
      {state.deleted ? <p role="alert" className="error">This session was deleted.</p> : null}
      {error ? <p role="alert" className="error">{error}</p> : null}
      {showChart ? (
        <div className="charts">
          <Chart title="Tokens per second" x={chart.x} series={chart.speed} />
          <Chart title="Cost over time" x={chart.x} series={chart.cost} />
        </div>
      ) : null}
      <Transcript items={state.items} onFork={(i) => void fork(i)} />
      <Approvals id={id} pending={pendingTools} />
      {questions.map((q) => <QuestionForm key={q.elicitationId} id={id} question={q} />)}
      <Composer id={id} state={state} />
    </section>
  );
}

/** The feed's state; `data-transport` says whether it comes over the hub or SSE (the title says it too). */
export function LiveBadge({ live, transport }: { live: LiveState; transport: Transport }) {
  const text = live === 'live' ? 'live' : live === 'reconnecting' ? 'reconnecting…' : live === 'connecting' ? 'connecting…' : 'offline';
  return <span className={`live live-${live}`} role="status" data-testid="live-state" data-transport={transport} title={`over ${transport === 'hub' ? 'the hub' : 'SSE'}`}>{text}</span>;
}
