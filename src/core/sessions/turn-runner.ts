import type { ConversationMessage } from '../../protocol/conversation.js';
import { TowerError } from '../../protocol/errors.js';
import type { StopReason } from '../../protocol/events.js';
import type { SessionRecord } from '../../store/types.js';
import { StepEnds, TurnWriter, defaultSystemPrompt, runTurn } from '../agent/index.js';
import type { SteerBatch } from '../agent/turn-types.js';
import { PendingRequests } from '../elicitation/index.js';
import { newTurnId } from '../ids.js';
import type { ActiveSessions } from './active-sessions.js';
import { createGate } from './approvals.js';
import type { SessionClaim } from './claim.js';
import { isQueueConflict, type QueueEffects, type QueueSet, type SessionQueues } from './queues.js';
import { createSessionTools } from './session-tools.js';
import { openMcpTools } from './mcp-turn.js';
import type { McpHost } from '../mcp/index.js';
import type { SessionManagerDeps, TitleGenerator } from './deps.js';
import { fallbackTitle, limitTitler } from './titles.js';
import { settingsOf } from './records.js';
import type { TurnState } from './turn-state.js';

/** A user message that opens a turn; queued ones carry their item id. */
export interface OpeningMessage {
  content: string;
  item_id?: string;
}

/**
 * Runs turns: claims the session, writes the opening messages, drives the agent loop in the
 * background, and when a turn ends starts the next queued one (steered leftovers first, then one
 * follow-up), so queued work never waits for a client to come back.
 */
export class TurnRunner {
  closing = false;
  /** The deps' titler behind a concurrency limit: many first turns ending at once queue their titles. */
  private readonly titler: TitleGenerator | undefined;
  /** One pacer for all of this runner's turns: a burst of step ends is spread over loop turns. */
  private readonly stepEnds = new StepEnds();
  /** Paces the turns going on after a shared commit (TurnWriter's `wakes`), apart from the step ends. */
  private readonly commitWakes = new StepEnds();

  constructor(
    private readonly deps: SessionManagerDeps,
    private readonly active: ActiveSessions,
    private readonly queues: SessionQueues,
    private readonly claims: SessionClaim,
    private readonly mcp: McpHost,
  ) {
    this.titler = deps.titler && limitTitler(deps.titler);
  }

  /**
   * Claims the session and starts a turn. Synchronous up to the claim, so no other command can slip in
   * between a caller's checks and it. Throws `session_busy` if a turn runs.
   */
  async start(
    session: SessionRecord,
    opening: OpeningMessage[],
    queueEffects?: QueueEffects,
  ): Promise<{ seq: number; turn_id: string }> {
    if (this.closing) throw new TowerError('session_busy', 'Tower is shutting down');
    let finish!: () => void;
    const turn: TurnState = {
      sessionId: session.id,
      turnId: newTurnId(),
      abort: new AbortController(),
      done: new Promise<void>((resolve) => (finish = resolve)),
      model: session.model,
      permissions: session.permissions,
      toolContext: settingsOf(session),
      queues: { steer: [], followup: [], keys: [] },
      confirmations: new PendingRequests(),
      elicitations: new PendingRequests(),
      replaced: false,
    };
    if (this.active.isDeleting(session.id)) throw new TowerError('unknown_session', `No session with id "${session.id}"`);
    if (!this.active.claim(session.id, turn)) {
      throw new TowerError('session_busy', 'A turn is already running in this session; wait for it to end or interrupt it');
    }
    const unpin = this.queues.pin(session.id);
    let claimed = false;
    // The queue copy stays pinned past the turn's end until the drain below has read it: unpinned first,
    // an idle copy would be evicted and the drain would read its three rows back from the store only to
    // find them empty (three reads and parses per turn end, 500 at once when many turns end together).
    const letGo = (): void => {
      this.active.release(session.id, turn);
      if (claimed) {
        this.claims.release(session.id, turn.turnId).catch((err: unknown) => this.deps.logger.error({ err, session_id: session.id }, 'claim release failed'));
      }
      finish();
    };
    let opened: { seq: number; writer: TurnWriter; conversation: ConversationMessage[] };
    try {
      claimed = await this.claims.claim(session.id, turn.turnId);
      if (!claimed) throw new TowerError('session_busy', 'A turn is already running in this session (elsewhere); wait for it to end');
      turn.queues = await this.queues.load(session.id);
      opened = await this.open(session, turn, opening, queueEffects);
    } catch (err) {
      letGo();
      unpin();
      throw err;
    }
    void this.drive(session, turn, opened.writer, opened.conversation)
      .catch((err: unknown) => this.deps.logger.error({ err, session_id: session.id }, 'turn crashed'))
      .finally(() => {
        letGo();
        if (turn.replaced) unpin();
        else this.drainSoon(session.id, unpin);
      });
    return { seq: opened.seq, turn_id: turn.turnId };
  }

  /** Starts the next queued turn if the session is idle: steered leftovers first, then one follow-up. */
  async drain(sessionId: string): Promise<void> {
    if (this.closing || this.active.turn(sessionId) || this.active.isDeleting(sessionId)) return;
    try {
      // Another node runs the session: it drains the queue when its turn ends (and holds the fresh copy).
      if (await this.claims.heldElsewhere?.(sessionId)) return;
      // In a cluster another node may have queued items this node's copy does not show (it enqueued them
      // while this node ran the turn): decide from the store's rows, not the copy.
      if (this.queues.shared) await this.queues.reload(sessionId);
      await this.queues.change(sessionId, (set) => this.drainSet(sessionId, set));
    } catch (err) {
      // A store error here must not become an unhandled rejection: the queue stays durable and drains
      // at the next turn end, follow-up or start.
      this.deps.logger.error({ err, session_id: sessionId }, 'could not read the queue of a session');
    }
  }

  /** Drains in the background; `done` (an unpin) runs once the drain has settled. */
  private drainSoon(sessionId: string, done?: () => void): void {
    this.drain(sessionId)
      .catch((err: unknown) => this.deps.logger.error({ err, session_id: sessionId }, 'queue drain failed'))
      .finally(done);
  }

  private async drainSet(sessionId: string, set: QueueSet): Promise<void> {
    const session = set.steer.length || set.followup.length ? await this.deps.store.getSession(sessionId) : undefined;
    if (!session || this.closing || this.active.turn(sessionId) || this.active.isDeleting(sessionId)) return;
    const fromSteer = set.steer.length > 0;
    const queue = fromSteer ? set.steer : set.followup;
    const taken = fromSteer ? set.steer.splice(0) : set.followup.splice(0, 1);
    try {
      await this.queues.commit(
        set,
        [fromSteer ? 'steer' : 'followup'],
        (effects) => this.start(session, taken.map((i) => ({ content: i.content, item_id: i.item_id })), effects),
        // Not delivered: back to the head of the queue, nothing lost.
        () => queue.unshift(...taken),
      );
    } catch (err) {
      if (isQueueConflict(err)) throw err; // `change` reloads the queue and tries again
      this.deps.logger.warn({ err, session_id: sessionId }, 'could not start a queued turn');
    }
  }

  private async open(
    session: SessionRecord,
    turn: TurnState,
    opening: OpeningMessage[],
    queueEffects: QueueEffects | undefined,
  ) {
    const { store, log } = this.deps;
    const conversation = (await store.listMessages(session.id)).map((m) => m.message);
    // `active_turn` closes with the turn's stream_stopped, in the same transaction.
    const writer = new TurnWriter(log, session.id, { endState: { active_turn: null }, wakes: this.commitWakes });
    // The opening messages, `stream_started` and the durable `active_turn` marker commit in one
    // transaction: after a crash the log either shows the whole opening or nothing of this turn.
    const items = opening.map((item, i) => {
      const message: ConversationMessage = { role: 'user', content: item.content };
      conversation.push(message);
      return {
        event: {
          type: 'user_message' as const,
          data: {
            content: item.content,
            message_index: conversation.length - 1,
            ...(item.item_id ? { queue_item_id: item.item_id } : {}),
          },
        },
        effects: {
          message,
          ...(i === 0 ? { state: { ...queueEffects?.state, active_turn: turn.turnId }, ...(queueEffects ? { expect_state: queueEffects.expect_state } : {}) } : {}),
        },
      };
    });
    const results = await log.appendAll(session.id, [
      ...items,
      { event: { type: 'stream_started', data: { turn_id: turn.turnId, model: turn.model } } },
    ]);
    return { seq: results[0]?.event.seq ?? 0, writer, conversation };
  }

  private async drive(session: SessionRecord, turn: TurnState, writer: TurnWriter, conversation: ConversationMessage[]) {
    const { deps } = this;
    const logger = deps.logger.child({ session_id: session.id, turn_id: turn.turnId });
    const firstTurn = session.message_count === 0;
    let reason: StopReason;
    try {
      const mcp = await openMcpTools(this.mcp, session, turn, writer, deps.log, logger);
      reason = await runTurn(
        {
          stepper: deps.stepper,
          executor: deps.executorFor?.(session, deps.executor) ?? deps.executor,
          cost: (m, u) => deps.models.cost(m, u),
          logger,
          stepEnds: this.stepEnds,
        },
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
          toolContext: turn.toolContext,
          hooks: {
            takeSteering: (record) => this.takeSteering(turn, record),
            hasSteering: () => turn.queues.steer.length > 0,
            gate: createGate(turn, deps.log, session.working_dir),
            sessionTools: createSessionTools(turn, deps.log, mcp ? [mcp] : []),
          },
        },
      );
    } finally {
      turn.confirmations.cancelAll('the turn ended');
      turn.elicitations.cancelAll('the turn ended');
    }
    logger.info({ reason }, 'turn ended');
    if (firstTurn && session.title === '' && reason !== 'server_restart') {
      const first = conversation.find((m) => m.role === 'user');
      if (first) this.titleInBackground(session.id, turn.model, first.content);
    }
  }

  /**
   * Hands the turn's steered messages to `record` with the guarded queue write. Another node changing the
   * steer queue meanwhile (a conflict) reloads it and takes again, through `queues.change`.
   */
  private async takeSteering(turn: TurnState, record: (batch: SteerBatch) => Promise<void>): Promise<void> {
    if (!turn.queues.steer.length) return;
    await this.queues.change(turn.sessionId, async (set) => {
      if (!set.steer.length) return;
      const items = set.steer.splice(0);
      await this.queues.commit(set, ['steer'], (effects) => record({ items, effects }), () => set.steer.unshift(...items));
    });
  }

  /** Titles are made after the first turn, off the turn's critical path: the session is idle meanwhile. */
  private titleInBackground(id: string, model: string, firstMessage: string): void {
    const job = this.active.background(id);
    const { log, logger, store } = this.deps;
    const titler = this.titler;
    void (async () => {
      const generated = titler ? await titler(model, firstMessage, job.signal).catch(() => undefined) : undefined;
      if (job.signal.aborted) return;
      // A person may have named the session while the model was thinking: their title wins.
      if ((await store.getSession(id))?.title) return;
      const title = generated?.trim() || fallbackTitle(firstMessage);
      await log.append(id, { type: 'session_title', data: { title } }, { session: { title } });
    })()
      .catch((err: unknown) => logger.debug({ err, session_id: id }, 'title not recorded'))
      .finally(job.done);
  }
}
