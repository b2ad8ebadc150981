import { z } from 'zod';
import { EventPayloads, parseWireEvent, type EventType, type WireEvent } from '../protocol/index.js';
import { TowerProtocolError } from './errors.js';

/**
 * An event whose type this client does not know: a newer server added it. It is passed through rather
 * than thrown on, so an older client keeps streaming (and keeps its resume position) across protocol
 * additions. It gets its own `type: 'unknown'` so that `switch (event.type)` still narrows the known
 * events; the server's name for it is in `event_type` and its fields in `data`.
 */
export interface UnknownEvent {
  type: 'unknown';
  event_type: string;
  seq: number;
  session_id: string;
  timestamp: string;
  data: Record<string, unknown>;
}

/** What the SDK's event streams yield: a validated `WireEvent`, or an `UnknownEvent`. */
export type TowerEvent = WireEvent | UnknownEvent;

const LooseEnvelope = z.looseObject({
  type: z.string(),
  seq: z.number().int().positive(),
  session_id: z.string(),
  timestamp: z.string(),
});

function isKnownType(type: string): type is EventType {
  return Object.hasOwn(EventPayloads, type);
}

/**
 * Parses one event from the wire. Known types are checked with the protocol's `parseWireEvent`; an
 * invalid known event or a broken envelope throws `TowerProtocolError`, since the stream cannot even
 * track its position past it.
 */
export function parseTowerEvent(value: unknown): TowerEvent {
  const envelope = LooseEnvelope.safeParse(value);
  if (!envelope.success) {
    throw new TowerProtocolError(`invalid event envelope: ${envelope.error.issues[0]?.message ?? 'unknown'}`);
  }
  const { type, seq, session_id, timestamp, ...data } = envelope.data;
  if (!isKnownType(type)) {
    return { type: 'unknown', event_type: type, seq, session_id, timestamp, data };
  }
  try {
    return parseWireEvent(value);
  } catch (error) {
    const detail = error instanceof z.ZodError ? (error.issues[0]?.message ?? '') : String(error);
    throw new TowerProtocolError(`invalid ${type} event (seq ${seq}): ${detail}`, { cause: error });
  }
}

/** The event as the server sent it: the original wire shape, also for unknown events. */
export function toWireJson(event: TowerEvent): Record<string, unknown> {
  if (event.type !== 'unknown') return event;
  const { event_type, seq, session_id, timestamp, data } = event;
  return { ...data, type: event_type, seq, session_id, timestamp };
}
