import type { CommandService } from '../../core/commands/index.js';
import type { Logger } from '../../core/logger.js';
import type { StoredEvent } from '../../protocol/events.js';
import type { SessionRecord } from '../../store/types.js';
import type { SessionPayload } from '../../protocol/pando-bus.js';
import type { InstanceState } from './methods.js';
import { countAtJoin, MAY_WRITE_MESSAGE, type Join } from './join.js';
import { ListTopic, type ListTopicOptions } from './list-topic.js';
import type { BusPublisher } from './publisher.js';
import { RowBatch, type SessionRows } from './row-batch.js';
import { toMessagePayload, toSessionPayload } from './session-view.js';
import { RefreshPacer, SerialRefresh } from './serial-refresh.js';

const TOOL_RESULT_LIMIT = 512;
/** Session refreshes started per event-loop turn (a read and a payload each, ~0.05-0.1 ms). */
const REFRESHES_PER_TURN = 64;
/** How long a join waits for the tap to show events its row already holds, before counting them all as messages. */
const TAP_WAIT_MS = 1000;
const LIST_EVENTS = new Set(['session_created', 'session_title', 'session_updated', 'session_forked', 'model_changed']);
const MESSAGE_EVENTS = new Set(['user_message', 'token_usage', 'tool_call_response', 'stream_stopped']);
/** The topics a session's refresh feeds (session.deleted carries the last row read). */
const STATE_TOPICS = ['session.update', 'message.append', 'session.list', 'session.deleted'] as const;

interface SessionTrack {
  id: string;
  /** Inside a model call (llm.start sent, llm.end not yet). */
  inCall: boolean;
  /** Highest conversation index announced with message.append (undefined: not read yet). */
  announced: number | undefined;
  /** Indices at or below this existed before anything this bus saw (seeds `announced`). */
  floor: number | undefined;
  /** Highest seq the tap has shown for the session. */
  seq: number;
  /**
   * Message events went by unread because nobody wanted what a read feeds: `announced`, the cached row and
   * the listed row are older than the store. The first subscriber's arrival brings them up to date (`join`).
   */
  stale: boolean;
  /** A subscriber came while the track was stale or a read was under way: its refresh goes by the join. */
  join: Join | undefined;
  refresh: SerialRefresh;
}

/**
 * Derives Pando's topics from the committed event batches of every session (EventLog.tap). Streaming
 * topics (llm.*, tool.*) come straight from the events, synchronously, without any await. Topics that
 * need stored state (message.append, session.update, session.list) are read off the event path, one
 * refresh at a time per session and coalesced, so a burst of events costs one read and each change is
 * published once: rows from the store, batched across the sessions due in a turn (`RowBatch`),
 * conversation tails through the command layer. The session list is kept from those same per-session reads
 * (`ListTopic`), never by re-reading every session on a change.
 */
export class TopicDeriver {
  private readonly sessions = new Map<string, SessionTrack>();
  private readonly cache = new Map<string, SessionPayload>();
  private readonly list: ListTopic;
  private closed = false;
  private readonly unwatch: () => void;
  private readonly pacer = new RefreshPacer(REFRESHES_PER_TURN);
  private readonly rowReads: RowBatch;
  /** Whether some subscriber wanted what the reads feed, as of the last interest change. */
  private watching: boolean;

  constructor(
    private readonly commands: CommandService,
    private readonly rows: SessionRows,
    private readonly publisher: BusPublisher,
    private readonly state: InstanceState,
    private readonly logger: Logger,
    listOptions: ListTopicOptions = {},
  ) {
    this.list = new ListTopic(commands, publisher, logger, listOptions);
    this.rowReads = new RowBatch(rows);
    this.watching = this.watched();
    this.unwatch = publisher.onInterest(() => this.interestChanged());
  }

  /** Reads the list once without publishing it, so heartbeats have a count from the first beat. */
  async prime(): Promise<void> {
    // Seeds the cache only at start: afterwards each session's own refresh decides its session.update.
    for (const s of await this.list.prime()) this.cache.set(s.id, toSessionPayload(s));
  }

  get sessionCount(): number {
    return this.list.size;
  }

  /** Re-reads every session for the list now, as the periodic resync does (tests). */
  resyncList(): Promise<void> {
    return this.list.resyncNow();
  }

  onBatch(events: readonly StoredEvent[]): void {
    if (this.closed) return;
    const touched = new Set<SessionTrack>();
    // Tracks whose row a list event changed: read even while nobody watches (the heartbeat's count, the list).
    const listed = new Set<SessionTrack>();
    // Joins whose row held events the tap had not shown yet, now shown.
    const caughtUp = new Set<SessionTrack>();
    for (const event of events) {
      if (event.type === 'session_deleted') {
        this.deleted(event);
        continue;
      }
      const track = this.track(event.session_id);
      track.seq = event.seq;
      const join = track.join;
      if (join && event.seq > join.seq) {
        if (MAY_WRITE_MESSAGE.has(event.type)) join.gap.push({ seq: event.seq, index: event.type === 'user_message' ? event.data.message_index : undefined });
        if (join.waitFor !== undefined && event.seq >= join.waitFor) caughtUp.add(track);
      }
      this.streaming(event, track);
      if (MESSAGE_EVENTS.has(event.type)) touched.add(track);
      if (LIST_EVENTS.has(event.type)) listed.add(track);
      if (event.type === 'session_created') track.floor = -1;
      if (event.type === 'user_message' && track.announced === undefined) {
        const index = event.data.message_index;
        track.floor = Math.min(track.floor ?? index - 1, index - 1);
      }
    }
    const watched = this.watched();
    for (const track of touched) {
      if (watched || listed.has(track) || !this.list.has(track.id)) track.refresh.request();
      else track.stale = true;
    }
    for (const track of listed) track.refresh.request();
    for (const track of caughtUp) track.refresh.request();
    this.list.flush();
  }

  close(): void {
    this.closed = true;
    this.unwatch();
    this.list.close();
  }

  /** Waits until every scheduled refresh has published (tests, shutdown). */
  async settled(): Promise<void> {
    for (;;) {
      const pending = [...this.sessions.values()].map((t) => t.refresh).filter((r) => r.busy);
      if (pending.length === 0 && !this.list.busy) return;
      await Promise.all([...pending.map((r) => r.idle()), this.list.idle()]);
    }
  }

  private track(sessionId: string): SessionTrack {
    let track = this.sessions.get(sessionId);
    if (!track) {
      const created: SessionTrack = {
        id: sessionId, inCall: false, announced: undefined, floor: undefined, seq: 0, stale: false, join: undefined,
        refresh: new SerialRefresh(() => this.refreshSession(sessionId, created), this.logger, this.pacer),
      };
      track = created;
      this.sessions.set(sessionId, track);
    }
    return track;
  }

  private streaming(event: StoredEvent, track: SessionTrack): void {
    const sid = event.session_id;
    switch (event.type) {
      case 'stream_started':
      case 'agent_choice_reasoning':
        this.startCall(sid, track);
        return;
      case 'agent_choice':
        // The hot path (one event per token): nothing is built, not even the payload, unless subscribed.
        this.startCall(sid, track);
        if (this.publisher.wants('llm.token')) this.publisher.publish('llm.token', { session_id: sid, token: event.data.content }, sid);
        return;
      case 'tool_call':
        this.startCall(sid, track);
        this.publisher.publish('tool.start', {
          session_id: sid, tool_name: event.data.tool, call_id: event.data.tool_call_id, params: JSON.stringify(event.data.args ?? {}),
        }, sid);
        return;
      case 'token_usage':
        this.startCall(sid, track);
        track.inCall = false;
        this.publisher.publish('llm.end', { session_id: sid, tokens_in: event.data.input_tokens, tokens_out: event.data.output_tokens }, sid);
        return;
      case 'tool_call_response':
        this.publisher.publish('tool.end', {
          session_id: sid, tool_name: event.data.tool, call_id: event.data.tool_call_id, is_error: event.data.is_error, result: cut(event.data.result),
        }, sid);
        return;
      case 'stream_stopped':
        // A call cut short (interrupt, error) reports no usage: close it with what was counted, nothing.
        if (track.inCall) this.publisher.publish('llm.end', { session_id: sid, tokens_in: 0, tokens_out: 0 }, sid);
        track.inCall = false;
        return;
      default:
    }
  }

  /** Whether some subscriber wants a topic the per-session reads feed. */
  private watched(): boolean {
    return STATE_TOPICS.some((topic) => this.publisher.wants(topic));
  }

  /**
   * A subscriber came or went. When the first one that wants what the reads feed comes, every session whose
   * message events went unread (or whose read is under way, begun for nobody) joins: all of their rows are
   * read at once, right now (SQLite answers within this call), so the list, session.update and
   * message.append go on from the store as it was when the subscriber came. What was committed before is
   * adopted silently; what the tap shows after is announced, even when it is in the row already (`Join`).
   */
  private interestChanged(): void {
    if (this.closed) return;
    const watched = this.watched();
    const came = watched && !this.watching;
    this.watching = watched;
    if (!came) return;
    const joining = [...this.sessions.values()].filter((t) => t.stale || t.refresh.busy);
    if (joining.length === 0) return;
    // A failed read leaves the tracks stale (a refresh that finds no row stops there).
    const read = this.rows.getSessions(joining.map((t) => t.id)).then(
      (rows) => new Map(rows.map((r) => [r.id, r])),
      (err: unknown) => {
        this.logger.debug({ err }, 'bus: join read failed');
        return new Map<string, SessionRecord>();
      },
    );
    for (const track of joining) {
      track.stale = false;
      track.join = { seq: track.seq, row: read.then((rows) => rows.get(track.id)), gap: [] };
      track.refresh.request();
    }
  }

  private startCall(sid: string, track: SessionTrack): void {
    if (track.inCall) return;
    track.inCall = true;
    this.publisher.publish('llm.start', { session_id: sid }, sid);
  }

  private deleted(event: StoredEvent): void {
    const sid = event.session_id;
    const last = this.cache.get(sid) ?? { id: sid, title: '', updated_at: event.timestamp, message_count: 0 };
    this.sessions.get(sid)?.refresh.cancel();
    this.sessions.delete(sid);
    this.cache.delete(sid);
    if (this.state.activeSessionId === sid) this.state.activeSessionId = undefined;
    this.publisher.publish('session.deleted', last, sid);
    this.list.removed(sid);
  }

  /**
   * One session's refresh: its row first (all the list and session.update need; read with the other
   * sessions due in this turn, `RowBatch`), then its conversation only when the row counts messages past
   * the last one announced and somebody wants message.append. A rename, a model change, a title, a fork's
   * or a creation's row, a turn's start: none re-reads the conversation, whose size grows with the session
   * (indices run 0..message_count-1, so the count says whether anything is new).
   */
  private async refreshSession(sessionId: string, track: SessionTrack): Promise<void> {
    if (this.closed || this.sessions.get(sessionId) !== track) return;
    const join = track.join;
    // This read brings the track up to date; events skipped while it runs mark it stale again.
    if (!join) track.stale = false;
    const read = await (join ? join.row : this.rowReads.get(sessionId));
    // No row: deleted (its session_deleted event does the rest) or the join's read failed.
    if (this.sessions.get(sessionId) !== track || !read) {
      if (join && track.join === join) track.join = undefined;
      return;
    }
    // A subscriber came while this read ran: the join's read (the next run) decides what is news.
    if (track.join !== join) return;
    let silent = false;
    if (join) {
      const count = countAtJoin(join, read, track.seq, join.waitFor !== undefined);
      if (count === 'wait') {
        this.awaitTaps(track, join, read.last_event_seq);
        return;
      }
      track.join = undefined;
      track.announced = Math.max(track.announced ?? -1, count - 1);
      // Nothing past the join in the row: what it says changed while nobody watched, which is no news.
      silent = read.last_event_seq <= join.seq;
    }
    const lastIndex = read.message_count - 1;
    // First sight of a session: what it already holds is not news (a session created in view: all is).
    track.announced ??= track.floor ?? lastIndex;
    if (lastIndex > track.announced) {
      // Nobody to announce them to: they are announced (to nobody) without reading them.
      if (!this.publisher.wants('message.append')) track.announced = lastIndex;
      else if (!(await this.announceMessages(sessionId, track))) return;
    }
    this.list.seen(read);
    const session = toSessionPayload(read);
    const before = this.cache.get(sessionId);
    this.cache.set(sessionId, session);
    if (silent) return;
    if (!before || !samePayload(before, session)) this.publisher.publish('session.update', session, sessionId);
  }

  /** The join's row holds events up to `seq` the tap has not shown: refresh again once it has, or after a while. */
  private awaitTaps(track: SessionTrack, join: Join, seq: number): void {
    join.waitFor = seq;
    setTimeout(() => {
      if (track.join === join) track.refresh.request();
    }, TAP_WAIT_MS).unref();
  }

  /** Publishes message.append for each message past the last announced; false when the session went away meanwhile. */
  private async announceMessages(sessionId: string, track: SessionTrack): Promise<boolean> {
    let announced = track.announced ?? -1;
    // Only the tail past what was announced: a long conversation is not re-read at every turn step.
    const list = await this.commands.execute('sessions.messages', { session_id: sessionId, after_index: announced });
    // Gone meanwhile, or a subscriber came during the read: the join decides what is news.
    if (this.sessions.get(sessionId) !== track || track.join) return false;
    for (const stored of list.messages) {
      if (stored.index <= announced) continue;
      announced = stored.index;
      track.announced = announced;
      const message = toMessagePayload(stored);
      if (message) {
        this.publisher.publish('message.append', { session_id: sessionId, message_id: message.id, role: message.role, content: message.content }, sessionId);
      }
    }
    return true;
  }
}

/** The four fields of SessionPayload, compared as they are (not as two JSON texts per session at every turn end). */
function samePayload(a: SessionPayload, b: SessionPayload): boolean {
  return a.id === b.id && a.title === b.title && a.updated_at === b.updated_at && a.message_count === b.message_count;
}

function cut(result: string): string {
  return result.length > TOOL_RESULT_LIMIT ? `${result.slice(0, TOOL_RESULT_LIMIT)}...` : result;
}
