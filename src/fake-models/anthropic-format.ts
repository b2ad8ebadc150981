import type { Frame, ResponsePlan, WireFormat } from './plan.js';
import { asArray, asString, isRecord, textOf } from './request-util.js';
import type { NormalizedMessage, NormalizedToolCall, OfferedTool, ParsedRequest } from './types.js';

/** Anthropic Messages API. */
export const anthropicFormat: WireFormat = {
  path: '/v1/messages',
  parseRequest,
  streamFrames,
  completion,
  errorBody(status, message, type) {
    return { type: 'error', error: { type: type ?? defaultErrorType(status), message } };
  },
  modelsBody(models) {
    const data = models.map((id) => ({ type: 'model', id, display_name: id, created_at: '2025-01-01T00:00:00Z' }));
    return { data, has_more: false, first_id: models[0] ?? null, last_id: models.at(-1) ?? null };
  },
};

const ERROR_TYPES: Record<number, string> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  403: 'permission_error',
  404: 'not_found_error',
  413: 'request_too_large',
  429: 'rate_limit_error',
  529: 'overloaded_error',
};

function defaultErrorType(status: number): string {
  return ERROR_TYPES[status] ?? (status >= 500 ? 'api_error' : 'invalid_request_error');
}

function parseRequest(body: unknown, index: number): ParsedRequest {
  const record = isRecord(body) ? body : {};
  const messages: NormalizedMessage[] = [];
  for (const message of asArray(record.messages)) {
    if (!isRecord(message)) continue;
    if (message.role === 'assistant') messages.push(parseAssistant(message.content));
    else if (message.role === 'user') messages.push(...parseUser(message.content));
  }
  const tools: OfferedTool[] = asArray(record.tools)
    .filter(isRecord)
    .map((tool) => ({ name: asString(tool.name), description: asString(tool.description), parameters: tool.input_schema }));
  const system = typeof record.system === 'string' ? record.system : textOf(record.system);
  return {
    index,
    format: 'anthropic',
    model: asString(record.model, 'fake'),
    stream: record.stream === true,
    system: system.length > 0 ? system : undefined,
    messages,
    tools,
    body,
  };
}

function parseAssistant(content: unknown): NormalizedMessage {
  if (typeof content === 'string') return { role: 'assistant', text: content, tool_calls: [] };
  let text = '';
  const toolCalls: NormalizedToolCall[] = [];
  for (const block of asArray(content)) {
    if (!isRecord(block)) continue;
    if (block.type === 'text') text += asString(block.text);
    if (block.type === 'tool_use') toolCalls.push({ id: asString(block.id), name: asString(block.name), args: block.input });
  }
  return { role: 'assistant', text, tool_calls: toolCalls };
}

/** A user turn may hold tool results and text; each tool result becomes its own `tool` message. */
function parseUser(content: unknown): NormalizedMessage[] {
  if (typeof content === 'string') return [{ role: 'user', text: content }];
  const out: NormalizedMessage[] = [];
  let text: string | undefined;
  const flushText = () => {
    if (text !== undefined) out.push({ role: 'user', text });
    text = undefined;
  };
  for (const block of asArray(content)) {
    if (!isRecord(block)) continue;
    if (block.type === 'text') {
      text = (text ?? '') + asString(block.text);
    } else if (block.type === 'tool_result') {
      flushText();
      out.push({
        role: 'tool',
        tool_call_id: asString(block.tool_use_id),
        text: textOf(block.content),
        is_error: block.is_error === true,
      });
    }
  }
  flushText();
  return out;
}

function event(type: string, data: Record<string, unknown>): string {
  return `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;
}

/** Anthropic reports uncached input apart from cache reads. */
function usageBody(plan: ResponsePlan, outputTokens: number): Record<string, unknown> {
  const { input_tokens, cached_input_tokens } = plan.usage;
  return {
    input_tokens: input_tokens - cached_input_tokens,
    cache_creation_input_tokens: 0,
    cache_read_input_tokens: cached_input_tokens,
    output_tokens: outputTokens,
  };
}

function stopReason(plan: ResponsePlan): string {
  return plan.finish === 'tool_calls' ? 'tool_use' : 'end_turn';
}

function streamFrames(plan: ResponsePlan, _body: unknown, complete: boolean): Frame[] {
  const message = {
    id: plan.id,
    type: 'message',
    role: 'assistant',
    model: plan.model,
    content: [],
    stop_reason: null,
    stop_sequence: null,
    usage: usageBody(plan, 1),
  };
  const frames: Frame[] = [{ data: event('message_start', { message }) }, { data: event('ping', {}) }];
  let index = 0;
  if (plan.reasoning.length > 0) {
    frames.push({ data: event('content_block_start', { index, content_block: { type: 'thinking', thinking: '', signature: '' } }) });
    for (const piece of plan.reasoning) {
      frames.push({ data: event('content_block_delta', { index, delta: { type: 'thinking_delta', thinking: piece } }), content: piece });
    }
    frames.push({ data: event('content_block_delta', { index, delta: { type: 'signature_delta', signature: 'fake-signature' } }) });
    frames.push({ data: event('content_block_stop', { index }) });
    index += 1;
  }
  if (plan.text.length > 0) {
    frames.push({ data: event('content_block_start', { index, content_block: { type: 'text', text: '' } }) });
    for (const piece of plan.text) {
      frames.push({ data: event('content_block_delta', { index, delta: { type: 'text_delta', text: piece } }), content: piece });
    }
    frames.push({ data: event('content_block_stop', { index }) });
    index += 1;
  }
  for (const call of plan.toolCalls) {
    frames.push({ data: event('content_block_start', { index, content_block: { type: 'tool_use', id: call.id, name: call.name, input: {} } }) });
    for (const piece of call.pieces) {
      frames.push({ data: event('content_block_delta', { index, delta: { type: 'input_json_delta', partial_json: piece } }), content: piece });
    }
    frames.push({ data: event('content_block_stop', { index }) });
    index += 1;
  }
  if (!complete) return frames;
  if (plan.streamError) {
    frames.push({ data: event('error', { error: { type: plan.streamError.type ?? 'api_error', message: plan.streamError.message } }) });
    return frames;
  }
  frames.push({
    data: event('message_delta', {
      delta: { stop_reason: stopReason(plan), stop_sequence: null },
      usage: { output_tokens: plan.usage.output_tokens },
    }),
  });
  frames.push({ data: event('message_stop', {}) });
  return frames;
}

function completion(plan: ResponsePlan): unknown {
  const content: Record<string, unknown>[] = [];
  if (plan.reasoning.length > 0) content.push({ type: 'thinking', thinking: plan.reasoning.join(''), signature: 'fake-signature' });
  if (plan.text.length > 0) content.push({ type: 'text', text: plan.text.join('') });
  for (const call of plan.toolCalls) content.push({ type: 'tool_use', id: call.id, name: call.name, input: parseInput(call.json) });
  return {
    id: plan.id,
    type: 'message',
    role: 'assistant',
    model: plan.model,
    content,
    stop_reason: stopReason(plan),
    stop_sequence: null,
    usage: usageBody(plan, plan.usage.output_tokens),
  };
}

/** Non-streamed tool input is a JSON value; malformed scripted arguments go out as a plain string. */
function parseInput(json: string): unknown {
  try {
    return JSON.parse(json) as unknown;
  } catch {
    return json;
  }
}
