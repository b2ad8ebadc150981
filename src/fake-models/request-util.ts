/** Small readers for untyped request JSON: the fake accepts whatever a client sends and never throws. */

export type JsonRecord = Record<string, unknown>;

export function isRecord(value: unknown): value is JsonRecord {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function asArray(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

export function asString(value: unknown, fallback = ''): string {
  return typeof value === 'string' ? value : fallback;
}

/** Text of a message content: a plain string or an array of `{type:'text', text}` parts. */
export function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  return asArray(content)
    .map((part) => (isRecord(part) && part.type === 'text' ? asString(part.text) : ''))
    .join('');
}

/** Tool arguments as sent by OpenAI-style clients: a JSON string, parsed when it is valid JSON. */
export function parseArgs(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  try {
    return JSON.parse(value) as unknown;
  } catch {
    return value;
  }
}
