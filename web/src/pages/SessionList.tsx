import { useState } from 'react';
import type { SessionList as List, SessionStatusBody } from '../api/types.js';
import { useTower } from '../context.js';
import { formatAgo, formatCost, formatTokens } from '../format.js';
import { foldChange, loadRows, type Row, type SessionRows } from '../folds/sessions.js';
import { useLiveList } from '../live/useLiveList.js';
import { Link } from '../router.js';
import { NewSession } from './NewSession.js';
import { arrange, listStatus, type Filter, type SortKey } from './sessionStatus.js';

/** The sessions, live from the hub's `sessions` topic (polled every 1.5 s without the hub). */
export function SessionList() {
  const { api } = useTower();
  const [q, setQ] = useState('');
  const [filter, setFilter] = useState<Filter>('all');
  const [sort, setSort] = useState<SortKey>('updated');
  const [message, setMessage] = useState<string>();
  const { list: loaded, reload, transport } = useLiveList<SessionRows, Row[]>({
    topic: 'sessions',
    pollMs: 1500,
    load: async () => {
      const list = await api.get<List>('/api/sessions?limit=200');
      const running = list.items.filter((s) => s.status === 'running');
      const statuses = new Map<string, SessionStatusBody>();
      await Promise.all(
        running.map(async (s) => {
          try {
            statuses.set(s.id, await api.get<SessionStatusBody>(`/api/sessions/${s.id}/status`));
          } catch {
            // Gone between the list and this read: its deletion comes as a change.
          }
        }),
      );
      return list.items.map((s) => ({ s, status: listStatus(s, statuses.get(s.id)) }));
    },
    merge: loadRows,
    fold: (state, type, data) => (type === 'session_change' ? foldChange(state, data) : state),
  });

  const act = async (what: string, fn: () => Promise<unknown>) => {
    try {
      await fn();
      setMessage(undefined);
      reload();
    } catch (e) {
      setMessage(`${what} failed: ${e instanceof Error ? e.message : String(e)}`);
    }
  };

  const rows = loaded.state === 'ok' ? arrange([...loaded.value.rows.values()], q, filter, sort) : [];
  return (
    <section aria-labelledby="sessions-title">
      <div className="row spread">
        <h1 id="sessions-title">Sessions</h1>
        <NewSession />
      </div>
      <div className="toolbar" role="search">
        <input type="search" placeholder="Search title, model or id" aria-label="Search sessions" value={q} onChange={(e) => setQ(e.target.value)} />
        <label>
          Show{' '}
          <select value={filter} onChange={(e) => setFilter(e.target.value as Filter)} aria-label="Filter sessions">
            {['all', 'starred', 'idle', 'running', 'waiting for approval', 'waiting for an answer'].map((f) => (
              <option key={f}>{f}</option>
            ))}
          </select>
        </label>
        <label>
          Sort by{' '}
          <select value={sort} onChange={(e) => setSort(e.target.value as SortKey)} aria-label="Sort sessions">
            <option value="updated">last update</option>
            <option value="created">created</option>
            <option value="cost">cost</option>
            <option value="tokens">tokens</option>
            <option value="title">title</option>
          </select>
        </label>
      </div>
      {message ? <p role="alert" className="error">{message}</p> : null}
      {loaded.state === 'error' ? <p role="alert" className="error">{loaded.message}</p> : null}
      {loaded.state === 'loading' ? <p className="muted">Loading…</p> : null}
      <table className="sessions" data-testid="sessions" data-transport={transport}>
        <thead>
          <tr>
            <th scope="col">★</th>
            <th scope="col">Title</th>
            <th scope="col">Status</th>
            <th scope="col">Model</th>
            <th scope="col">Tokens</th>
            <th scope="col">Cost</th>
            <th scope="col">Updated</th>
            <th scope="col">Actions</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <SessionRow key={r.s.id} row={r} act={act} />
          ))}
        </tbody>
      </table>
      {loaded.state === 'ok' && rows.length === 0 ? <p className="muted">No sessions{q || filter !== 'all' ? ' match' : ' yet'}.</p> : null}
    </section>
  );
}

function SessionRow({ row: { s, status }, act }: { row: Row; act: (what: string, fn: () => Promise<unknown>) => Promise<void> }) {
  const { api } = useTower();
  const [renaming, setRenaming] = useState<string>();
  const [confirmDelete, setConfirmDelete] = useState(false);
  const exportIt = async () => {
    const res = await api.raw(`/api/sessions/${s.id}/export`);
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    const url = URL.createObjectURL(await res.blob());
    const a = document.createElement('a');
    a.href = url;
    a.download = `tower-${s.id}.json`;
    a.click();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  };
  return (
    <tr data-session-id={s.id}>
      <td>
        <button type="button" className="icon" aria-pressed={s.starred} aria-label={s.starred ? `Unstar ${s.title}` : `Star ${s.title}`}
          onClick={() => void act('Star', () => api.patch(`/api/sessions/${s.id}/starred`, { starred: !s.starred }))}>
          {s.starred ? '★' : '☆'}
        </button>
      </td>
      <td>
        {renaming !== undefined ? (
          <form className="inline" onSubmit={(e) => {
            e.preventDefault();
            if (renaming.trim()) void act('Rename', () => api.patch(`/api/sessions/${s.id}/title`, { title: renaming.trim() })).then(() => setRenaming(undefined));
          }}>
            <input aria-label="New title" autoFocus value={renaming} onChange={(e) => setRenaming(e.target.value)} onKeyDown={(e) => e.key === 'Escape' && setRenaming(undefined)} />
            <button type="submit">Save</button>
          </form>
        ) : (
          <Link to={`/sessions/${s.id}`}>{s.title || s.id}</Link>
        )}
      </td>
      <td><span className={`status status-${status.replace(/ /g, '-')}`}>{status}</span></td>
      <td>{s.model}</td>
      <td>{formatTokens(s.input_tokens + s.output_tokens)}</td>
      <td>{formatCost(s.cost)}</td>
      <td><time dateTime={s.updated_at}>{formatAgo(s.updated_at)}</time></td>
      <td className="actions">
        <button type="button" className="ghost" onClick={() => setRenaming(s.title)}>Rename</button>
        <button type="button" className="ghost" onClick={() => void act('Export', exportIt)}>Export</button>
        {confirmDelete ? (
          <button type="button" className="danger" onClick={() => void act('Delete', () => api.del(`/api/sessions/${s.id}`))} onBlur={() => setConfirmDelete(false)}>
            Confirm delete
          </button>
        ) : (
          <button type="button" className="ghost" onClick={() => setConfirmDelete(true)}>Delete</button>
        )}
      </td>
    </tr>
  );
}
