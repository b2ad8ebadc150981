import type { ToolSpec } from '../../protocol/tools.js';
import { isRecord } from '../../protocol/guards.js';

export interface AskUserArgs {
  message: string;
  schema?: Record<string, unknown>;
}

/** The tool through which the model puts a question to the person and waits for the answer. */
export const askUserToolSpec: ToolSpec = {
  name: 'ask_user',
  description: [
    'Ask the person a question and wait for their answer. Use it when you need a decision, a missing fact or',
    'a preference you cannot work out yourself; do not use it for progress reports. Pass `schema` (a JSON',
    'Schema with "type": "object") to get a structured answer, e.g. {"type": "object", "properties":',
    '{"env": {"type": "string", "enum": ["staging", "production"]}}, "required": ["env"]}. The result is JSON:',
    '{"action": "accept", "content": {…}} with the answer, or {"action": "decline"} / {"action": "cancel"} when',
    'the person would not answer; then carry on without it or stop.',
  ].join(' '),
  parameters: {
    type: 'object',
    properties: {
      message: { type: 'string', description: 'The question, in plain words the person can answer.' },
      schema: {
        type: 'object',
        description: 'Optional JSON Schema of the answer: an object whose properties are the fields to fill in.',
      },
    },
    required: ['message'],
    additionalProperties: false,
  },
};

/** The arguments of an `ask_user` call, or a message for the model saying what is wrong with them. */
export function parseAskUserArgs(args: unknown): AskUserArgs | string {
  if (!isRecord(args)) return 'ask_user expects an object: {"message": "<question>", "schema"?: {…}}';
  const { message, schema } = args;
  if (typeof message !== 'string' || message.trim() === '') {
    return 'ask_user needs "message": the question to ask, as a non-empty string';
  }
  if (schema === undefined || schema === null) return { message };
  // Models often send a nested object as a JSON string; accepting it saves a round trip.
  const parsed = typeof schema === 'string' ? parseJson(schema) : schema;
  if (!isRecord(parsed)) {
    return 'ask_user "schema" must be a JSON Schema object such as {"type": "object", "properties": {…}}';
  }
  return { message, schema: parsed };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
