/**
 * Type guards for untyped JSON (parsed request bodies, stored rows of any age, model streams). Every
 * layer imports them from here, the bottom layer, so there is one rule for "a JSON object".
 */

export type JsonRecord = Record<string, unknown>;

/** A JSON object: not null, not an array. */
export function isRecord(value: unknown): value is JsonRecord {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}


/** `text` parsed, when it is the JSON of an object; undefined for other JSON and for text that is not JSON. */
export function parseRecord(text: string): JsonRecord | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  return isRecord(parsed) ? parsed : undefined;
}
