import { splitJson, toChunks } from './chunking.js';
import type { FakeFormat, ParsedRequest, ScriptResponse } from './types.js';

export interface PlannedToolCall {
  id: string;
  name: string;
  /** Serialized arguments. */
  json: string;
  /** `json` split into the pieces streamed one by one. */
  pieces: string[];
}

/** A script response resolved into exactly what will be sent, independent of the wire format. */
export interface ResponsePlan {
  id: string;
  model: string;
  reasoning: string[];
  text: string[];
  toolCalls: PlannedToolCall[];
  finish: 'stop' | 'tool_calls';
  usage: { input_tokens: number; output_tokens: number; cached_input_tokens: number };
  streamError: { message: string; type?: string } | undefined;
}

export function planResponse(request: ParsedRequest, response: ScriptResponse): ResponsePlan {
  const reasoning = toChunks(response.reasoning);
  const text = toChunks(response.text);
  const toolCalls = (response.tool_calls ?? []).map((call, n) => {
    const json = call.raw_args ?? JSON.stringify(call.args ?? {});
    return { id: call.id ?? toolCallId(request.format, request.index, n), name: call.name, json, pieces: splitJson(json) };
  });
  const outputChunks = reasoning.length + text.length + toolCalls.reduce((sum, c) => sum + c.pieces.length, 0);
  const usage = {
    // Rough but stable: about four characters per token, as a real tokenizer averages on English text.
    input_tokens: response.usage?.input_tokens ?? Math.max(1, Math.ceil(JSON.stringify(request.messages).length / 4)),
    output_tokens: response.usage?.output_tokens ?? Math.max(1, outputChunks),
    cached_input_tokens: response.usage?.cached_input_tokens ?? 0,
  };
  return {
    id: `${request.format === 'openai' ? 'chatcmpl' : 'msg'}_fake_${request.index}`,
    model: request.model,
    reasoning,
    text,
    toolCalls,
    finish: toolCalls.length > 0 ? 'tool_calls' : 'stop',
    usage,
    streamError: response.stream_error,
  };
}

function toolCallId(format: FakeFormat, requestIndex: number, n: number): string {
  return `${format === 'openai' ? 'call' : 'toolu'}_r${requestIndex}_${n}`;
}

/**
 * One piece of a response body. `content` marks a chunk of model output: pacing applies between content
 * frames and `onChunkWritten` reports them.
 */
export interface Frame {
  data: string;
  content?: string;
}

/** What a wire format provides to the server. */
export interface WireFormat {
  /** POST path relative to the server root. */
  path: string;
  parseRequest(body: unknown, index: number): ParsedRequest;
  /** Frames of a streamed answer; `complete: false` leaves out the closing frames (a hanging stream). */
  streamFrames(plan: ResponsePlan, body: unknown, complete: boolean): Frame[];
  /** The JSON body of a non-streamed answer. */
  completion(plan: ResponsePlan): unknown;
  /** The JSON body of an HTTP error. */
  errorBody(status: number, message: string, type?: string, code?: string): unknown;
  modelsBody(models: string[]): unknown;
}
