import { MAX_JSON_DEPTH, exceedsJsonDepth } from '../../protocol/limits.js';

/** Serialised size of one tool call's arguments the loop accepts from a model. */
export const MAX_TOOL_ARGS_BYTES = 1024 * 1024;

/**
 * Why a model's tool arguments cannot be recorded or run (nested too deep, too large, not JSON), or
 * undefined when they are fine. Such a call gets an error result the model can read and correct, and its
 * arguments are not stored: they could not be, and would fail the commit they shared.
 */
export function invalidToolArgs(args: unknown): string | undefined {
  if (exceedsJsonDepth(args, MAX_JSON_DEPTH)) {
    return `invalid tool call: arguments are nested deeper than ${MAX_JSON_DEPTH} levels`;
  }
  let json: string | undefined;
  try {
    json = JSON.stringify(args);
  } catch (err) {
    return `invalid tool call: arguments are not JSON (${err instanceof Error ? err.message : String(err)})`;
  }
  if (json !== undefined && json.length > MAX_TOOL_ARGS_BYTES) {
    return `invalid tool call: arguments are larger than ${MAX_TOOL_ARGS_BYTES} bytes`;
  }
  return undefined;
}
