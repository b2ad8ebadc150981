/** Small readers for untyped request JSON: the fake accepts whatever a client sends and never throws. */

import { isRecord } from '../protocol/guards.js';

export { isRecord };
export type { JsonRecord } from '../protocol/guards.js';

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
