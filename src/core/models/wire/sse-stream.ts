import { createParser } from 'eventsource-parser';
import { mapModelError } from '../errors.js';
import type { StepPart } from '../types.js';
import type { WireRequest } from './capture.js';
import type { Emit, WireDecoder } from './decoder.js';
import { postStreaming, type StreamConnection } from './http.js';
import type { PartQueue } from './part-queue.js';

/** One SSE event larger than this ends the step (a broken or hostile server cannot make Tower buffer without end). */
const MAX_EVENT_CHARS = 16 * 1024 * 1024;

/**
 * Sends `request` and streams its SSE body into `queue` through `decoder`: socket chunk → `eventsource-parser`
 * → one `JSON.parse` per event → StepParts, all inside the socket's own I/O callback (one macrotask per
 * read, so many streams take turns with every other socket and timer; a read holds at most one socket
 * buffer of events). After a terminal part the queue closes: an error cancels the request, a finish lets
 * the body run out so the keep-alive connection is reused. The queue's flow control pauses the socket;
 * its abort or early return cancels the request.
 */
export function streamWire(request: WireRequest, decoder: WireDecoder, queue: PartQueue<StepPart>): void {
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
      if (!over) parser.feed(text);
    },
    end: () => {
      if (over) return;
      decoder.end(emit);
      finish();
    },
    fail: (error) => {
      if (over) return;
      emit({ type: 'error', ...mapModelError(error) });
      over = true;
      queue.close();
    },
  });
  queue.attach(connection);
}
