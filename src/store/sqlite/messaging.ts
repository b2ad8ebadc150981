import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
import type Database from 'better-sqlite3';
import { TowerError } from '../../protocol/errors.js';
import type {
  AckTarget,
  InboxMessage,
  InboxStatus,
  MessagingChange,
  NewInboxMessage,
  NewThreadMessage,
  Thread,
  ThreadMessage,
  ThreadStatus,
} from '../../protocol/messaging.js';
import type { MessagingStore } from '../types.js';
import type { ConnectionAccess } from './main-writes.js';
import { MessagingStatements, ackKey, changeFromRow, inboxFromRow, positiveLimit, messageFromRow, threadFromRow } from './messaging-rows.js';

/** The store's connection as messaging uses it; `tryWrite` runs a write only if it need not wait (false: not run). */
export interface MessagingAccess extends ConnectionAccess {
  tryWrite(work: () => void): boolean;
}

export interface SqliteMessagingOptions {
  /**
   * How often an idle watcher checks for commits by other connections when nothing woke it. Default 1 s
   * while the database file is watched (writes to it wake the watcher), else 10 ms.
   */
  watchIntervalMs?: number;
  /**
   * How long a busy spell (10 ms polls, the file watch closed) lasts after the last sign of another
   * connection's commit (the file event that began it, or a poll that found data_version moved) before
   * the watcher sleeps on a file watch again (default 1 s).
   */
  busyMs?: number;
}

/** Polling while the file is being written (a busy log writes on every commit: a check per event costs more). */
const POLL_MS = 10;
const BUSY_MS = 1000;
/**
 * A spell whose event no data_version move follows (this process's own commit or checkpoint wrote the
 * file) ends this soon: a foreign commit's last WAL write precedes its visibility by microseconds.
 */
const UNEXPLAINED_MS = 50;
const WATCHED_FALLBACK_MS = 1000;

/** Changes kept after every watcher of this connection has read them, for slower watchers in other processes. */
const CHANGE_RETENTION = 10_000;

/**
 * The messaging half of the SQLite store, on the same connection. Writes by other connections are
 * found by `PRAGMA data_version` (it changes only when another connection commits, and costs no page
 * read), so an idle watcher is one pragma call per tick; the change table says what changed.
 */
export class SqliteMessaging implements MessagingStore {
  private readonly q: MessagingStatements;
  private readonly listeners = new Set<(changes: MessagingChange[]) => void>();
  private timer: NodeJS.Timeout | undefined;
  private cursor = 0;
  private dataVersion = -1;
  private ownWrite = false;
  private immediate: NodeJS.Immediate | undefined;
  private lastPrune = 0;
  private readonly intervalMs: number | undefined;
  private files: FSWatcher | undefined;
  /** Polling every `POLL_MS`, the file watch closed, since a file event; until `busyMs` after the last other commit seen. */
  private busy = false;
  private spellEnd = 0;
  /** When a failed file watch may be tried again (not every tick: it is a syscall that keeps failing). */
  private rewatchAt = 0;
  private readonly busyMs: number;

  /** `file`: the database's path (absent for `:memory:`), whose writes wake watchers instead of a 10 ms poll. */
  constructor(
    private readonly db: Database.Database,
    private readonly access: MessagingAccess,
    opts: SqliteMessagingOptions = {},
    private readonly file?: string,
  ) {
    this.q = new MessagingStatements(db);
    this.intervalMs = opts.watchIntervalMs === undefined ? undefined : Math.max(1, opts.watchIntervalMs);
    this.busyMs = Math.max(0, opts.busyMs ?? BUSY_MS);
  }

  async createThread(t: { id: string; title: string; status?: ThreadStatus }): Promise<Thread> {
    return this.write(() => {
      const now = new Date().toISOString();
      if (this.q.insertThread.run(t.id, t.title, t.status ?? 'active', now, now).changes === 0) {
        throw new TowerError('conflict', `thread ${t.id} already exists`, { thread_id: t.id });
      }
      return this.requireThread(t.id);
    });
  }

  async getThread(id: string): Promise<Thread | undefined> {
    return this.access.read(() => {
      const row = this.q.getThread.get(id);
      return row ? threadFromRow(row) : undefined;
    });
  }

  async listThreads(opts: { status?: ThreadStatus; limit: number }): Promise<Thread[]> {
    return this.access.read(() => {
      const limit = positiveLimit(opts.limit);
      const rows = opts.status ? this.q.listThreadsByStatus.all(opts.status, limit) : this.q.listThreads.all(limit);
      return rows.map(threadFromRow);
    });
  }

  async setThreadStatus(id: string, status: ThreadStatus): Promise<Thread> {
    return this.write(() =>
      this.db.transaction(() => {
        const current = this.requireThread(id);
        if (current.status !== status) this.q.setThreadStatus.run(status, new Date().toISOString(), id);
        return this.requireThread(id);
      }).immediate(),
    );
  }

  async postThreadMessage(threadId: string, m: NewThreadMessage): Promise<{ message: ThreadMessage; thread: Thread }> {
    return this.write(() =>
      this.db.transaction(() => {
        this.requireThread(threadId);
        // message_seq is left NULL: the trigger assigns it, the same way as for external writers.
        const info = this.q.insertMessage.run({
          thread_id: threadId,
          from_type: m.from_type,
          from_id: m.from_id,
          to_type: m.to_type,
          to_id: m.to_id,
          kind: m.kind,
          subject: m.subject ?? null,
          content: m.content,
          metadata_json: m.metadata ? JSON.stringify(m.metadata) : null,
        });
        const row = this.q.messageByPos.get(Number(info.lastInsertRowid));
        if (!row) throw new TowerError('internal', 'inserted thread message not found');
        return { message: messageFromRow(row), thread: this.requireThread(threadId) };
      }).immediate(),
    );
  }

  async readThreadMessages(threadId: string, afterSeq: number, limit: number): Promise<ThreadMessage[]> {
    return this.access.read(() => {
      if (limit <= 0) return [];
      return this.q.readMessages.all(threadId, Math.max(0, afterSeq), Math.floor(limit)).map(messageFromRow);
    });
  }

  async insertInboxMessage(m: NewInboxMessage): Promise<InboxMessage> {
    return this.write(() => {
      const now = new Date().toISOString();
      const info = this.q.insertInbox.run({
        message_id: m.message_id ?? null,
        correlation_id: m.correlation_id ?? null,
        from_agent: m.from_agent,
        to_inbox: m.to_inbox,
        message_type: m.message_type,
        title: m.title,
        payload: m.payload ?? null,
        now,
      });
      const row = this.q.inboxByPos.get(Number(info.lastInsertRowid));
      if (!row) throw new TowerError('internal', 'inserted inbox message not found');
      return inboxFromRow(row);
    });
  }

  async getInboxMessage(id: string): Promise<InboxMessage | undefined> {
    return this.access.read(() => {
      const row = this.q.inboxById.get(id);
      return row ? inboxFromRow(row) : undefined;
    });
  }

  async listInbox(inbox: string, opts: { status?: InboxStatus; limit: number }): Promise<InboxMessage[]> {
    return this.access.read(() => {
      const limit = positiveLimit(opts.limit);
      const rows = opts.status ? this.q.listInboxByStatus.all(inbox, opts.status, limit) : this.q.listInbox.all(inbox, limit);
      return rows.map(inboxFromRow);
    });
  }

  async setInboxStatus(id: string, status: InboxStatus): Promise<InboxMessage> {
    return this.write(() => {
      if (this.q.setInboxStatus.run(status, new Date().toISOString(), id).changes === 0) {
        throw new TowerError('not_found', `No inbox message with id "${id}"`);
      }
      const row = this.q.inboxById.get(id);
      if (!row) throw new TowerError('not_found', `No inbox message with id "${id}"`);
      return inboxFromRow(row);
    });
  }

  async getAck(clientId: string, target: AckTarget): Promise<number> {
    return this.access.read(() => {
      const [kind, ref] = ackKey(target);
      return this.q.getAck.get(clientId, kind, ref) ?? 0;
    });
  }

  async setAck(clientId: string, target: AckTarget, ackSeq: number): Promise<number> {
    if (!Number.isSafeInteger(ackSeq) || ackSeq < 0) throw new TowerError('invalid_request', 'ack_seq must be a non-negative integer');
    return this.access.write(() => {
      const [kind, ref] = ackKey(target);
      return this.q.upsertAck.get(clientId, kind, ref, ackSeq, new Date().toISOString()) ?? ackSeq;
    });
  }

  watch(listener: (changes: MessagingChange[]) => void): () => void {
    this.access.read(() => {
      if (this.listeners.size === 0) {
        this.cursor = this.q.maxChange.get() ?? 0;
        this.dataVersion = this.readDataVersion();
        this.busy = false;
        this.idle(this.watchFiles());
      }
    });
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
      if (this.listeners.size === 0) this.stop();
    };
  }

  /** Stops watching (the store is closing). */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    if (this.immediate) clearImmediate(this.immediate);
    this.files?.close();
    this.timer = undefined;
    this.immediate = undefined;
    this.files = undefined;
    this.busy = false;
  }

  /** Every `ms`, or `intervalMs` when set for an idle watcher (tests). */
  private poll(ms: number): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = setInterval(() => this.tick(), ms);
    this.timer.unref();
  }

  /** The idle poll: slow while the file watch wakes the watcher, fast without one. */
  private idle(watched: boolean): void {
    this.poll(this.intervalMs ?? (watched ? WATCHED_FALLBACK_MS : POLL_MS));
  }

  private tick(): void {
    const moved = this.check(false);
    const now = Date.now();
    if (moved) this.spellEnd = now + this.busyMs;
    if (this.busy && now >= this.spellEnd) {
      // No other connection committed for a while: sleep on a file watch again. A commit between the
      // check above and the new watch would raise no event: one more check once the watch is on.
      this.busy = false;
      const watched = this.watchFiles();
      this.idle(watched);
      if (watched) this.check(false);
    } else if (this.file && !this.files && !this.busy && now >= this.rewatchAt) {
      if (this.watchFiles()) this.idle(true);
      else this.rewatchAt = now + BUSY_MS;
    }
  }

  /**
   * Another connection's commit writes the WAL (or the file): inotify says so, so an idle watcher sleeps
   * instead of polling every 10 ms. The first event closes the watch and starts a busy spell of 10 ms
   * polls: this process's own commits write the file too, one event or more per write (thousands a
   * second under load, each a callback on the loop), and a check per event would cost more than the
   * poll. The spell ends `busyMs` after the last poll that found data_version moved (another
   * connection committed: another process, or this store's writer thread), or `UNEXPLAINED_MS` after
   * its event if none did, so this connection's own commits and checkpoints, which do not move it,
   * cannot keep it going; then a watch opens again (one watch object and two inotify syscalls per spell). The slow poll stays for what a file watch misses (network filesystems).
   */
  private watchFiles(): boolean {
    if (!this.file) return false;
    const names = new Set([basename(this.file), `${basename(this.file)}-wal`]);
    try {
      const files = watch(dirname(this.file), { persistent: false }, (_event, name) => {
        if (name !== null && !names.has(name)) return;
        if (this.files !== files) return;
        files.close();
        this.files = undefined;
        this.spellEnd = Date.now() + Math.min(this.busyMs, UNEXPLAINED_MS);
        this.busy = true;
        this.poll(POLL_MS);
        this.immediate ??= setImmediate(() => {
          this.immediate = undefined;
          this.check(false);
        });
      });
      files.on('error', () => {
        if (this.files !== files) return;
        files.close();
        this.files = undefined;
        // Without the watch nothing wakes an idle watcher: poll fast until a new watch opens.
        if (!this.busy) this.idle(false);
      });
      this.files = files;
      return true;
    } catch {
      return false;
    }
  }

  /**
   * A write, through the store's `MainWrites` (kept off the idle checkpoint's and the writer thread's
   * lock). Own writes do not change data_version: they ask for a check right after the write instead.
   */
  private async write<T>(work: () => T): Promise<T> {
    const result = await this.access.write(work);
    if (this.listeners.size > 0) {
      this.ownWrite = true;
      this.immediate ??= setImmediate(() => {
        this.immediate = undefined;
        this.check(true);
      });
    }
    return result;
  }

  /** Delivers new changes; whether data_version had moved (another connection committed). */
  private check(own: boolean): boolean {
    if (this.listeners.size === 0) return false;
    let moved = false;
    try {
      const version = this.readDataVersion();
      moved = version !== this.dataVersion;
      if (!moved && !(own || this.ownWrite)) return false;
      this.dataVersion = version;
      this.ownWrite = false;
      for (;;) {
        const rows = this.q.changesAfter.all(this.cursor, 500);
        if (rows.length === 0) break;
        this.cursor = rows[rows.length - 1]!.id;
        const changes = rows.map(changeFromRow);
        for (const l of [...this.listeners]) l(changes);
        if (rows.length < 500) break;
      }
      // A write: only when it needs no wait (a later check tries again), never in the busy handler.
      const below = this.cursor - CHANGE_RETENTION;
      if (below > this.lastPrune && this.access.tryWrite(() => this.q.pruneChanges.run(below))) this.lastPrune = this.cursor;
    } catch {
      // A closed or busy database: the next tick tries again; watchers lose nothing (the cursor stays).
    }
    return moved;
  }

  private readDataVersion(): number {
    return Number(this.q.dataVersion.get());
  }

  private requireThread(id: string): Thread {
    const row = this.q.getThread.get(id);
    if (!row) throw new TowerError('not_found', `No thread with id "${id}"`, { thread_id: id });
    return threadFromRow(row);
  }
}
