import type { SessionPayload } from '../../protocol/pando-bus.js';
import type { Session } from '../../protocol/session.js';
import { toSessionPayload } from './session-view.js';

/** What the list keeps of a session: a `Session` as listed, or its stored row as the bus reads it. */
export type ListedSession = Pick<Session, 'id' | 'title' | 'created_at' | 'updated_at' | 'message_count'>;

interface Row {
  /** The store's listing key: newest first by created_at, then id (both descending). */
  created_at: string;
  payload: SessionPayload;
}

/**
 * The bus's copy of the session list, in the store's order, kept up to date one session at a time (a
 * session read after its own events, a deletion) instead of re-reading every session on each change.
 * `upsert` and `remove` say whether what `session.list` publishes changed: membership, order or a title
 * (message counts and update times ride along in the payloads but alone are no reason to publish).
 * A full read (`replace`) is the start-up seed and the periodic safety net for sessions that appear without
 * an event this process sees (imports, other nodes of a cluster).
 */
export class SessionList {
  private readonly rows = new Map<string, Row>();
  /** Ids newest first; rebuilt lazily after a change of membership. */
  private ordered: string[] | undefined = [];
  /** Ids changed one at a time since a full read began: that read must not undo them. */
  private changedDuringRead: Set<string> | undefined;

  get size(): number {
    return this.rows.size;
  }

  get(id: string): SessionPayload | undefined {
    return this.rows.get(id)?.payload;
  }

  /** Records the session as just read; true when the published list changes (new session, new title). */
  upsert(session: ListedSession): boolean {
    this.changedDuringRead?.add(session.id);
    return this.put(session);
  }

  /** Forgets a deleted session; true when it was listed. */
  remove(id: string): boolean {
    this.changedDuringRead?.add(id);
    if (!this.rows.delete(id)) return false;
    this.ordered = undefined;
    return true;
  }

  /** Marks the start of a full read; pass what it returned to `replace`. */
  beginRead(): void {
    this.changedDuringRead = new Set();
  }

  abandonRead(): void {
    this.changedDuringRead = undefined;
  }

  /**
   * Takes a full read's sessions as the list, except the ids changed one at a time while it ran (their
   * newer state stays). True when the published list changed.
   */
  replace(sessions: readonly ListedSession[]): boolean {
    const keep = this.changedDuringRead ?? new Set<string>();
    this.changedDuringRead = undefined;
    let changed = false;
    const seen = new Set<string>();
    for (const s of sessions) {
      seen.add(s.id);
      if (!keep.has(s.id) && this.put(s)) changed = true;
    }
    for (const id of [...this.rows.keys()]) {
      if (!seen.has(id) && !keep.has(id)) {
        this.rows.delete(id);
        this.ordered = undefined;
        changed = true;
      }
    }
    return changed;
  }

  /** The payloads newest first, as `session.list` carries them. */
  payloads(): SessionPayload[] {
    this.ordered ??= [...this.rows.entries()].sort(([a, ra], [b, rb]) => newestFirst(ra.created_at, a, rb.created_at, b)).map(([id]) => id);
    return this.ordered.map((id) => this.rows.get(id)!.payload);
  }

  private put(session: ListedSession): boolean {
    const payload = toSessionPayload(session);
    const row = this.rows.get(session.id);
    if (!row) {
      this.rows.set(session.id, { created_at: session.created_at, payload });
      this.ordered = undefined;
      return true;
    }
    const changed = row.payload.title !== payload.title || row.created_at !== session.created_at;
    if (row.created_at !== session.created_at) this.ordered = undefined;
    row.created_at = session.created_at;
    row.payload = payload;
    return changed;
  }
}

function newestFirst(aCreated: string, aId: string, bCreated: string, bId: string): number {
  if (aCreated !== bCreated) return aCreated < bCreated ? 1 : -1;
  return aId < bId ? 1 : aId > bId ? -1 : 0;
}
