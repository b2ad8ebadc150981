import { createParser } from 'eventsource-parser';
import { mapModelError } from '../errors.js';
import type { StepPart } from '../types.js';
import type { WireRequest } from './capture.js';
import type { Emit, WireDecoder } from './decoder.js';
import { postStreaming, type StreamConnection } from './http.js';
import type { PartQueue } from './part-queue.js';
import { MODEL_TURN_BUDGET, type TurnBudget } from './turn-budget.js';

/** One SSE event larger than this ends the step (a broken or hostile server cannot make Tower buffer without end). */
const MAX_EVENT_CHARS = 16 * 1024 * 1024;

/**
 * Sends `request` and streams its SSE body into `queue` through `decoder`: socket chunk → `eventsource-parser`
 * → one `JSON.parse` per event → StepParts, inside the socket's own I/O callback, within the process's
 * `TurnBudget` (a chunk over it waits for a coming turn, its socket paused). After a terminal part the
 * queue closes: an error cancels the request, a finish lets the body run out so the keep-alive
 * connection is reused. The socket is paused while the queue is full or a chunk waits for its turn; the
 * queue's abort or early return cancels the request.
 */
export function streamWire(request: WireRequest, decoder: WireDecoder, queue: PartQueue<StepPart>, budget: TurnBudget = MODEL_TURN_BUDGET): void {
  let over = false;
  let failed = false;
  const emit: Emit = (part) => {
    if (part.type === 'error') failed = true;
    queue.push(part);
  };
  const finish = () => {
    over = true;
    queue.close();
    // An error ends the step: nothing more of this body is wanted.
    if (failed) connection.cancel();
  };
  const parser = createParser({
    maxBufferSize: MAX_EVENT_CHARS,
    onEvent: (event) => {
      if (!over && decoder.event(event.event, event.data, emit)) finish();
    },
    onError: (error) => {
      // Malformed lines are skipped (as the providers' parser does); only an oversized event ends the step.
      if (over || error.type !== 'max-buffer-size-exceeded') return;
      emit({ type: 'error', code: 'model_error', message: `model stream event over ${MAX_EVENT_CHARS} characters` });
      finish();
    },
  });
  const connection: StreamConnection = postStreaming(request, {
    data: (text) => {
      if (over) return;
      if (budget.admit()) {
        parser.feed(text);
        return;
      }
      waiting = true;
      flow();
      budget.defer(() => {
        waiting = false;
        if (over || queue.ended) return;
        parser.feed(text);
        flow();
      });
    },
    // The end (or a failure) can be reported while the last chunk still waits for its turn: after it.
    end: () =>
      afterWaiting(() => {
        if (over) return;
        decoder.end(emit);
        finish();
      }),
    fail: (error) =>
      afterWaiting(() => {
        if (over) return;
        emit({ type: 'error', ...mapModelError(error) });
        over = true;
        queue.close();
      }),
  });
  const afterWaiting = (work: () => void) => (waiting ? budget.defer(work) : work());
  // Paused while the queue is full or a chunk waits for its turn.
  let full = false;
  let waiting = false;
  let paused = false;
  const flow = () => {
    const pause = full || waiting;
    if (pause === paused) return;
    paused = pause;
    if (pause) connection.pause();
    else connection.resume();
  };
  queue.attach({
    pause: () => {
      full = true;
      flow();
    },
    resume: () => {
      full = false;
      flow();
    },
    cancel: () => connection.cancel(),
  });
}
