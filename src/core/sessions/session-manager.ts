import type {
  CreateSessionBody,
  SessionExport,
  SnapshotBody,
  UpdateSessionBody,
} from '../../protocol/api.js';
import type { StoredMessage } from '../../protocol/conversation.js';
import { TowerError } from '../../protocol/errors.js';
import { withRedactedMcp } from '../../protocol/mcp-secrets.js';
import type { Session } from '../../protocol/session.js';
import type { SessionRecord } from '../../store/types.js';
import { SHUTDOWN } from '../agent/index.js';
import type { EventSink, EventSubscription, FramedSink, SinkSubscription, SubscribeOptions } from '../event-log/index.js';
import { McpHost, type McpSelector } from '../mcp/index.js';
import { ActiveSessions } from './active-sessions.js';
import { HeadReads } from './head-reads.js';
import type { ExecutorSelector, SessionManagerDeps } from './deps.js';
import { InProcessSessionClaim, type SessionClaim } from './claim.js';
import { SessionControl } from './control.js';
import { SessionQueues } from './queues.js';
import { recoverInterruptedTurns } from './recovery.js';
import { buildSessionRecord, planUpdate } from './records.js';
import { exportSession, forkSession, importSession } from './transfer.js';
import { TurnRunner } from './turn-runner.js';

export type { ExecutorSelector, ModelCatalog, SessionDefaults, SessionManagerDeps, TitleGenerator } from './deps.js';
import type { TurnState } from './turn-state.js';

/**
 * The only writer of sessions. Every command to a session (create, send, steer, interrupt, approve,
 * delete, …) goes through here; transports call these methods and translate their errors, nothing else.
 * Control of running turns (queues, interrupt, approvals, questions) is in `SessionControl`.
 */
export class SessionManager {
  readonly active = new ActiveSessions();
  readonly queues: SessionQueues;
  readonly turns: TurnRunner;
  readonly control: SessionControl;
  /** MCP servers of every session: listed at each turn's start, run here or on the session's runner. */
  readonly mcp: McpHost;

  private readonly claims: SessionClaim;
  private readonly heads: HeadReads;

  constructor(private readonly deps: SessionManagerDeps) {
    this.heads = new HeadReads((id) => deps.store.lastSeq(id));
    this.claims = deps.claims ?? new InProcessSessionClaim();
    // A claim that can be held elsewhere means other nodes share the queue rows.
    this.queues = new SessionQueues(deps.store, deps.logger, this.claims.heldElsewhere !== undefined);
    const { mcpServers, mcpListTimeoutMs, mcpListCacheMs, mcpSandbox } = deps.defaults;
    this.mcp = new McpHost({
      defaults: mcpServers ?? [],
      logger: deps.logger,
      ...(mcpSandbox ? { sandbox: mcpSandbox } : {}),
      ...(mcpListTimeoutMs !== undefined ? { listTimeoutMs: mcpListTimeoutMs } : {}),
      ...(mcpListCacheMs !== undefined ? { listCacheMs: mcpListCacheMs } : {}),
    });
    this.turns = new TurnRunner(deps, this.active, this.queues, this.claims, this.mcp);
    this.control = new SessionControl(deps, this);
  }

  /**
   * Closes turns the previous process left open, then delivers what was queued before it stopped. Both
   * visit only the sessions that need it (one store query each), so start-up cost follows open turns
   * and queued work, not the number of sessions. Must run under the data-dir lock (see server/). With a
   * cluster claim (`deps.claims`), a session is recovered only by the node that takes its claim, so turns
   * other nodes run are left alone.
   */
  async start(): Promise<void> {
    await recoverInterruptedTurns(this.deps.store, this.deps.log, this.deps.logger, this.deps.claims ? { claims: this.claims } : {});
    for (const id of await SessionQueues.pendingSessions(this.deps.store)) await this.turns.drain(id);
  }

  /**
   * Takes over sessions another node left (it died, its lease expired): the same recovery as a restart,
   * under the session's claim, then its queued work is delivered here. A session running here, or
   * claimed by someone else meanwhile, is left alone. Returns the sessions whose turn this closed.
   */
  async takeOver(ids: readonly string[]): Promise<string[]> {
    const closed: string[] = [];
    for (const id of ids) {
      if (this.active.turn(id) || this.active.isDeleting(id) || this.turns.closing) continue;
      // Whatever this node remembered of the queues is older than the store's (the owner changed them).
      this.queues.forget(id);
      const n = await recoverInterruptedTurns(this.deps.store, this.deps.log, this.deps.logger, { sessions: [id], claims: this.claims });
      if (n > 0) closed.push(id);
      await this.turns.drain(id);
    }
    return closed;
  }

  /**
   * Stops the session's running turn here because this node lost its claim (another node owns the
   * session now): the turn ends as at a shutdown, and the fence keeps it from writing anything more.
   */
  abandon(id: string): void {
    this.turnOf(id)?.abort.abort(SHUTDOWN);
  }

  async create(body: CreateSessionBody = {}): Promise<Session> {
    if (body.model !== undefined) this.requireModel(body.model);
    const record = await buildSessionRecord(body, this.deps.defaults);
    this.requireModel(record.model);
    // The row and its first event in one transaction: a session exists with its log or not at all.
    const { event } = await this.deps.log.append(
      record.id,
      { type: 'session_created', data: { title: record.title, model: record.model, working_dir: record.working_dir } },
      { create_session: record },
    );
    return this.toSession({ ...record, last_event_seq: event.seq });
  }

  /** Installs (or, with undefined, removes) the per-session executor choice; applies from the next turn. */
  routeTools(selector: ExecutorSelector | undefined): void {
    this.deps.executorFor = selector;
  }

  /** Installs (or removes) the choice of where a session's MCP servers run (a runner); applies from the next turn. */
  routeMcp(selector: McpSelector | undefined): void {
    this.mcp.route(selector);
  }

  async get(id: string): Promise<Session> {
    return this.toSession(await this.require(id));
  }

  async list(opts: { limit: number; cursor?: string }): Promise<{ items: Session[]; next_cursor?: string }> {
    const page = await this.deps.store.listSessions(opts);
    return { ...page, items: page.items.map((r) => this.toSession(r)) };
  }

  /** Renames, stars, switches the model (from the next model step) or changes permissions. */
  async update(id: string, body: UpdateSessionBody): Promise<Session> {
    if (body.model !== undefined) this.requireModel(body.model);
    const current = await this.require(id);
    const turn = this.turnOf(id);
    const plan = planUpdate(current, body, turn?.permissions);
    await Promise.all(plan.events.map((e) => this.deps.log.append(id, e.event, e.effects)));
    if (turn && plan.model) turn.model = plan.model;
    if (turn && plan.permissions) turn.permissions = plan.permissions;
    // The same object the running turn hands to each tool call: replaced in place, read at the next call.
    if (turn && plan.settings) {
      delete turn.toolContext.sandbox;
      delete turn.toolContext.network;
      delete turn.toolContext.mcp;
      Object.assign(turn.toolContext, plan.settings);
    }
    return this.get(id);
  }

  /** Stops a running turn, then deletes the session with its conversation and log. */
  async delete(id: string): Promise<void> {
    await this.require(id);
    const turn = this.active.beginDelete(id);
    let deleted = false;
    try {
      if (turn) {
        turn.abort.abort();
        await turn.done;
      }
      await this.deps.log.append(id, { type: 'session_deleted', data: {} }, { delete_session: true });
      deleted = true;
      this.queues.forget(id);
      await this.mcp.local.forget(id);
    } finally {
      this.active.endDelete(id, deleted);
    }
  }

  async snapshot(id: string): Promise<SnapshotBody> {
    const snap = await this.deps.store.snapshot(id);
    if (!snap) throw unknownSession(id);
    return {
      session: this.toSession(snap.session),
      messages: snap.messages,
      streaming: this.active.turn(id) !== undefined,
      last_event_seq: snap.session.last_event_seq,
    };
  }

  /** The conversation; with `afterIndex`, only the messages past it. */
  async messages(id: string, afterIndex?: number): Promise<StoredMessage[]> {
    await this.require(id);
    return this.deps.store.listMessages(id, afterIndex);
  }

  /** Events after `since`, then live. Refuses a `since` ahead of the log: that client has another log. */
  async subscribe(id: string, since: number, signal?: AbortSignal): Promise<EventSubscription> {
    await this.checkSince(id, since);
    return this.deps.log.subscribe(id, since, signal ? { signal } : undefined);
  }

  /** `subscribe` pushed into a sink (what transports serve subscribers with); same checks. */
  async subscribeSink(id: string, since: number, sink: EventSink | FramedSink, opts?: SubscribeOptions): Promise<SinkSubscription> {
    await this.checkSince(id, since);
    return this.deps.log.subscribeSink(id, since, sink, opts);
  }

  private async checkSince(id: string, since: number): Promise<void> {
    // Subscribers of one session connecting together: what the log holds for the first ones answers
    // for the rest without a store read each. On a lossy bus it holds nothing (a lost delete would let a
    // deleted session through); there the burst shares one store read.
    const known = this.deps.log.knownHead(id);
    if (known !== undefined && since <= known && !this.active.isDeleting(id)) return;
    const last = await this.heads.lastSeq(id);
    if (last === undefined || this.active.isDeleting(id)) throw unknownSession(id);
    if (since > last) {
      throw new TowerError('invalid_request', `since=${since} is ahead of this session's log (last seq ${last})`);
    }
  }

  /** Starts a turn with a user message. Throws `session_busy` while another turn runs. */
  async send(id: string, content: string): Promise<{ seq: number; turn_id: string }> {
    const session = await this.require(id);
    return this.turns.start(session, [{ content }]);
  }

  async export(id: string): Promise<SessionExport> {
    const data = await exportSession(this.deps.store, id);
    if (!data) throw unknownSession(id);
    return data;
  }

  async import(data: SessionExport): Promise<Session> {
    return this.toSession(await importSession(this.deps.store, data));
  }

  async fork(id: string, messageIndex: number): Promise<Session> {
    return this.toSession(await forkSession(this.deps.store, this.deps.log, id, messageIndex));
  }

  async batchDelete(ids: string[]): Promise<{ deleted: number; failed: string[] }> {
    const unique = [...new Set(ids)];
    const failed: string[] = [];
    for (const id of unique) await this.delete(id).catch(() => failed.push(id));
    return { deleted: unique.length - failed.length, failed };
  }

  async batchExport(ids: string[]): Promise<{ sessions: SessionExport[]; missing: string[] }> {
    const sessions: SessionExport[] = [];
    const missing: string[] = [];
    for (const id of new Set(ids)) {
      const data = await exportSession(this.deps.store, id);
      if (data) sessions.push(data);
      else missing.push(id);
    }
    return { sessions, missing };
  }

  /** Resolves when the session is idle or after `timeoutMs`; true if idle. */
  waitIdle(id: string, timeoutMs: number): Promise<boolean> {
    return this.active.waitIdle(id, timeoutMs);
  }

  /** Ends every running turn (as `server_restart`) and waits for them to be recorded. */
  async shutdown(): Promise<void> {
    this.turns.closing = true;
    const turns = this.active.runningTurns();
    for (const [, turn] of turns) turn.abort.abort(SHUTDOWN);
    await Promise.all(turns.map(([, t]) => t.done));
    await this.mcp.close();
    await this.deps.log.flush();
  }

  /** A row as clients see it: MCP secrets redacted (only the MCP clients get them). */
  toSession(record: SessionRecord): Session {
    return { ...withRedactedMcp(record), status: this.active.turn(record.id) ? 'running' : 'idle' };
  }

  async require(id: string): Promise<SessionRecord> {
    const record = await this.deps.store.getSession(id);
    if (!record) throw unknownSession(id);
    return record;
  }

  turnOf(id: string): TurnState | undefined {
    return this.active.turn(id) as TurnState | undefined;
  }

  requireModel(model: string): void {
    if (!this.deps.models.has(model)) {
      throw new TowerError('unknown_model', `Unknown model "${model}"; the models list (models.list) names the configured ones`);
    }
  }
}

export function unknownSession(id: string): TowerError {
  return new TowerError('unknown_session', `No session with id "${id}"`);
}
