import type {
  ConfirmationBody,
  ElicitationBody,
  FollowupAccepted,
  InterruptResult,
  OnBusy,
  QueueItem,
  QueueState,
  SendResult,
  SessionModels,
  SessionStatusBody,
  SteerAccepted,
} from '../../protocol/api.js';
import { TowerError } from '../../protocol/errors.js';
import type { QueueName } from '../../protocol/events.js';
import { validateElicitationContent } from '../elicitation/index.js';
import { answerConfirmation } from './approvals.js';
import { FOLLOWUP_CAPACITY, STEER_CAPACITY, SessionQueues, type QueueSet } from './queues.js';
import type { SessionRecord } from '../../store/types.js';
import type { ActiveSessions } from './active-sessions.js';
import type { SessionManagerDeps } from './deps.js';
import type { TurnRunner } from './turn-runner.js';
import type { TurnState } from './turn-state.js';

/** What control needs of the session manager: a narrow view, so the two modules do not import each other. */
export interface ControlHost {
  readonly active: ActiveSessions;
  readonly queues: SessionQueues;
  readonly turns: Pick<TurnRunner, 'drain'>;
  require(id: string): Promise<SessionRecord>;
  turnOf(id: string): TurnState | undefined;
  send(id: string, content: string): Promise<{ seq: number; turn_id: string }>;
  waitIdle(id: string, timeoutMs: number): Promise<boolean>;
}

/**
 * Commands to a session while it works: steer, follow-up, interrupt, approvals, answers to questions.
 * Each one is recorded in the session's log, and every queue change is persisted in the same
 * transaction as the event that announces it.
 */
export class SessionControl {
  constructor(
    private readonly deps: SessionManagerDeps,
    private readonly manager: ControlHost,
  ) {}

  /** Injects messages into the running turn before its next model call. */
  async steer(id: string, contents: string[]): Promise<SteerAccepted> {
    await this.manager.require(id);
    if (!this.manager.active.turn(id)) {
      throw new TowerError('session_idle', 'No turn is running: send the message instead of steering');
    }
    return this.manager.queues.change(id, async (set) => {
      if (set.steer.length + contents.length > STEER_CAPACITY) {
        throw new TowerError('steer_queue_full', `The steer queue holds ${STEER_CAPACITY} messages; retry after the next model call`);
      }
      const items = await this.enqueue(id, set, 'steer', contents);
      // The turn may have ended while we waited: its leftovers open the next turn instead of being lost.
      if (!this.manager.active.turn(id)) this.drainSoon(id);
      return { item_ids: items.map((i) => i.item_id), depth: set.steer.length };
    });
  }

  /**
   * Queues messages that each get a turn of their own once the current one ends (FIFO); when idle the
   * first starts at once. An idempotency key makes the call safe to retry; reusing one with a different
   * body is refused with `idempotency_key_reused`, not mistaken for a retry.
   */
  async followup(id: string, contents: string[], idempotencyKey?: string): Promise<FollowupAccepted> {
    await this.manager.require(id);
    return this.manager.queues.change(id, async (set) => {
      const fingerprint = SessionQueues.fingerprint(contents);
      const known = idempotencyKey !== undefined ? SessionQueues.findKey(set, idempotencyKey) : undefined;
      if (known) {
        if (known.fingerprint !== undefined && known.fingerprint !== fingerprint) {
          throw new TowerError(
            'idempotency_key_reused',
            'This Idempotency-Key was already used with a different request body; use a new key for a new request',
          );
        }
        return { status: 'duplicate', item_ids: [], depth: set.followup.length };
      }
      if (set.followup.length + contents.length > FOLLOWUP_CAPACITY) {
        throw new TowerError('followup_queue_full', `The follow-up queue holds ${FOLLOWUP_CAPACITY} messages`);
      }
      const streaming = this.manager.active.turn(id) !== undefined;
      // The key is reserved with the items (same tick), so concurrent retries see it; released if delivery fails.
      const key = idempotencyKey !== undefined ? { key: idempotencyKey, fingerprint } : undefined;
      const items = await this.enqueue(id, set, 'followup', contents, key);
      this.drainSoon(id);
      return { status: streaming ? 'queued_streaming' : 'queued_idle', item_ids: items.map((i) => i.item_id), depth: set.followup.length };
    });
  }

  /** Fire-and-forget start of queued work: a failure is logged, never left as an unhandled rejection. */
  private drainSoon(id: string): void {
    this.manager.turns.drain(id).catch((err: unknown) => this.deps.logger.error({ err, session_id: id }, 'queue drain failed'));
  }

  /** A send that says what to do if a turn is running: refuse, queue as a follow-up, or interrupt it. */
  async send(id: string, content: string, onBusy: OnBusy): Promise<SendResult> {
    if (onBusy === 'enqueue' && this.manager.active.turn(id)) return this.followup(id, [content]);
    if (onBusy === 'interrupt') await this.interrupt(id, { replace: true });
    try {
      return await this.manager.send(id, content);
    } catch (err) {
      // The interrupted turn left the queue to this send; if the send failed the queue must move on.
      if (onBusy === 'interrupt') this.drainSoon(id);
      // The turn ended between the check and the send: still what the caller asked for.
      if (onBusy === 'enqueue' && err instanceof TowerError && err.code === 'session_busy') return this.followup(id, [content]);
      throw err;
    }
  }

  async queue(id: string): Promise<QueueState> {
    await this.manager.require(id);
    return this.manager.queues.use(id, (set) => SessionQueues.describe(set));
  }

  /**
   * Aborts the model call and every running tool, records `stream_stopped {reason: canceled}` and returns
   * once the session is ready for the next message. Queued follow-ups still run after it (a queue never
   * stalls); `clearQueue` drops them first. Interrupting an idle session is a no-op answer.
   * `replace` (a send with on_busy: interrupt) keeps the queue from starting a turn before the caller's.
   */
  async interrupt(id: string, opts: { clearQueue?: boolean; replace?: boolean } = {}): Promise<InterruptResult> {
    await this.manager.require(id);
    const turn = this.manager.turnOf(id);
    if (opts.clearQueue) await this.clearQueues(id);
    if (!turn) return { interrupted: false };
    if (opts.replace) turn.replaced = true;
    turn.abort.abort();
    await turn.done;
    return { interrupted: true, turn_id: turn.turnId };
  }

  async confirm(id: string, toolCallId: string, body: ConfirmationBody): Promise<void> {
    await this.manager.require(id);
    await answerConfirmation(this.manager.turnOf(id), this.deps.log, toolCallId, body);
  }

  async answerElicitation(id: string, elicitationId: string, body: ElicitationBody): Promise<void> {
    await this.manager.require(id);
    const turn = this.manager.turnOf(id);
    if (!turn) throw new TowerError('not_found', `No pending question with elicitation_id "${elicitationId}"`);
    const pending = turn.elicitations.list().find((p) => p.elicitation_id === elicitationId);
    let content = body.content;
    if (pending && body.action === 'accept') {
      const checked = validateElicitationContent(pending.schema, body.content ?? {});
      if (!checked.ok) throw new TowerError('invalid_request', `The answer does not match the question's schema: ${checked.message}`);
      content = checked.value as Record<string, unknown>;
    }
    const answer = { action: body.action, ...(content && body.action === 'accept' ? { content } : {}) };
    turn.elicitations.resolve(elicitationId, answer); // not_found / conflict before anything is written
    await this.deps.log.append(id, { type: 'elicitation_resolved', data: { elicitation_id: elicitationId, action: body.action } });
  }

  /** Flips auto-approve: every call no deny rule stops runs without asking. */
  async toggleAutoApprove(id: string): Promise<{ auto_approve: boolean }> {
    const session = await this.manager.require(id);
    const turn = this.manager.turnOf(id);
    const current = turn?.permissions ?? session.permissions;
    const permissions = { ...current, auto_approve: !current.auto_approve };
    if (turn) turn.permissions = permissions;
    await this.deps.log.append(id, { type: 'permissions_changed', data: { permissions } }, { session: { permissions } });
    return { auto_approve: permissions.auto_approve };
  }

  /** The session's live state; with `waitMs`, first waits (bounded) for the running turn to end. */
  async status(id: string, waitMs = 0): Promise<SessionStatusBody> {
    await this.manager.require(id);
    if (waitMs > 0) await this.manager.waitIdle(id, waitMs);
    const session = await this.manager.require(id);
    const turn = this.manager.turnOf(id);
    const depth = await this.manager.queues.use(id, (set) => ({ steer: set.steer.length, followup: set.followup.length }));
    return {
      session_id: id,
      status: turn ? 'running' : 'idle',
      ...(turn ? { turn_id: turn.turnId } : {}),
      model: turn?.model ?? session.model,
      last_event_seq: session.last_event_seq,
      pending_confirmations: turn?.confirmations.list() ?? [],
      pending_elicitations: turn?.elicitations.list() ?? [],
      queue: depth,
    };
  }

  async sessionModels(id: string): Promise<SessionModels> {
    const session = await this.manager.require(id);
    const current = this.manager.turnOf(id)?.model ?? session.model;
    const models = this.deps.models.list().map((m) => ({ ...m, current: m.id === current }));
    if (!models.some((m) => m.current)) {
      const [provider = '', ...rest] = current.split('/');
      models.push({ id: current, provider, name: rest.join('/'), current: true });
    }
    return { current, models };
  }

  private async enqueue(
    id: string,
    set: QueueSet,
    queue: QueueName,
    contents: string[],
    key?: { key: string; fingerprint: string },
  ): Promise<QueueItem[]> {
    const items = SessionQueues.newItems(contents);
    if (key) SessionQueues.remember(set, key.key, key.fingerprint);
    set[queue].push(...items);
    const depthAfter = set[queue].length;
    const rollback = (): void => {
      for (const item of items) {
        const at = set[queue].indexOf(item);
        if (at >= 0) set[queue].splice(at, 1);
      }
      if (key) SessionQueues.forgetKey(set, key.key);
    };
    await this.manager.queues.commit(
      set,
      key ? [queue, 'keys'] : [queue],
      // One transaction: the events and the rows they announce commit (or conflict) together.
      (effects) =>
        this.deps.log.appendAll(
          id,
          items.map((item, i) => ({
            event: { type: 'message_queued', data: { queue, item_id: item.item_id, content: item.content, depth: depthAfter - items.length + i + 1 } },
            ...(i === items.length - 1 ? { effects } : {}),
          })),
        ),
      rollback,
    );
    return items;
  }

  private async clearQueues(id: string): Promise<void> {
    await this.manager.queues.change(id, (set) => this.clearSet(id, set));
  }

  private async clearSet(id: string, set: QueueSet): Promise<void> {
    for (const queue of ['steer', 'followup'] as const) {
      if (!set[queue].length) continue;
      const removed = set[queue].splice(0);
      await this.manager.queues.commit(
        set,
        [queue],
        (effects) => this.deps.log.append(id, { type: 'queue_cleared', data: { queue, item_ids: removed.map((i) => i.item_id) } }, effects),
        () => set[queue].unshift(...removed),
      );
    }
  }
}
