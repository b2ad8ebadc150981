import { isRecord, type JsonRecord } from '../../../protocol/guards.js';
import type { StepPart } from '../types.js';

export type Emit = (part: StepPart) => void;

/** One wire format's SSE events to StepParts, for one step (a decoder holds that step's state). */
export interface WireDecoder {
  /** One SSE event (`event:` field, `data:` text). Returns true once the step is over (a terminal part was emitted). */
  event(type: string | undefined, data: string, emit: Emit): boolean;
  /** The body ended before a terminal event: emits what is left and a terminal part. */
  end(emit: Emit): void;
}

/** A number field as the providers' schemas take it (`nullish` → undefined). */
export function num(value: unknown): number | undefined {
  return typeof value === 'number' ? value : undefined;
}

/** Parses one event's JSON; unparseable data is the step's error, as in the providers' parsers. */
export function parseEventJson(data: string, emit: Emit): JsonRecord | undefined {
  let value: unknown;
  try {
    value = JSON.parse(data) as unknown;
  } catch {
    emit({ type: 'error', code: 'model_error', message: `invalid JSON in the model stream: ${data.slice(0, 200)}` });
    return undefined;
  }
  if (isRecord(value)) return value;
  emit({ type: 'error', code: 'model_error', message: `unexpected value in the model stream: ${data.slice(0, 200)}` });
  return undefined;
}
