import { useEffect, useRef, useState } from 'react';
import type { InboxMessage, Thread, ThreadMessage, ThreadStatus } from '../api/types.js';
import { useFeed, useTower } from '../context.js';
import { chains, emptyLog, foldInbox, foldMessages, foldThreadState, loadInbox, loadThreads, sortThreads, type Inbox as InboxRows, type ThreadLog, type Threads as ThreadRows } from '../folds/threads.js';
import { formatAgo } from '../format.js';
import { Unavailable } from '../hooks.js';
import type { LiveState } from '../live/feed.js';
import { useLiveList } from '../live/useLiveList.js';

const STATUSES: ThreadStatus[] = ['active', 'paused', 'resolved', 'archived'];

/**
 * Threads with their messages arriving live and their status changes (the hub's `threads` topic and a
 * subscription to the open thread by `from_seq`), and the inboxes with handoffs linked by correlation id.
 */
export function Threads() {
  const { api } = useTower();
  const { list: threads, reload, transport } = useLiveList<ThreadRows, Thread[]>({
    topic: 'threads',
    pollMs: 2000,
    load: async () => (await api.get<{ threads: Thread[] }>('/api/threads')).threads,
    merge: loadThreads,
    fold: (rows, type, data) => (type === 'thread_state' ? foldThreadState(rows, data) : rows),
  });
  const [selected, setSelected] = useState<string>();
  const reread = useRef(new Set<string>());
  const list = threads.state === 'ok' ? sortThreads(threads.value) : [];
  // A thread first seen in a thread_state has no title yet: read the list again once for it.
  const untitled = list.filter((t) => !t.title && !reread.current.has(t.id)).map((t) => t.id);
  useEffect(() => {
    if (untitled.length === 0) return;
    for (const id of untitled) reread.current.add(id);
    reload();
  }, [untitled.join(','), reload]);
  // The first thread shown stays open when newer ones arrive; the reader moves on by choice.
  const first = list[0]?.id;
  useEffect(() => {
    if (selected === undefined && first !== undefined) setSelected(first);
  }, [selected, first]);
  if (threads.state === 'unavailable') return <section><h1>Threads</h1><Unavailable what="Threads and inboxes are" /></section>;
  const current = selected ?? list[0]?.id;
  return (
    <section aria-labelledby="threads-title">
      <h1 id="threads-title">Threads</h1>
      {threads.state === 'error' ? <p role="alert" className="error">{threads.message}</p> : null}
      <div className="split">
        <ul className="thread-list" data-testid="threads" data-transport={transport}>
          {list.map((t) => (
            <li key={t.id} data-thread={t.id}>
              <button type="button" className={t.id === current ? 'selected' : 'ghost'} aria-pressed={t.id === current} onClick={() => setSelected(t.id)}>
                {t.title || t.id} <span className={`status status-${t.status}`} data-testid="thread-status">{t.status}</span>{' '}
                <span className="muted small">{t.last_seq} msg</span>
              </button>
            </li>
          ))}
        </ul>
        {current ? <ThreadMessages key={current} thread={list.find((t) => t.id === current)} id={current} /> : <p className="muted">No threads yet.</p>}
      </div>
      <Inbox />
    </section>
  );
}

/** Follows one thread: over the hub by `from_seq`, else by polling `after_seq`; either way folded by message_seq. */
function useThreadLog(id: string): { log: ThreadLog; live: LiveState; error?: string } {
  const { api } = useTower();
  const feed = useFeed();
  const [log, setLog] = useState(emptyLog);
  const [live, setLive] = useState<LiveState>('connecting');
  const [error, setError] = useState<string>();
  const ref = useRef(log);
  useEffect(() => {
    const apply = (messages: ThreadMessage[]) => {
      ref.current = foldMessages(ref.current, messages);
      setLog(ref.current);
    };
    if (feed.thread) return feed.thread(id, { from: () => ref.current.applied, onMessages: apply, onState: setLive });
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const poll = async () => {
      try {
        const page = await api.get<{ messages: ThreadMessage[] }>(`/api/threads/${encodeURIComponent(id)}/messages?after_seq=${ref.current.applied}`);
        if (stopped) return;
        apply(page.messages);
        setLive('live');
        setError(undefined);
      } catch (e) {
        if (!stopped) setError(e instanceof Error ? e.message : String(e));
      }
      if (!stopped) timer = setTimeout(() => void poll(), 1500);
    };
    void poll();
    return () => {
      stopped = true;
      if (timer) clearTimeout(timer);
    };
  }, [feed, id, api]);
  return { log, live, ...(error ? { error } : {}) };
}

function ThreadMessages({ id, thread }: { id: string; thread: Thread | undefined }) {
  const { api } = useTower();
  const { log, live, error } = useThreadLog(id);
  const [failed, setFailed] = useState<string>();
  const setStatus = async (status: ThreadStatus) => {
    try {
      await api.post(`/api/threads/${encodeURIComponent(id)}/status`, { status });
      setFailed(undefined);
    } catch (e) {
      setFailed(`Status change failed: ${e instanceof Error ? e.message : String(e)}`);
    }
  };
  return (
    <div className="thread">
      <div className="row spread">
        <h2>{thread?.title || id}</h2>
        <label>
          Status{' '}
          <select aria-label="Thread status" value={thread?.status ?? 'active'} onChange={(e) => void setStatus(e.target.value as ThreadStatus)}>
            {STATUSES.map((s) => <option key={s}>{s}</option>)}
          </select>
        </label>
        <span className={`live live-${live}`} data-testid="thread-live">{live === 'live' ? 'live' : live === 'reconnecting' ? 'reconnecting…' : live}</span>
      </div>
      {error ? <p role="alert" className="error">{error}</p> : null}
      {failed ? <p role="alert" className="error">{failed}</p> : null}
      <div role="log" aria-label="Thread messages" data-testid="thread-messages">
        {log.messages.length === 0 ? <p className="muted">No messages yet.</p> : null}
        {log.messages.map((m) => (
          <article key={m.id} className="item" data-seq={m.message_seq} data-testid="thread-message">
            <div className="who">
              {m.from_id} → {m.to_id || m.to_type} <span className="badge">{m.kind}</span> <span className="muted small">{formatAgo(m.created_at)}</span>
            </div>
            {m.subject ? <strong>{m.subject}</strong> : null}
            <div className="content">{m.content}</div>
          </article>
        ))}
      </div>
    </div>
  );
}

/** The human inbox, plus every inbox message seen live, in chains by correlation id (handoffs and their replies). */
function Inbox() {
  const { api } = useTower();
  const { list: inbox } = useLiveList<InboxRows, InboxMessage[]>({
    topic: 'inbox_message',
    pollMs: 2000,
    load: async () => (await api.get<{ messages: InboxMessage[] }>('/api/inbox/human')).messages,
    merge: loadInbox,
    fold: (rows, type, data) => (type === 'inbox_message' ? foldInbox(rows, data) : rows),
  });
  if (inbox.state === 'unavailable') return null;
  const grouped = inbox.state === 'ok' ? chains(inbox.value) : [];
  return (
    <section className="card" aria-labelledby="inbox-title">
      <h2 id="inbox-title">Inboxes</h2>
      {grouped.length === 0 ? <p className="muted">Empty.</p> : null}
      <ul data-testid="inbox">
        {grouped.map((c) => (
          <li key={c.id} data-correlation={c.id}>
            {c.messages.length > 1 ? <p className="muted small">chain {c.id.length > 24 ? `${c.id.slice(0, 12)}…` : c.id}: {c.messages.length} messages</p> : null}
            <ul>
              {c.messages.map((m) => (
                <li key={m.id} id={`inbox-${m.id}`} data-testid="inbox-message">
                  <strong>{m.title || m.message_type}</strong> {m.from_agent} → {m.to_inbox} <span className="badge">{m.message_type}</span> <span className="badge">{m.status}</span>
                  {m.payload ? <div className="content">{m.payload}</div> : null}
                </li>
              ))}
            </ul>
          </li>
        ))}
      </ul>
    </section>
  );
}
