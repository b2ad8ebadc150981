import type { SendResult } from '../protocol/index.js';
import { followEvents, type EventStreamOptions } from './event-stream.js';
import type { HttpTransport } from './http.js';
import type { TowerEvent } from './tower-event.js';

/**
 * The events of the turn a send produced. A started turn is followed from its `user_message` to its
 * `stream_stopped`. A queued message (a follow-up) is followed from `queuedAfter`, a seq from before the
 * send: its `message_queued`, then, skipping the turn it waited behind, the turn its `user_message` opens.
 * A `queue_cleared` that drops the message ends the stream; so does `session_deleted`.
 */
export async function* followSentTurn(
  http: HttpTransport,
  sessionId: string,
  result: SendResult,
  queuedAfter: number,
  options: Omit<EventStreamOptions, 'since'>,
): AsyncGenerator<TowerEvent, void, undefined> {
  if ('seq' in result) {
    // The log is durable before the 202, so tailing from just before our message cannot miss anything.
    for await (const event of followEvents(http, sessionId, { ...options, since: result.seq - 1 })) {
      yield event;
      if (event.type === 'stream_stopped' && event.turn_id === result.turn_id) return;
    }
    return;
  }
  const ours = new Set(result.item_ids);
  if (ours.size === 0) return;
  let delivered = false;
  let turnId: string | undefined;
  for await (const event of followEvents(http, sessionId, { ...options, since: queuedAfter })) {
    if (turnId !== undefined) {
      yield event;
      if (event.type === 'stream_stopped' && event.turn_id === turnId) return;
      continue;
    }
    switch (event.type) {
      case 'message_queued':
        if (ours.has(event.item_id)) yield event;
        break;
      case 'queue_cleared':
        if (event.item_ids.some((id) => ours.has(id))) {
          yield event;
          return;
        }
        break;
      case 'user_message':
        if (event.queue_item_id !== undefined && ours.has(event.queue_item_id)) {
          delivered = true;
          yield event;
        }
        break;
      case 'stream_started':
        if (delivered) {
          turnId = event.turn_id;
          yield event;
        }
        break;
      case 'session_deleted':
        yield event;
        return;
      default:
        break;
    }
  }
}
