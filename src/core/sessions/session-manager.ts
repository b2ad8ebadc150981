import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { CreateSessionBody, SessionExport, SnapshotBody, UpdateSessionBody } from '../../protocol/api.js';
import type { StoredMessage } from '../../protocol/conversation.js';
import { TowerError } from '../../protocol/errors.js';
import { Permissions, type Session } from '../../protocol/session.js';
import type { SessionRecord, Store } from '../../store/types.js';
import { SHUTDOWN, TurnWriter, defaultSystemPrompt, runTurn } from '../agent/index.js';
import type { EventLog, EventSubscription } from '../event-log/index.js';
import { newSessionId, newTurnId } from '../ids.js';
import type { Logger } from '../logger.js';
import type { ModelInfo, ModelStepper, StepUsage } from '../models/types.js';
import type { ToolExecutor } from '../tools/types.js';
import { ActiveSessions, type RunningTurn } from './active-sessions.js';
import { recoverInterruptedTurns } from './recovery.js';
import { fallbackTitle } from './titles.js';
import { exportSession, forkSession, importSession } from './transfer.js';

/** What the session manager needs to know about models. */
export interface ModelCatalog {
  has(id: string): boolean;
  list(): ModelInfo[];
  cost(id: string, usage: StepUsage): number;
}

export type TitleGenerator = (model: string, firstMessage: string, signal: AbortSignal) => Promise<string | undefined>;

export interface SessionDefaults {
  workingDir: string;
  model: string;
  maxIterations: number;
  permissions: Permissions;
}

export interface SessionManagerDeps {
  store: Store;
  log: EventLog;
  stepper: ModelStepper;
  executor: ToolExecutor;
  models: ModelCatalog;
  titler?: TitleGenerator;
  logger: Logger;
  defaults: SessionDefaults;
}

interface TurnState extends RunningTurn {
  model: string;
}

/**
 * The only writer of sessions. Every command to a session (create, send, rename, delete, …) goes through
 * here; transports call these methods and translate their errors, nothing else.
 */
export class SessionManager {
  readonly active = new ActiveSessions();
  private closing = false;

  constructor(private readonly deps: SessionManagerDeps) {}

  /** Closes turns the previous process left open. Call once before serving. */
  async start(): Promise<void> {
    await recoverInterruptedTurns(this.deps.store, this.deps.log, this.deps.logger);
  }

  async create(body: CreateSessionBody = {}): Promise<Session> {
    const { defaults } = this.deps;
    const model = body.model ?? defaults.model;
    this.requireModel(model);
    const workingDir = await resolveWorkingDir(body.working_dir ?? defaults.workingDir);
    const now = new Date().toISOString();
    const record: SessionRecord = {
      id: newSessionId(),
      title: body.title ?? '',
      created_at: now,
      updated_at: now,
      working_dir: workingDir,
      model,
      permissions: Permissions.parse({ ...defaults.permissions, ...body.permissions }),
      starred: false,
      input_tokens: 0,
      output_tokens: 0,
      cost: 0,
      message_count: 0,
      last_event_seq: 0,
    };
    await this.deps.store.createSession(record);
    const { event } = await this.deps.log.append(record.id, {
      type: 'session_created',
      data: { title: record.title, model, working_dir: workingDir },
    });
    return this.toSession({ ...record, last_event_seq: event.seq });
  }

  async get(id: string): Promise<Session> {
    return this.toSession(await this.require(id));
  }

  async list(opts: { limit: number; cursor?: string }): Promise<{ items: Session[]; next_cursor?: string }> {
    const page = await this.deps.store.listSessions(opts);
    return { ...page, items: page.items.map((r) => this.toSession(r)) };
  }

  async update(id: string, body: UpdateSessionBody): Promise<Session> {
    if (body.model !== undefined) this.requireModel(body.model);
    const current = await this.require(id);
    const permissions = body.permissions ? Permissions.parse({ ...current.permissions, ...body.permissions }) : undefined;
    const changed = {
      ...(body.title !== undefined ? { title: body.title } : {}),
      ...(body.starred !== undefined ? { starred: body.starred } : {}),
      ...(body.model !== undefined ? { model: body.model } : {}),
    };
    await this.deps.log.append(
      id,
      { type: 'session_updated', data: changed },
      { session: { ...changed, ...(permissions ? { permissions } : {}) } },
    );
    const turn = this.active.turn(id) as TurnState | undefined;
    if (turn && body.model !== undefined) turn.model = body.model;
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

  async messages(id: string): Promise<StoredMessage[]> {
    await this.require(id);
    return this.deps.store.listMessages(id);
  }

  /** Events after `since`, then live. Refuses a `since` ahead of the log: that client has another log. */
  async subscribe(id: string, since: number, signal?: AbortSignal): Promise<EventSubscription> {
    const last = await this.deps.store.lastSeq(id);
    if (last === undefined || this.active.isDeleting(id)) throw unknownSession(id);
    if (since > last) {
      throw new TowerError('invalid_request', `since=${since} is ahead of this session's log (last seq ${last})`);
    }
    return this.deps.log.subscribe(id, since, signal ? { signal } : undefined);
  }

  /** Starts a turn with a user message. Throws `session_busy` while another turn runs. */
  async send(id: string, content: string): Promise<{ seq: number; turn_id: string }> {
    if (this.closing) throw new TowerError('session_busy', 'Tower is shutting down');
    const session = await this.require(id);
    let finish!: () => void;
    const turn: TurnState = {
      turnId: newTurnId(),
      abort: new AbortController(),
      done: new Promise<void>((resolve) => (finish = resolve)),
      model: session.model,
    };
    if (this.active.isDeleting(id)) throw unknownSession(id);
    if (!this.active.claim(id, turn)) {
      throw new TowerError('session_busy', 'A turn is already running in this session; wait for it to end or interrupt it');
    }
    let started: { seq: number; writer: TurnWriter; conversation: StoredMessage['message'][] };
    try {
      started = await this.openTurn(session, turn, content);
    } catch (err) {
      this.active.release(id, turn);
      finish();
      throw err;
    }
    void this.driveTurn(session, turn, started.writer, started.conversation).finally(() => {
      this.active.release(id, turn);
      finish();
    });
    return { seq: started.seq, turn_id: turn.turnId };
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
    const failed: string[] = [];
    for (const id of new Set(ids)) {
      await this.delete(id).catch(() => failed.push(id));
    }
    return { deleted: new Set(ids).size - failed.length, failed };
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
    this.closing = true;
    const turns = this.active.runningTurns();
    for (const [, turn] of turns) turn.abort.abort(SHUTDOWN);
    await Promise.all(turns.map(([, t]) => t.done));
    await this.deps.log.flush();
  }

  toSession(record: SessionRecord): Session {
    return { ...record, status: this.active.turn(record.id) ? 'running' : 'idle' };
  }

  async require(id: string): Promise<SessionRecord> {
    const record = await this.deps.store.getSession(id);
    if (!record) throw unknownSession(id);
    return record;
  }

  private requireModel(model: string): void {
    if (!this.deps.models.has(model)) {
      throw new TowerError('unknown_model', `Unknown model "${model}"; GET /api/models lists the configured ones`);
    }
  }

  private async openTurn(session: SessionRecord, turn: TurnState, content: string) {
    const { store, log } = this.deps;
    await store.setState(session.id, 'active_turn', turn.turnId);
    const conversation = (await store.listMessages(session.id)).map((m) => m.message);
    const writer = new TurnWriter(log, session.id);
    const message = { role: 'user' as const, content };
    conversation.push(message);
    const { event } = await writer.commit(
      { type: 'user_message', data: { content, message_index: conversation.length - 1 } },
      { message },
    );
    writer.emit({ type: 'stream_started', data: { turn_id: turn.turnId, model: turn.model } });
    return { seq: event.seq, writer, conversation };
  }

  private async driveTurn(
    session: SessionRecord,
    turn: TurnState,
    writer: TurnWriter,
    conversation: StoredMessage['message'][],
  ): Promise<void> {
    const { deps } = this;
    const logger = deps.logger.child({ session_id: session.id, turn_id: turn.turnId });
    const firstTurn = session.message_count === 0;
    const reason = await runTurn(
      { stepper: deps.stepper, executor: deps.executor, cost: (m, u) => deps.models.cost(m, u), logger },
      {
        turnId: turn.turnId,
        workingDir: session.working_dir,
        model: () => turn.model,
        system: defaultSystemPrompt(session.working_dir),
        maxIterations: deps.defaults.maxIterations,
        conversation,
        signal: turn.abort.signal,
        writer,
        totals: { input_tokens: session.input_tokens, output_tokens: session.output_tokens, cost: session.cost },
      },
    );
    logger.info({ reason }, 'turn ended');
    await deps.store.setState(session.id, 'active_turn', undefined).catch(() => undefined);
    if (firstTurn && session.title === '' && reason !== 'server_restart') {
      const first = conversation.find((m) => m.role === 'user');
      if (first) this.titleInBackground(session.id, turn.model, first.content);
    }
  }

  /** Titles are made after the first turn, off the turn's critical path: the session is idle meanwhile. */
  private titleInBackground(id: string, model: string, firstMessage: string): void {
    const job = this.active.background(id);
    const { titler, log, logger } = this.deps;
    void (async () => {
      const generated = titler ? await titler(model, firstMessage, job.signal).catch(() => undefined) : undefined;
      if (job.signal.aborted) return;
      // A person may have named the session while the model was thinking: their title wins.
      if ((await this.deps.store.getSession(id))?.title) return;
      const title = generated?.trim() || fallbackTitle(firstMessage);
      await log.append(id, { type: 'session_title', data: { title } }, { session: { title } });
    })()
      .catch((err: unknown) => logger.debug({ err, session_id: id }, 'title not recorded'))
      .finally(job.done);
  }
}

export function unknownSession(id: string): TowerError {
  return new TowerError('unknown_session', `No session with id "${id}"`);
}

async function resolveWorkingDir(dir: string): Promise<string> {
  const abs = path.resolve(dir);
  const info = await stat(abs).catch(() => undefined);
  if (!info?.isDirectory()) {
    throw new TowerError('invalid_request', `working_dir "${dir}" is not an existing directory`);
  }
  return abs;
}
