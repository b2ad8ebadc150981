import type { ConversationMessage, ToolCallPart } from '../../protocol/conversation.js';
import type { StopReason } from '../../protocol/events.js';
import type { Logger } from '../logger.js';
import type { ModelStepper, StepPart, StepPartIterator, StepUsage } from '../models/types.js';
import type { RunnerRef, ToolExecutor } from '../../protocol/tools.js';
import { runToolCalls } from './tool-calls.js';
import type { TurnInput } from './turn-types.js';
import { invalidToolArgs } from './tool-args.js';

export interface TurnDeps {
  stepper: ModelStepper;
  executor: ToolExecutor;
  /** USD cost of one step's usage on a model. */
  cost(model: string, usage: StepUsage): number;
  logger: Logger;
  /** Paces step ends when many come at once (`StepEnds`); absent, every step end goes on at once. */
  stepEnds?: { admit(): Promise<void> | undefined };
}

interface StepOutcome {
  /**
   * The step's text and reasoning as the runs appended, joined only in `recordStep`: after the step-end
   * pacer let the end go on, not in the burst of stream ends that many turns ending together make.
   */
  texts: string[];
  reasonings: string[];
  toolCalls: ToolCallPart[];
  /** Calls whose arguments were refused (too deep, too large), with the result the model gets. */
  invalid: Map<string, string>;
  /** Calls the executor placed on a remote runner as they were recorded (named in their `tool_call`). */
  placements: Map<string, RunnerRef>;
  usage?: StepUsage;
  error?: { code: string; message: string };
}

/**
 * Runs one turn: model step, tool calls, repeat, until the model stops, the iteration budget runs out, an
 * error or an abort. Always appends `stream_stopped` last (unless the store itself failed) and keeps the
 * conversation valid for the next turn: every tool call it recorded has exactly one result.
 */
export async function runTurn(deps: TurnDeps, input: TurnInput): Promise<StopReason> {
  const { writer, signal } = input;
  const log = deps.logger.child({ session_id: writer.sessionId, turn_id: input.turnId });
  let reason: StopReason = 'max_iterations';
  try {
    for (let iteration = 0; iteration < input.maxIterations; iteration++) {
      if (signal.aborted) return (reason = cancelReason(signal));
      await injectSteering(input);
      const model = input.model();
      const outcome = await streamStep(deps, input, model);
      const admitted = deps.stepEnds?.admit();
      if (admitted) await admitted;
      await recordStep(deps, input, model, outcome);
      // Once the assistant message with its tool calls is recorded, every call gets a result, even if
      // the turn was interrupted meanwhile (runToolCalls records those as canceled).
      if (outcome.toolCalls.length > 0) {
        const completed = await runToolCalls(deps.executor, input, outcome.toolCalls, outcome.invalid, outcome.placements);
        if (!completed) return (reason = cancelReason(signal));
        continue;
      }
      if (signal.aborted) return (reason = cancelReason(signal));
      if (outcome.error) return (reason = 'error');
      // A steer that arrived after the last model call still belongs to this turn.
      if (input.hooks?.hasSteering?.()) continue;
      return (reason = 'normal');
    }
    return reason;
  } catch (err) {
    if (signal.aborted) return (reason = cancelReason(signal));
    log.error({ err }, 'turn failed');
    reason = 'error';
    if (!writer.failed) {
      writer.emit({ type: 'error', data: { code: 'internal', message: errorMessage(err) } });
    }
    return reason;
  } finally {
    if (!writer.failed) {
      const carry = input.carry;
      await writer
        .commit({ type: 'stream_stopped', data: { turn_id: input.turnId, reason } }, carry ? { message: carry } : undefined)
        .catch((err: unknown) => {
        log.error({ err }, 'could not record the end of the turn');
      });
    }
  }
}

/**
 * Steered messages go in before the next model call. The hook takes them from its queue and hands them to
 * `record`, which commits them (with the batch's queue effects) in one group after everything emitted
 * before; a refused group changes nothing here (the writer stays usable), so the hook may read its
 * queue again and retry.
 */
async function injectSteering(input: TurnInput): Promise<void> {
  const take = input.hooks?.takeSteering;
  if (!take) return;
  await take(async (batch) => {
    if (!batch.items.length) return;
    await input.writer.settle();
    const base = input.conversation.length;
    const items = batch.items.map((item, i) => {
      const message: ConversationMessage = { role: 'user', content: item.content };
      const last = i === batch.items.length - 1;
      return {
        event: {
          type: 'user_message' as const,
          data: { content: item.content, message_index: base + i, steered: true, queue_item_id: item.item_id },
        },
        effects: { message, ...(last && batch.effects ? batch.effects : {}) },
      };
    });
    await input.writer.tryCommitAll(items);
    for (const item of items) input.conversation.push(item.effects.message);
  });
}

/**
 * A coalesced delta stays well under the log's entry size limit, however large the provider's chunks:
 * past this, the run is appended and a new one starts.
 */
const MAX_RUN_CHARS = 64 * 1024;

async function streamStep(deps: TurnDeps, input: TurnInput, model: string): Promise<StepOutcome> {
  // The step's whole text, joined once at its end (`recordStep`): a `+=` per token would keep a rope node
  // per token alive for the whole step (old-generation garbage, once the step ends).
  const texts: string[] = [];
  const reasonings: string[] = [];
  const out: StepOutcome = { texts, reasonings, toolCalls: [], invalid: new Map(), placements: new Map() };
  const sessionTools = input.hooks?.sessionTools?.specs() ?? [];
  const tools = [...deps.executor.specs(), ...sessionTools];
  const { writer } = input;
  // Deltas of one kind taken back to back (the stepper's backlog, see `StepPartIterator.takeReady`) are
  // appended as one event: one row, frame and publication for the run instead of one per delta. A part
  // of another kind (a tool call, reasoning after text) closes the run first, so order is kept.
  // The run as two locals, not an object per delta (this is the per-token path).
  let runType: 'text' | 'reasoning' | undefined;
  let runDelta = '';
  // The step's text grows by whole runs as they are appended, so what an abort drops (a run not yet
  // appended) is in neither the events nor the message.
  const flush = (): void => {
    if (runType === undefined) return;
    const data = { content: runDelta };
    if (runType === 'text') {
      texts.push(runDelta);
      writer.emit({ type: 'agent_choice', data });
    } else {
      reasonings.push(runDelta);
      writer.emit({ type: 'agent_choice_reasoning', data });
    }
    runType = undefined;
    runDelta = '';
  };
  const take = (part: StepPart): void => {
    if (part.type === 'text' || part.type === 'reasoning') {
      if (runType === part.type && runDelta.length + part.delta.length <= MAX_RUN_CHARS) runDelta += part.delta;
      else {
        flush();
        runType = part.type;
        runDelta = part.delta;
      }
      return;
    }
    flush();
    switch (part.type) {
      case 'tool_call': {
        const invalid = invalidToolArgs(part.args);
        const args = invalid ? {} : part.args;
        if (invalid) out.invalid.set(part.id, invalid);
        out.toolCalls.push({ id: part.id, name: part.name, args });
        const ownTool = sessionTools.some((t) => t.name === part.name);
        const runner = invalid || ownTool ? undefined : deps.executor.place?.({ name: part.name, args }, input.toolContext);
        if (runner) out.placements.set(part.id, runner);
        writer.emit({ type: 'tool_call', data: { tool_call_id: part.id, tool: part.name, args, ...(runner ? { runner } : {}) } });
        break;
      }
      case 'finish':
        out.usage = part.usage;
        break;
      case 'error':
        out.error = { code: part.code, message: part.message };
        break;
    }
  };
  const parts: StepPartIterator = deps.stepper
    .step({ model, system: input.system, messages: input.conversation, tools, signal: input.signal })
    [Symbol.asyncIterator]();
  // As `for await`: an iterator left early (abort) is told so (`return`: the request is cancelled).
  let ended = false;
  // Read per part: a flag set by the abort, not `signal.aborted`, whose getter's brand check showed in profiles.
  const { signal } = input;
  let aborted = signal.aborted;
  const onAbort = (): void => {
    aborted = true;
  };
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    if (parts.drain) {
      // Push mode: each part is taken as it arrives, each arrival's run appended as one event.
      await parts.drain({
        item: take,
        batch: () => {
          flush();
          // Backpressure: a model faster than the store waits here instead of queueing without bound.
          return writer.full ? writer.waitForRoom() : undefined;
        },
      });
      ended = true;
      // The parts of the arrival the abort cut short are dropped, as the pull loop below drops them.
      if (aborted) runType = undefined;
      else flush();
    } else {
      for (;;) {
        const next = await parts.next();
        if (next.done) {
          ended = true;
          break;
        }
        if (aborted) break;
        take(next.value);
        for (let ready = parts.takeReady?.(); ready !== undefined; ready = parts.takeReady?.()) take(ready);
        flush();
        // Backpressure: a model faster than the store waits here instead of queueing without bound.
        if (writer.full) await writer.waitForRoom();
      }
    }
  } catch (err) {
    // Not `ended`: a throw from `take` leaves the stream running, and `return` on an iterator whose
    // `next` threw is harmless, so the finally below ends it either way.
    if (!signal.aborted) out.error = { code: 'model_error', message: errorMessage(err) };
  } finally {
    signal.removeEventListener('abort', onAbort);
    if (!ended) await parts.return?.();
  }
  return out;
}

/** Writes the assistant message (and usage) of a finished, failed or interrupted step. */
async function recordStep(deps: TurnDeps, input: TurnInput, model: string, outcome: StepOutcome): Promise<void> {
  const { writer, conversation } = input;
  const interrupted = input.signal.aborted || outcome.error !== undefined;
  // A step cut short keeps its text but not its tool calls: they never ran, and a call without a result
  // would make the conversation invalid for the next model request.
  const toolCalls = interrupted ? [] : outcome.toolCalls;
  if (interrupted) outcome.toolCalls = [];
  const text = outcome.texts.join('');
  const reasoning = outcome.reasonings.join('');
  const hasContent = text !== '' || reasoning !== '' || toolCalls.length > 0;
  const message: ConversationMessage | undefined = hasContent
    ? {
        role: 'assistant',
        content: text,
        ...(reasoning ? { reasoning } : {}),
        ...(toolCalls.length ? { tool_calls: toolCalls } : {}),
        ...(interrupted ? { partial: true } : {}),
      }
    : undefined;
  if (message) conversation.push(message);

  if (outcome.usage) {
    const cost = deps.cost(model, outcome.usage);
    const totals = input.totals;
    totals.input_tokens += outcome.usage.input_tokens;
    totals.output_tokens += outcome.usage.output_tokens;
    totals.cost += cost;
    writer.emit(
      {
        type: 'token_usage',
        data: {
          model,
          ...outcome.usage,
          cost,
          total_input_tokens: totals.input_tokens,
          total_output_tokens: totals.output_tokens,
          total_cost: totals.cost,
        },
      },
      {
        ...(message ? { message } : {}),
        session: {
          add_input_tokens: outcome.usage.input_tokens,
          add_output_tokens: outcome.usage.output_tokens,
          add_cost: cost,
        },
      },
    );
    if (outcome.error && !input.signal.aborted) writer.emit({ type: 'error', data: outcome.error });
  } else if (outcome.error && !input.signal.aborted) {
    // A failed stream has no usage: its partial text lands with the error event.
    writer.emit({ type: 'error', data: outcome.error }, message ? { message } : undefined);
  } else if (message) {
    // An interrupted stream: the partial text lands with `stream_stopped`.
    input.carry = message;
  }
  await writer.settle();
}

/** Abort reason used when the server stops: the turn ends as `server_restart`, not as a person's cancel. */
export const SHUTDOWN = 'shutdown';

function cancelReason(signal: AbortSignal): StopReason {
  return signal.reason === SHUTDOWN ? 'server_restart' : 'canceled';
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
