import { jsonSchema, tool, type JSONSchema7, type ToolSet } from 'ai';
import type { ToolSpec } from './types.js';

/**
 * Tools offered to the model, WITHOUT `execute`: the AI SDK then only reports the calls and `streamText`
 * stops after one step, leaving execution (and approval) to Tower's agent loop.
 */
export function toToolSet(specs: readonly ToolSpec[]): ToolSet {
  const tools: ToolSet = {};
  for (const spec of specs) {
    tools[spec.name] = tool({
      description: spec.description,
      // ToolSpec parameters are JSON Schema by contract; the SDK passes them through to the provider.
      inputSchema: jsonSchema(spec.parameters as JSONSchema7),
    });
  }
  return tools;
}
