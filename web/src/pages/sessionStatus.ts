import type { Session, SessionStatusBody } from '../api/types.js';

export type ListStatus = 'idle' | 'running' | 'waiting for approval' | 'waiting for an answer';

export function listStatus(s: Session, status: SessionStatusBody | undefined): ListStatus {
  if (s.status !== 'running') return 'idle';
  if (status?.pending_confirmations.length) return 'waiting for approval';
  if (status?.pending_elicitations.length) return 'waiting for an answer';
  return 'running';
}

export type SortKey = 'updated' | 'created' | 'cost' | 'tokens' | 'title';
export type Filter = 'all' | 'starred' | ListStatus;

export function arrange(rows: { s: Session; status: ListStatus }[], q: string, filter: Filter, sort: SortKey) {
  const needle = q.trim().toLowerCase();
  const kept = rows.filter(({ s, status }) => {
    if (filter === 'starred' && !s.starred) return false;
    if (filter !== 'all' && filter !== 'starred' && status !== filter) return false;
    return !needle || s.title.toLowerCase().includes(needle) || s.model.toLowerCase().includes(needle) || s.id.includes(needle);
  });
  const by: Record<SortKey, (a: Session, b: Session) => number> = {
    updated: (a, b) => b.updated_at.localeCompare(a.updated_at),
    created: (a, b) => b.created_at.localeCompare(a.created_at),
    cost: (a, b) => b.cost - a.cost,
    tokens: (a, b) => b.input_tokens + b.output_tokens - (a.input_tokens + a.output_tokens),
    title: (a, b) => a.title.localeCompare(b.title),
  };
  return kept.sort((a, b) => by[sort](a.s, b.s));
}
