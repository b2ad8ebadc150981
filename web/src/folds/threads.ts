import type { InboxMessage, Thread, ThreadMessage, ThreadStatus } from '../api/types.js';

export type Threads = ReadonlyMap<string, Thread>;

/** A thread_state frame (the hub's `threads` topic, and a thread subscription's state). */
interface ThreadState {
  thread_id: string;
  status: ThreadStatus;
  last_seq: number;
  updated_at: string;
  /** Sent by the hub so a thread created elsewhere shows its title before it is read. */
  title?: string;
  created_at?: string;
}

const isState = (v: unknown): v is ThreadState =>
  typeof v === 'object' && v !== null && typeof (v as ThreadState).thread_id === 'string' && Number.isSafeInteger((v as ThreadState).last_seq);

export function loadThreads(_prev: Threads | undefined, list: readonly Thread[]): Threads {
  return new Map(list.map((t) => [t.id, t]));
}

/**
 * Folds a thread_state: a state older than the row (lower last_seq, or same last_seq and earlier
 * update) is dropped; an unknown thread gets a row without a title until it is read.
 */
export function foldThreadState(threads: Threads, data: unknown): Threads {
  if (!isState(data)) return threads;
  const old = threads.get(data.thread_id);
  if (old && (data.last_seq < old.last_seq || (data.last_seq === old.last_seq && data.updated_at < old.updated_at))) return threads;
  const title = typeof data.title === 'string' ? data.title : old?.title ?? '';
  const createdAt = old?.created_at ?? (typeof data.created_at === 'string' ? data.created_at : data.updated_at);
  if (old && old.title === title && old.status === data.status && old.last_seq === data.last_seq && old.updated_at === data.updated_at) return threads;
  const row: Thread = { id: data.thread_id, title, created_at: createdAt, status: data.status, last_seq: data.last_seq, updated_at: data.updated_at };
  return new Map(threads).set(row.id, row);
}

/** Most recently updated first, as the API lists them. */
export const sortThreads = (threads: Threads): Thread[] =>
  [...threads.values()].sort((a, b) => b.updated_at.localeCompare(a.updated_at) || a.id.localeCompare(b.id));

/** A thread's messages as a fold by message_seq: shown up to the first hole, each once. */
export interface ThreadLog {
  applied: number;
  messages: readonly ThreadMessage[];
  waiting: ReadonlyMap<number, ThreadMessage>;
}

export const emptyLog = (): ThreadLog => ({ applied: 0, messages: [], waiting: new Map() });

export function foldMessages(log: ThreadLog, incoming: readonly ThreadMessage[]): ThreadLog {
  const fresh = incoming.filter((m) => Number.isSafeInteger(m.message_seq) && m.message_seq > log.applied && !log.waiting.has(m.message_seq));
  if (fresh.length === 0) return log;
  const waiting = new Map(log.waiting);
  for (const m of fresh) waiting.set(m.message_seq, m);
  const messages = [...log.messages];
  let applied = log.applied;
  for (let next = waiting.get(applied + 1); next; next = waiting.get(applied + 1)) {
    waiting.delete(applied + 1);
    messages.push(next);
    applied++;
  }
  return { applied, messages, waiting };
}

export type Inbox = ReadonlyMap<string, InboxMessage>;

export function loadInbox(prev: Inbox | undefined, list: readonly InboxMessage[]): Inbox {
  // Messages of other inboxes seen live stay: a read of the human inbox does not list them.
  const next = new Map<string, InboxMessage>();
  for (const m of prev?.values() ?? []) if (m.to_inbox !== 'human') next.set(m.id, m);
  for (const m of list) next.set(m.id, m);
  return next;
}

export function foldInbox(inbox: Inbox, data: unknown): Inbox {
  const m = data as InboxMessage | undefined;
  if (typeof m?.id !== 'string' || typeof m.to_inbox !== 'string') return inbox;
  const old = inbox.get(m.id);
  if (old && old.updated_at > m.updated_at) return inbox;
  return new Map(inbox).set(m.id, m);
}

/** Inbox messages in chains: those sharing a correlation id (a request, its handoffs and replies) together, oldest first. */
export function chains(inbox: Inbox): { id: string; messages: InboxMessage[] }[] {
  const by = new Map<string, InboxMessage[]>();
  const sorted = [...inbox.values()].sort((a, b) => a.created_at.localeCompare(b.created_at) || a.id.localeCompare(b.id));
  for (const m of sorted) {
    const key = m.correlation_id ?? m.message_id ?? m.id;
    const list = by.get(key);
    if (list) list.push(m);
    else by.set(key, [m]);
  }
  // Newest chain first.
  return [...by.entries()].map(([id, messages]) => ({ id, messages })).reverse();
}
