import type { CommandService } from '../../core/commands/index.js';
import type { Logger } from '../../core/logger.js';
import type { StoredEvent } from '../../protocol/events.js';
import type { SessionPayload } from '../../protocol/pando-bus.js';
import type { InstanceState } from './methods.js';
import { ListTopic, type ListTopicOptions } from './list-topic.js';
import type { BusPublisher } from './publisher.js';
import { toMessagePayload, toSessionPayload } from './session-view.js';
import { RefreshPacer, SerialRefresh } from './serial-refresh.js';

const TOOL_RESULT_LIMIT = 512;
/** Session refreshes started per event-loop turn (a read and a payload each, ~0.05-0.1 ms). */
const REFRESHES_PER_TURN = 64;
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
  /**
   * Message events went by unread because nobody wanted what a read feeds: `announced`, the cached row and
   * the listed row are older than the store. The first subscriber's arrival resyncs them (`resync`).
   */
  stale: boolean;
  /** The next refresh adopts the row as read, silently: what changed while nobody watched is no news. */
  resync: boolean;
  refresh: SerialRefresh;
}

/**
 * Derives Pando's topics from the committed event batches of every session (EventLog.tap). Streaming
 * topics (llm.*, tool.*) come straight from the events, synchronously, without any await. Topics that
 * need stored state (message.append, session.update, session.list) are read through the command layer
 * off the event path, one refresh at a time per session and coalesced, so a burst of events costs one
 * read and each change is published once. The session list is kept from those same per-session reads
 * (`ListTopic`), never by re-reading every session on a change.
 */
export class TopicDeriver {
  private readonly sessions = new Map<string, SessionTrack>();
  private readonly cache = new Map<string, SessionPayload>();
  private readonly list: ListTopic;
  private closed = false;
  private readonly unwatch: () => void;
  private readonly pacer = new RefreshPacer(REFRESHES_PER_TURN);

  constructor(
    private readonly commands: CommandService,
    private readonly publisher: BusPublisher,
    private readonly state: InstanceState,
    private readonly logger: Logger,
    listOptions: ListTopicOptions = {},
  ) {
    this.list = new ListTopic(commands, publisher, logger, listOptions);
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
    for (const event of events) {
      if (event.type === 'session_deleted') {
        this.deleted(event);
        continue;
      }
      const track = this.track(event.session_id);
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
        id: sessionId, inCall: false, announced: undefined, floor: undefined, stale: false, resync: false,
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
   * A subscriber came or went. Once one wants what the reads feed, every session whose message events went
   * unread is read once, silently, so that the list, session.update and message.append go on from the store
   * as it is now (as if they had been read all along, with nobody to hear the frames).
   */
  private interestChanged(): void {
    if (this.closed || !this.watched()) return;
    for (const track of this.sessions.values()) {
      if (!track.stale) continue;
      track.stale = false;
      track.resync = true;
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
   * One session's refresh: its row first (all the list and session.update need), then its conversation
   * only when the row counts messages past the last one announced. A rename, a model change, a title, a
   * fork's or a creation's row, a turn's start: none re-reads the conversation, whose size grows with the
   * session (indices run 0..message_count-1, so the count says whether anything is new).
   */
  private async refreshSession(sessionId: string, track: SessionTrack): Promise<void> {
    if (this.closed || this.sessions.get(sessionId) !== track) return;
    // This read brings the track up to date; events skipped while it runs mark it stale again.
    if (!track.resync) track.stale = false;
    const read = await this.commands.execute('sessions.get', { session_id: sessionId });
    if (this.sessions.get(sessionId) !== track) return;
    const lastIndex = read.message_count - 1;
    if (track.resync) {
      track.resync = false;
      track.announced = lastIndex;
      this.list.seen(read);
      this.cache.set(sessionId, toSessionPayload(read));
      return;
    }
    // First sight of a session: what it already holds is not news (a session created in view: all is).
    track.announced ??= track.floor ?? lastIndex;
    if (lastIndex > track.announced && !(await this.announceMessages(sessionId, track))) return;
    this.list.seen(read);
    const session = toSessionPayload(read);
    const before = this.cache.get(sessionId);
    this.cache.set(sessionId, session);
    if (!before || JSON.stringify(before) !== JSON.stringify(session)) this.publisher.publish('session.update', session, sessionId);
  }

  /** Publishes message.append for each message past the last announced; false when the session went away meanwhile. */
  private async announceMessages(sessionId: string, track: SessionTrack): Promise<boolean> {
    let announced = track.announced ?? -1;
    // Only the tail past what was announced: a long conversation is not re-read at every turn step.
    const list = await this.commands.execute('sessions.messages', { session_id: sessionId, after_index: announced });
    if (this.sessions.get(sessionId) !== track) return false;
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

function cut(result: string): string {
  return result.length > TOOL_RESULT_LIMIT ? `${result.slice(0, TOOL_RESULT_LIMIT)}...` : result;
}
