import { EventPayloads, toWire, type EventType, type StoredEvent } from './events.js';

/**
 * A stored event as the store holds it: `data` is the JSON text of its payload, not parsed. Catch-up
 * reads use it to build wire frames without parsing a row into objects and serialising it again.
 */
export interface RawStoredEvent {
  session_id: string;
  seq: number;
  type: EventType;
  /** The payload object's JSON text, exactly as stored (`JSON.stringify` output). */
  data: string;
  timestamp: string;
}

/** The typed event of a stored row (its payload parsed). */
export function parseRawEvent(raw: RawStoredEvent): StoredEvent {
  return {
    session_id: raw.session_id,
    seq: raw.seq,
    type: raw.type,
    data: JSON.parse(raw.data) as StoredEvent['data'],
    timestamp: raw.timestamp,
  } as StoredEvent;
}

/** An event's wire form (`toWire`) as JSON text: what SSE `data:` lines and hub frames carry. */
export function wireJson(event: StoredEvent): string {
  return JSON.stringify(toWire(event));
}

/**
 * Payload texts the splice below cannot reproduce: a payload key that `toWire` overrides in place (an
 * envelope name) or one `Object.assign` treats specially (`__proto__`). A match anywhere (a string value
 * that happens to read `"seq"`) only sends the row the slower, object way.
 */
export const NOT_SPLICEABLE = /"(?:type|seq|session_id|timestamp|__proto__)"/;

/** Event types are identifiers: quoting one needs no escaping. */
const TYPES = new Set<string>(Object.keys(EventPayloads));

/**
 * The wire JSON of a stored row, spliced from its stored text: byte for byte what `wireJson` gives for
 * the parsed event. The stored text is `JSON.stringify` output, so parsing and serialising it again
 * gives the same text, and `toWire` puts the payload's keys first and the envelope after them; the
 * envelope is appended here instead.
 */
export function rawWireJson(raw: RawStoredEvent): string {
  return rawWireJsonOf(raw, JSON.stringify(raw.session_id));
}

/** `rawWireJson` for rows of one session, its id already serialised (`sessionJson`) once for all. */
export function rawWireJsonOf(raw: RawStoredEvent, sessionJson: string): string {
  const data = raw.data;
  const n = data.length;
  if (n < 2 || data.charCodeAt(0) !== 0x7b || data.charCodeAt(n - 1) !== 0x7d || NOT_SPLICEABLE.test(data) || !TYPES.has(raw.type)) {
    return wireJson(parseRawEvent(raw));
  }
  const envelope = `"type":"${raw.type}","seq":${raw.seq},"session_id":${sessionJson},"timestamp":${JSON.stringify(raw.timestamp)}}`;
  return n === 2 ? `{${envelope}` : `${data.slice(0, n - 1)},${envelope}`;
}
