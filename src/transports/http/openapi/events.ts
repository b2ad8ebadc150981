import { z } from 'zod';
import { EVENT_TYPES, EventEnvelope, EventPayloads, type EventType } from '../../../protocol/events.js';

/** `user_message` → `UserMessageEvent`: the component name of one event type. */
export function eventSchemaName(type: EventType): string {
  return `${type.replace(/(^|_)([a-z])/g, (_, __: string, c: string) => c.toUpperCase())}Event`;
}

/**
 * The wire form of each event (envelope and payload side by side, as `toWire` sends it), for the
 * document only: clients parse frames with `parseWireEvent`. Built from the protocol's payload map, so
 * a new event type shows up here without an edit.
 */
export const WIRE_EVENT_SCHEMAS = Object.fromEntries(
  EVENT_TYPES.map((type) => [type, EventEnvelope.extend({ type: z.literal(type) }).extend(EventPayloads[type].shape)]),
) as unknown as Record<EventType, z.ZodObject>;

const options = EVENT_TYPES.map((type) => WIRE_EVENT_SCHEMAS[type]);

/** Any session event: what each `data:` line of the event stream holds, told apart by `type`. */
export const SessionEvent = z.discriminatedUnion('type', options as [z.ZodObject, z.ZodObject, ...z.ZodObject[]]);
