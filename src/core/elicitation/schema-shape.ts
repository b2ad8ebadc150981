/**
 * A structural check of a JSON Schema before zod converts it. `z.fromJSONSchema` trusts its input: junk
 * such as `"required": 5` or `"enum": "abc"` fails inside it with messages about JavaScript internals
 * ("enumValues.every is not a function"), and some junk (`"properties": "x"`) is silently accepted. This
 * walk names the keyword and where it is, in words a model can act on.
 */

import { isRecord } from '../../protocol/guards.js';

const TYPES = new Set(['string', 'number', 'integer', 'boolean', 'object', 'array', 'null']);
const SUBSCHEMA = ['not', 'additionalProperties', 'additionalItems', 'contains', 'propertyNames'];
const SUBSCHEMA_MAPS = ['properties', 'patternProperties', '$defs', 'definitions'];
const SUBSCHEMA_LISTS = ['anyOf', 'oneOf', 'allOf', 'prefixItems'];
const NUMBERS = [
  'minimum',
  'maximum',
  'multipleOf',
  'minLength',
  'maxLength',
  'minItems',
  'maxItems',
  'minProperties',
  'maxProperties',
];
const MAX_DEPTH = 32;

/** The first structural problem found, as `"<where>: <what>"`, or undefined when none is. */
export function schemaShapeProblem(schema: unknown, where = 'schema', depth = 0): string | undefined {
  if (typeof schema === 'boolean') return undefined;
  if (!isRecord(schema)) return `${where}: must be an object (a JSON Schema) or a boolean`;
  if (depth > MAX_DEPTH) return `${where}: nested more than ${MAX_DEPTH} levels deep`;
  const sub = (value: unknown, path: string) => schemaShapeProblem(value, path, depth + 1);

  const type = schema.type;
  if (type !== undefined) {
    const types = Array.isArray(type) ? type : [type];
    const bad = types.find((t) => typeof t !== 'string' || !TYPES.has(t));
    if (bad !== undefined || types.length === 0) {
      return `${where}.type: ${JSON.stringify(bad ?? type)} is not one of ${[...TYPES].join(', ')}`;
    }
  }
  const required = schema.required;
  if (required !== undefined && !(Array.isArray(required) && required.every((r) => typeof r === 'string'))) {
    return `${where}.required: must be an array of property names`;
  }
  if (schema.enum !== undefined && !Array.isArray(schema.enum)) {
    return `${where}.enum: must be an array of allowed values`;
  }
  if (schema.pattern !== undefined && typeof schema.pattern !== 'string') return `${where}.pattern: must be a string`;
  for (const key of NUMBERS) {
    if (schema[key] !== undefined && typeof schema[key] !== 'number') return `${where}.${key}: must be a number`;
  }
  for (const key of ['exclusiveMinimum', 'exclusiveMaximum']) {
    const value = schema[key];
    // A boolean is the draft-04 form (it makes `minimum`/`maximum` exclusive).
    if (value !== undefined && typeof value !== 'number' && typeof value !== 'boolean') {
      return `${where}.${key}: must be a number`;
    }
  }
  for (const key of SUBSCHEMA) {
    const problem = schema[key] === undefined ? undefined : sub(schema[key], `${where}.${key}`);
    if (problem) return problem;
  }
  for (const key of SUBSCHEMA_MAPS) {
    const map = schema[key];
    if (map === undefined) continue;
    if (!isRecord(map)) return `${where}.${key}: must be an object mapping names to schemas`;
    for (const [name, value] of Object.entries(map)) {
      const problem = sub(value, `${where}.${key}.${name}`);
      if (problem) return problem;
    }
  }
  for (const key of SUBSCHEMA_LISTS) {
    const list = schema[key];
    if (list === undefined) continue;
    if (!Array.isArray(list)) return `${where}.${key}: must be an array of schemas`;
    for (const [i, value] of list.entries()) {
      const problem = sub(value, `${where}.${key}[${i}]`);
      if (problem) return problem;
    }
  }
  if (schema.items !== undefined) {
    const items = schema.items;
    const problems = Array.isArray(items)
      ? items.map((value, i) => sub(value, `${where}.items[${i}]`))
      : [sub(items, `${where}.items`)];
    const problem = problems.find((p) => p !== undefined);
    if (problem) return problem;
  }
  return undefined;
}
