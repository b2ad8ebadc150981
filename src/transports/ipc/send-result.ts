import type { FollowupAccepted, SendResult } from '../../protocol/api.js';

/** A send with `on_busy: enqueue` answers a follow-up receipt when a turn was running. */
export function isQueuedResult(result: SendResult): result is FollowupAccepted {
  return 'status' in result;
}
