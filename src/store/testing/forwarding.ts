import type { StoredMessage } from '../../protocol/conversation.js';
import type { StoredEvent } from '../../protocol/events.js';
import type { FrameFormat, FramedRows } from '../../protocol/wire-frames.js';
import type { RawStoredEvent } from '../../protocol/wire-json.js';
import type { CommitEntry, CommitResult, SessionPage, SessionRecord, Snapshot, Store } from '../types.js';

/**
 * A Store that forwards every call to another through `call`, so a test wrapper (observing, delaying,
 * failing on the Nth call) overrides one method instead of re-implementing the interface.
 */
export class ForwardingStore implements Store {
  constructor(readonly inner: Store) {}

  /** Every method goes through here; override to intercept all calls at once. */
  protected call<T>(_method: keyof Store, run: () => Promise<T>): Promise<T> {
    return run();
  }

  createSession(s: SessionRecord): Promise<void> {
    return this.call('createSession', () => this.inner.createSession(s));
  }
  getSession(id: string): Promise<SessionRecord | undefined> {
    return this.call('getSession', () => this.inner.getSession(id));
  }
  getSessions(ids: readonly string[]): Promise<SessionRecord[]> {
    return this.call('getSessions', () => this.inner.getSessions(ids));
  }
  listSessions(opts: { limit: number; cursor?: string }): Promise<SessionPage> {
    return this.call('listSessions', () => this.inner.listSessions(opts));
  }
  listSessionIds(): Promise<string[]> {
    return this.call('listSessionIds', () => this.inner.listSessionIds());
  }
  listSessionsWithState(keys: string[]): Promise<string[]> {
    return this.call('listSessionsWithState', () => this.inner.listSessionsWithState(keys));
  }
  commit(entries: CommitEntry[]): Promise<CommitResult[]> {
    return this.call('commit', () => this.inner.commit(entries));
  }
  readEvents(sessionId: string, afterSeq: number, limit: number): Promise<StoredEvent[]> {
    return this.call('readEvents', () => this.inner.readEvents(sessionId, afterSeq, limit));
  }
  readEventsRaw(sessionId: string, afterSeq: number, limit: number): Promise<RawStoredEvent[]> {
    return this.call('readEventsRaw', () => this.inner.readEventsRaw(sessionId, afterSeq, limit));
  }
  readEventFrames(sessionId: string, afterSeq: number, limit: number, format: FrameFormat): Promise<FramedRows> {
    return this.call('readEventFrames', () => this.inner.readEventFrames(sessionId, afterSeq, limit, format));
  }
  lastSeq(sessionId: string): Promise<number | undefined> {
    return this.call('lastSeq', () => this.inner.lastSeq(sessionId));
  }
  listMessages(sessionId: string, afterIndex?: number): Promise<StoredMessage[]> {
    return this.call('listMessages', () => this.inner.listMessages(sessionId, afterIndex));
  }
  snapshot(sessionId: string): Promise<Snapshot | undefined> {
    return this.call('snapshot', () => this.inner.snapshot(sessionId));
  }
  importSession(s: SessionRecord, m: StoredMessage[], e: StoredEvent[]): Promise<void> {
    return this.call('importSession', () => this.inner.importSession(s, m, e));
  }
  getState(sessionId: string, key: string): Promise<string | undefined> {
    return this.call('getState', () => this.inner.getState(sessionId, key));
  }
  setState(sessionId: string, key: string, value: string | undefined): Promise<void> {
    return this.call('setState', () => this.inner.setState(sessionId, key, value));
  }
  compareAndSetState(sessionId: string, key: string, expected: string | undefined, value: string | undefined): Promise<boolean> {
    return this.call('compareAndSetState', () => this.inner.compareAndSetState(sessionId, key, expected, value));
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}
