import type { Frame, ResponsePlan, WireFormat } from './plan.js';
import { asArray, asString, isRecord, parseArgs, textOf } from './request-util.js';
import type { NormalizedMessage, OfferedTool, ParsedRequest } from './types.js';

/** OpenAI Chat Completions, as spoken by OpenAI and every "OpenAI-compatible" server. */
export const openaiFormat: WireFormat = {
  path: '/v1/chat/completions',
  parseRequest,
  streamFrames,
  completion,
  errorBody(status, message, type, code) {
    return {
      error: {
        message,
        type: type ?? defaultErrorType(status),
        param: null,
        code: code ?? (status === 429 ? 'rate_limit_exceeded' : null),
      },
    };
  },
  modelsBody(models) {
    return {
      object: 'list',
      data: models.map((id) => ({ id, object: 'model', created: 1_700_000_000, owned_by: 'tower-fake' })),
    };
  },
};

function defaultErrorType(status: number): string {
  if (status === 429) return 'requests';
  if (status >= 500) return 'server_error';
  return 'invalid_request_error';
}

function parseRequest(body: unknown, index: number): ParsedRequest {
  const record = isRecord(body) ? body : {};
  const system: string[] = [];
  const messages: NormalizedMessage[] = [];
  for (const message of asArray(record.messages)) {
    if (!isRecord(message)) continue;
    const text = textOf(message.content);
    switch (message.role) {
      case 'system':
      case 'developer':
        system.push(text);
        break;
      case 'user':
        messages.push({ role: 'user', text });
        break;
      case 'assistant':
        messages.push({
          role: 'assistant',
          text,
          tool_calls: asArray(message.tool_calls).filter(isRecord).map((call) => {
            const fn = isRecord(call.function) ? call.function : {};
            return { id: asString(call.id), name: asString(fn.name), args: parseArgs(fn.arguments) };
          }),
        });
        break;
      case 'tool':
        messages.push({ role: 'tool', tool_call_id: asString(message.tool_call_id), text });
        break;
    }
  }
  const tools: OfferedTool[] = asArray(record.tools)
    .filter(isRecord)
    .map((tool) => (isRecord(tool.function) ? tool.function : {}))
    .map((fn) => ({ name: asString(fn.name), description: asString(fn.description), parameters: fn.parameters }));
  return {
    index,
    format: 'openai',
    model: asString(record.model, 'fake'),
    stream: record.stream === true,
    system: system.length > 0 ? system.join('\n\n') : undefined,
    messages,
    tools,
    body,
  };
}

const CREATED = 1_700_000_000;

function chunk(plan: ResponsePlan, delta: Record<string, unknown>, finishReason: string | null = null): string {
  const value = {
    id: plan.id,
    object: 'chat.completion.chunk',
    created: CREATED,
    model: plan.model,
    system_fingerprint: null,
    choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
  };
  return `data: ${JSON.stringify(value)}\n\n`;
}

function usageBody(plan: ResponsePlan): Record<string, unknown> {
  const { input_tokens, output_tokens, cached_input_tokens } = plan.usage;
  return {
    prompt_tokens: input_tokens,
    completion_tokens: output_tokens,
    total_tokens: input_tokens + output_tokens,
    prompt_tokens_details: { cached_tokens: cached_input_tokens },
  };
}

function streamFrames(plan: ResponsePlan, body: unknown, complete: boolean): Frame[] {
  // Real OpenAI opens with the role; `content: ""` only when text follows (null before tool calls).
  const frames: Frame[] = [{ data: chunk(plan, { role: 'assistant', content: plan.text.length > 0 ? '' : null }) }];
  for (const piece of plan.reasoning) frames.push({ data: chunk(plan, { reasoning_content: piece }), content: piece });
  for (const piece of plan.text) frames.push({ data: chunk(plan, { content: piece }), content: piece });
  plan.toolCalls.forEach((call, index) => {
    const head = { index, id: call.id, type: 'function', function: { name: call.name, arguments: '' } };
    frames.push({ data: chunk(plan, { tool_calls: [head] }) });
    for (const piece of call.pieces) {
      frames.push({ data: chunk(plan, { tool_calls: [{ index, function: { arguments: piece } }] }), content: piece });
    }
  });
  if (!complete) return frames;
  if (plan.streamError) {
    const error = { message: plan.streamError.message, type: plan.streamError.type ?? 'server_error', code: null };
    frames.push({ data: `data: ${JSON.stringify({ error })}\n\n` });
    return frames;
  }
  frames.push({ data: chunk(plan, {}, plan.finish) });
  const options = isRecord(body) && isRecord(body.stream_options) ? body.stream_options : {};
  if (options.include_usage === true) {
    const value = { id: plan.id, object: 'chat.completion.chunk', created: CREATED, model: plan.model, choices: [], usage: usageBody(plan) };
    frames.push({ data: `data: ${JSON.stringify(value)}\n\n` });
  }
  frames.push({ data: 'data: [DONE]\n\n' });
  return frames;
}

function completion(plan: ResponsePlan): unknown {
  const text = plan.text.join('');
  const message: Record<string, unknown> = { role: 'assistant', content: text.length > 0 ? text : null, refusal: null };
  if (plan.reasoning.length > 0) message.reasoning_content = plan.reasoning.join('');
  if (plan.toolCalls.length > 0) {
    message.tool_calls = plan.toolCalls.map((call) => ({
      id: call.id,
      type: 'function',
      function: { name: call.name, arguments: call.json },
    }));
  }
  return {
    id: plan.id,
    object: 'chat.completion',
    created: CREATED,
    model: plan.model,
    choices: [{ index: 0, message, logprobs: null, finish_reason: plan.finish }],
    usage: usageBody(plan),
  };
}
