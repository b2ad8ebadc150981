import { EventPayloads, toWire, type EventType, type StoredEvent } from './events.js';
import { notSpliceable } from './wire-splice.js';

export { notSpliceable };

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
  if (n < 2 || data.charCodeAt(0) !== 0x7b || data.charCodeAt(n - 1) !== 0x7d || notSpliceable(data) || !TYPES.has(raw.type)) {
    return wireJson(parseRawEvent(raw));
  }
  const envelope = `"type":"${raw.type}","seq":${raw.seq},"session_id":${sessionJson},"timestamp":${JSON.stringify(raw.timestamp)}}`;
  return n === 2 ? `{${envelope}` : `${data.slice(0, n - 1)},${envelope}`;
}

/**
 * `wireJson(event)` from `dataJson`, the text `JSON.stringify(event.data)` gave when the event was
 * appended (what the store holds): the payload is not serialised a second time for live frames. The
 * splice is taken only where it is provably the same text, else the event is serialised:
 * - a payload with `toJSON` serialises as something other than its keys (and `toWire`'s copy would
 *   carry the method along);
 * - an envelope name among its keys, even one whose value JSON leaves out (undefined, a function): the
 *   copy keeps that key's place for the envelope's value, so the text cannot show it;
 * - an own `__proto__` key, which `Object.assign` sets as the copy's prototype instead of copying;
 * - a top-level clash in the text itself (`notSpliceable`), or text that is not one JSON object.
 * `sessionJson` is `JSON.stringify(event.session_id)`, made once per run of one session's events. The
 * text is the payload as appended: a payload changed after its append goes out as stored, as a replay
 * would send it.
 */
export function liveWireJson(event: StoredEvent, dataJson: string | undefined, sessionJson: string): string {
  const data = event.data as Record<string, unknown> | null;
  if (
    dataJson === undefined ||
    typeof data !== 'object' ||
    data === null ||
    data.toJSON !== undefined ||
    'type' in data ||
    'seq' in data ||
    'session_id' in data ||
    'timestamp' in data ||
    Object.prototype.hasOwnProperty.call(data, '__proto__')
  ) {
    return wireJson(event);
  }
  const n = dataJson.length;
  if (n < 2 || dataJson.charCodeAt(0) !== 0x7b || dataJson.charCodeAt(n - 1) !== 0x7d || notSpliceable(dataJson) || !TYPES.has(event.type)) {
    return wireJson(event);
  }
  const envelope = `"type":"${event.type}","seq":${event.seq},"session_id":${sessionJson},"timestamp":${timestampJson(event.timestamp)}}`;
  return n === 2 ? `{${envelope}` : `${dataJson.slice(0, n - 1)},${envelope}`;
}

let lastTimestamp: string | undefined;
let lastTimestampJson = '';

/** Events appended in the same millisecond share their timestamp (one string): serialised once. */
function timestampJson(timestamp: string): string {
  if (timestamp !== lastTimestamp) {
    lastTimestampJson = JSON.stringify(timestamp);
    lastTimestamp = timestamp;
  }
  return lastTimestampJson;
}
