/**
 * Turning a typed answer into the `content` of an accepted question (`elicitation_request`).
 *
 * - No schema, or a schema without `properties`: `{ "answer": text }`.
 * - A schema with one field to fill (its only required property, else its only property): `{ field: value }`,
 *   the text converted to the field's `type` (`number`/`integer`; `boolean` from yes/no, true/false, y/n, 1/0)
 *   and checked against its `enum`.
 * - A schema with several fields: text cannot fill them; answer with a JSON object instead.
 *
 * The server validates the content against the schema in the end; these checks only give a clearer
 * message before the round trip.
 */

import { isRecord } from '../protocol/guards.js';

export type ContentResult = { ok: true; content: Record<string, unknown> } | { ok: false; message: string };

type JsonSchema = Record<string, unknown>;

/** The property a plain-text answer fills; `fields` when several would need filling; undefined when there are none. */
function targetField(schema: JsonSchema): { name: string; schema: JsonSchema } | { fields: string[] } | undefined {
  const properties = schema.properties;
  if (!isRecord(properties) || Object.keys(properties).length === 0) return undefined;
  const required = Array.isArray(schema.required) ? schema.required.filter((key): key is string => typeof key === 'string') : [];
  const candidates = required.length > 0 ? required : Object.keys(properties);
  const [only] = candidates;
  if (candidates.length !== 1 || only === undefined) return { fields: candidates };
  const field = properties[only];
  return { name: only, schema: isRecord(field) ? field : {} };
}

const TRUE_WORDS = new Set(['y', 'yes', 'true', '1']);
const FALSE_WORDS = new Set(['n', 'no', 'false', '0']);

function convert(text: string, name: string, field: JsonSchema): { ok: true; value: unknown } | { ok: false; message: string } {
  const type = field.type;
  let value: unknown = text;
  if (type === 'number' || type === 'integer') {
    const n = Number(text.trim());
    if (text.trim() === '' || !Number.isFinite(n) || (type === 'integer' && !Number.isInteger(n))) {
      return { ok: false, message: `${name} must be ${type === 'integer' ? 'an integer' : 'a number'}, got ${JSON.stringify(text)}` };
    }
    value = n;
  } else if (type === 'boolean') {
    const word = text.trim().toLowerCase();
    if (!TRUE_WORDS.has(word) && !FALSE_WORDS.has(word)) {
      return { ok: false, message: `${name} must be yes or no, got ${JSON.stringify(text)}` };
    }
    value = TRUE_WORDS.has(word);
  }
  if (Array.isArray(field.enum) && !field.enum.includes(value)) {
    return { ok: false, message: `${name} must be one of ${field.enum.map((choice) => JSON.stringify(choice)).join(', ')}` };
  }
  return { ok: true, value };
}

/** The content for a plain-text answer to a question with this schema (see the module comment). */
export function textContent(text: string, schema: Record<string, unknown> | undefined): ContentResult {
  const target = schema === undefined ? undefined : targetField(schema);
  if (target === undefined) return { ok: true, content: { answer: text } };
  if ('fields' in target) {
    return { ok: false, message: `this question asks for several fields (${target.fields.join(', ')}): answer with a JSON object` };
  }
  const converted = convert(text, target.name, target.schema);
  return converted.ok ? { ok: true, content: { [target.name]: converted.value } } : converted;
}

/** Parses an answer given as JSON; it must be an object. */
export function jsonContent(text: string): ContentResult {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { ok: false, message: `not JSON: ${(error as Error).message}` };
  }
  return isRecord(value) ? { ok: true, content: value } : { ok: false, message: 'the answer must be a JSON object' };
}

/** An answer typed at a prompt: JSON when it starts with `{`, else text. */
export function typedContent(line: string, schema: Record<string, unknown> | undefined): ContentResult {
  return line.trimStart().startsWith('{') ? jsonContent(line) : textContent(line, schema);
}
