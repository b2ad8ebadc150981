import type { SessionRecord } from '../../store/types.js';

/**
 * Event types whose commit may write a conversation message (an entry writes at most one): a user message
 * and a tool result always do, a step's usage, a turn's end and an error only when there is text to keep.
 */
export const MAY_WRITE_MESSAGE: ReadonlySet<string> = new Set(['user_message', 'token_usage', 'tool_call_response', 'stream_stopped', 'error']);

/** An event tapped after the join that may have written a message (`index`: a user message's own). */
export interface GapEvent {
  seq: number;
  index: number | undefined;
}

/**
 * The first subscriber's arrival (of what the reads feed) for a session whose message events went unread.
 * What it should hear about is what the tap shows after `seq`, nothing from before: the row read at the
 * arrival says how long the conversation was then, less what the events past `seq` in it may have added.
 */
export interface Join {
  /** Highest seq tapped for the session when the subscriber came. */
  seq: number;
  /** The session's row, read for every joining session at once when the subscriber came. */
  row: Promise<SessionRecord | undefined>;
  /** Events tapped since `seq` that may have written a message, in seq order. */
  gap: GapEvent[];
  /** The row held events not tapped yet: the refresh waits (once) until the tap reaches this seq. */
  waitFor?: number;
}

/**
 * How many messages the session had at the join, from a row read at or after it: exact when the first
 * event past the join that may have written one is a user message (its index says), or when none did;
 * otherwise a lower bound (every such event counted as a message), so that a message written after the
 * join is never taken for an old one (at worst an old message is announced again). `'wait'`: the row
 * holds events the tap has not shown yet (committed by the writer thread, tapped a macrotask later),
 * whose types decide; `tappedSeq` is the highest seq tapped now, `waited` says that wait is over.
 */
export function countAtJoin(join: Join, row: SessionRecord, tappedSeq: number, waited: boolean): number | 'wait' {
  const rowSeq = row.last_event_seq;
  const untapped = Math.max(0, rowSeq - tappedSeq);
  if (untapped > 0 && !waited) return 'wait';
  const inRow = join.gap.filter((event) => event.seq <= rowSeq);
  // Events before the first gap event wrote nothing (none may): a user message's index is the count then.
  const first = inRow[0];
  if (first?.index !== undefined) return Math.min(first.index, row.message_count);
  return Math.max(0, row.message_count - inRow.length - untapped);
}
