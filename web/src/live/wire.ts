import type { ThreadMessage, WireEvent } from '../api/types.js';

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The envelope every event from the server has (type, seq, session_id). The payload is the server's
 * (built from the same protocol types); the reducer ignores event types it does not know, so checking
 * the envelope is what keeps junk out of the fold keyed by seq.
 */
export const isWireEvent = (v: unknown): v is WireEvent =>
  isObject(v) && typeof v.type === 'string' && Number.isSafeInteger(v.seq) && (v.seq as number) > 0 && typeof v.session_id === 'string';

export const isThreadMessage = (v: unknown): v is ThreadMessage =>
  isObject(v) && typeof v.thread_id === 'string' && Number.isSafeInteger(v.message_seq) && typeof v.content === 'string';

/** The items of a batch (or one live frame) that are events; anything else is dropped. */
export const wireEventsOf = (v: unknown): WireEvent[] => (Array.isArray(v) ? v : [v]).filter(isWireEvent);
export const threadMessagesOf = (v: unknown): ThreadMessage[] => (Array.isArray(v) ? v : [v]).filter(isThreadMessage);
