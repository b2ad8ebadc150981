import { useEffect, useRef, useState } from 'react';
import type { InboxMessage, Thread, ThreadMessage } from '../api/types.js';
import { useTower } from '../context.js';
import { formatAgo } from '../format.js';
import { Unavailable, usePoll } from '../hooks.js';

/** Threads with their messages arriving live, and the human inbox with handoffs linked by correlation id. */
export function Threads() {
  const { api } = useTower();
  const [threads] = usePoll(async () => (await api.get<{ threads: Thread[] }>('/api/threads')).threads, 2000);
  const [selected, setSelected] = useState<string>();
  if (threads.state === 'unavailable') return <section><h1>Threads</h1><Unavailable what="Threads and inboxes are" /></section>;
  const list = threads.state === 'ok' ? threads.value : [];
  const current = selected ?? list[0]?.id;
  return (
    <section aria-labelledby="threads-title">
      <h1 id="threads-title">Threads</h1>
      {threads.state === 'error' ? <p role="alert" className="error">{threads.message}</p> : null}
      <div className="split">
        <ul className="thread-list" data-testid="threads">
          {list.map((t) => (
            <li key={t.id}>
              <button type="button" className={t.id === current ? 'selected' : 'ghost'} aria-pressed={t.id === current} onClick={() => setSelected(t.id)}>
                {t.title || t.id} <span className={`status status-${t.status}`}>{t.status}</span>
              </button>
            </li>
          ))}
        </ul>
        {current ? <ThreadMessages key={current} id={current} /> : <p className="muted">No threads yet.</p>}
      </div>
      <Inbox />
    </section>
  );
}

function ThreadMessages({ id }: { id: string }) {
  const { api } = useTower();
  const [messages, setMessages] = useState<ThreadMessage[]>([]);
  const after = useRef(0);
  // Read on from the last message_seq seen: each message shows once whatever the polling overlaps.
  const [state] = usePoll(async () => {
    const page = await api.get<{ messages: ThreadMessage[] }>(`/api/threads/${encodeURIComponent(id)}/messages?after_seq=${after.current}`);
    const fresh = page.messages.filter((m) => m.message_seq > after.current);
    if (fresh.length) {
      after.current = Math.max(...fresh.map((m) => m.message_seq));
      setMessages((prev) => [...prev, ...fresh]);
    }
    return true;
  }, 1500, [id]);
  useEffect(() => {
    after.current = 0;
  }, [id]);
  return (
    <div className="thread" role="log" aria-label="Thread messages" data-testid="thread-messages">
      {state.state === 'error' ? <p role="alert" className="error">{state.message}</p> : null}
      {messages.map((m) => (
        <article key={m.id} className="item" data-seq={m.message_seq}>
          <div className="who">
            {m.from_id} → {m.to_id} <span className="badge">{m.kind}</span> <span className="muted small">{formatAgo(m.created_at)}</span>
          </div>
          {m.subject ? <strong>{m.subject}</strong> : null}
          <div className="content">{m.content}</div>
        </article>
      ))}
    </div>
  );
}

function Inbox() {
  const { api } = useTower();
  const [inbox] = usePoll(async () => (await api.get<{ messages: InboxMessage[] }>('/api/inbox/human')).messages, 2000);
  if (inbox.state === 'unavailable') return null;
  const messages = inbox.state === 'ok' ? inbox.value : [];
  const byCorrelation = new Map<string, number>();
  for (const m of messages) if (m.correlation_id) byCorrelation.set(m.correlation_id, (byCorrelation.get(m.correlation_id) ?? 0) + 1);
  return (
    <section className="card" aria-labelledby="inbox-title">
      <h2 id="inbox-title">Inbox: human</h2>
      {messages.length === 0 ? <p className="muted">Empty.</p> : null}
      <ul>
        {messages.map((m) => (
          <li key={m.id} id={`inbox-${m.id}`}>
            <strong>{m.title}</strong> from {m.from_agent} <span className="badge">{m.status}</span>
            {m.correlation_id ? <span className="badge" title="handoff chain">chain {m.correlation_id.slice(0, 8)} ({byCorrelation.get(m.correlation_id)})</span> : null}
            {m.payload ? <div className="content">{m.payload}</div> : null}
          </li>
        ))}
      </ul>
    </section>
  );
}
