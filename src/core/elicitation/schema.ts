import { z } from 'zod';
import { TowerError } from '../../protocol/errors.js';
import { isRecord } from '../../protocol/guards.js';
import { schemaShapeProblem } from './schema-shape.js';

export type ElicitationValidation = { ok: true; value: unknown } | { ok: false; message: string };

/** Compiled schemas by the schema object a pending question holds, so answering does not recompile it. */
const compiledSchemas = new WeakMap<object, z.ZodType>();

/**
 * Turns the JSON Schema of a question into a validator, or throws `invalid_request` saying what is wrong,
 * so `ask_user` refuses a bad schema when it is asked rather than when the person answers.
 *
 * The root must describe an object: an answer's `content` is always an object of fields.
 */
export function compileElicitationSchema(schema: Record<string, unknown>): z.ZodType {
  const cached = compiledSchemas.get(schema);
  if (cached) return cached;
  const fail = (why: string): never => {
    throw new TowerError('invalid_request', `Invalid schema for the question: ${why}`);
  };
  if (!isRecord(schema)) return fail('it must be a JSON Schema object');
  if (schema.type !== 'object') {
    return fail('its root must be {"type": "object", "properties": {…}}, because an answer is an object of fields');
  }
  const problem = schemaShapeProblem(schema);
  if (problem) return fail(problem);
  let compiled: z.ZodType;
  try {
    // A registry of its own: the default global one would keep metadata (and `$id`s) of every schema a
    // model ever sent, for the life of the process.
    compiled = z.fromJSONSchema(schema as z.core.JSONSchema.JSONSchema, { registry: z.registry() });
  } catch (err) {
    return fail(err instanceof Error ? err.message : String(err));
  }
  compiledSchemas.set(schema, compiled);
  return compiled;
}

/**
 * Checks an answer's content against the question's schema (none: anything goes). On success `value` is
 * the content as parsed (JSON Schema defaults applied); on failure `message` lists every issue as
 * `field: problem`.
 */
export function validateElicitationContent(
  schema: Record<string, unknown> | undefined,
  content: unknown,
): ElicitationValidation {
  if (schema === undefined) return { ok: true, value: content };
  let compiled: z.ZodType;
  try {
    compiled = compileElicitationSchema(schema);
  } catch (err) {
    return { ok: false, message: err instanceof Error ? err.message : String(err) };
  }
  let result: ReturnType<z.ZodType['safeParse']>;
  try {
    result = compiled.safeParse(content);
  } catch (err) {
    // A recursive `$ref` is resolved lazily, while parsing; a broken one throws here, not at compile time.
    const why = err instanceof Error ? err.message : String(err);
    return { ok: false, message: `the schema could not be applied: ${why}` };
  }
  if (result.success) return { ok: true, value: result.data };
  return { ok: false, message: result.error.issues.map(describeIssue).join('; ') };
}

function describeIssue(issue: z.core.$ZodIssue): string {
  const where = issue.path.length === 0 ? 'answer' : issue.path.map(String).join('.');
  // zod words a missing field as "expected string, received undefined"; say what a person means.
  if (issue.code === 'invalid_type' && issue.message.endsWith('received undefined')) return `${where}: is required`;
  return `${where}: ${issue.message}`;
}
