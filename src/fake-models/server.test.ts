import { afterEach, describe, expect, it, vi } from 'vitest';
import { TITLE_SYSTEM_PROMPT } from '../core/models/title.js';
import { splitIntoChunks } from './chunking.js';
import { startFakeAnthropic, startFakeModelServer, startFakeOpenAI } from './server.js';
import type { FakeModelServer } from './types.js';

let server: FakeModelServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const post = (path: string, body: unknown, signal?: AbortSignal) =>
  fetch(`${server?.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal });

/** `data:` payloads of an SSE body, parsed when they are JSON. */
function sseData(text: string): unknown[] {
  return text
    .split('\n\n')
    .filter((block) => block.trim().length > 0)
    .map((block) => block.split('\n').find((l) => l.startsWith('data: '))?.slice(6) ?? '')
    .map((data) => (data === '[DONE]' ? data : (JSON.parse(data) as unknown)));
}

const user = (content: string) => ({ role: 'user', content });

interface AnthropicEvent {
  type: string;
  message?: { usage: Record<string, unknown> };
  content_block?: { type: string };
  delta?: { type?: string; partial_json?: string; stop_reason?: string };
}

describe('splitIntoChunks', () => {
  it('splits into word-ish chunks that join back exactly', () => {
    expect(splitIntoChunks('  Hello big\nworld! ')).toEqual(['  ', 'Hello ', 'big\n', 'world! ']);
    expect(splitIntoChunks('')).toEqual([]);
  });
});

describe('fake OpenAI server', () => {
  it('streams chunks with tool call deltas, finish reason, usage and [DONE]', async () => {
    server = await startFakeOpenAI({ script: [{ text: 'Hi you', tool_calls: [{ name: 'list', args: { path: '.' } }] }] });
    const res = await post('/chat/completions', { model: 'm', stream: true, stream_options: { include_usage: true }, messages: [user('x')] });
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    const events = sseData(await res.text());
    expect(events.at(-1)).toBe('[DONE]');
    const chunks = events.slice(0, -1) as { choices: { delta: Record<string, unknown>; finish_reason: string | null }[]; usage?: unknown }[];
    const deltas = chunks.flatMap((c) => c.choices.map((choice) => choice.delta));
    expect(deltas[0]).toEqual({ role: 'assistant', content: '' });
    expect(deltas.flatMap((d) => (typeof d.content === 'string' && d.content ? [d.content] : []))).toEqual(['Hi ', 'you']);
    const toolDeltas = deltas.flatMap((d) => (Array.isArray(d.tool_calls) ? d.tool_calls : [])) as { id?: string; function: { name?: string; arguments: string } }[];
    expect(toolDeltas[0]).toMatchObject({ id: 'call_r0_0', function: { name: 'list', arguments: '' } });
    expect(toolDeltas.length).toBeGreaterThan(2);
    expect(toolDeltas.map((d) => d.function.arguments).join('')).toBe('{"path":"."}');
    expect(chunks.flatMap((c) => c.choices.map((ch) => ch.finish_reason)).filter(Boolean)).toEqual(['tool_calls']);
    expect(chunks.at(-1)).toMatchObject({ choices: [], usage: { completion_tokens: expect.any(Number), prompt_tokens: expect.any(Number) } });
    expect(server.requests).toEqual([{ model: 'm', stream: true, stream_options: { include_usage: true }, messages: [user('x')] }]);
  });

  it('leaves usage out of the stream unless asked for', async () => {
    server = await startFakeOpenAI({ script: [{ text: 'ok' }] });
    const events = sseData(await (await post('/chat/completions', { model: 'm', stream: true, messages: [user('x')] })).text());
    expect(events.some((e) => typeof e === 'object' && e !== null && 'usage' in e)).toBe(false);
  });

  it('answers non-streaming requests and GET /v1/models', async () => {
    server = await startFakeOpenAI({ script: [{ text: 'Hello', tool_calls: [{ name: 'bash', args: { command: 'ls' } }] }], models: ['a', 'b'] });
    const body = (await (await post('/chat/completions', { model: 'm', messages: [user('x')] })).json()) as Record<string, unknown>;
    expect(body).toMatchObject({
      object: 'chat.completion',
      choices: [
        {
          message: { role: 'assistant', content: 'Hello', tool_calls: [{ type: 'function', function: { name: 'bash', arguments: '{"command":"ls"}' } }] },
          finish_reason: 'tool_calls',
        },
      ],
    });
    const models = (await (await fetch(`${server.url}/models`)).json()) as { data: { id: string }[] };
    expect(models.data.map((m) => m.id)).toEqual(['a', 'b']);
  });

  it('answers errors in the OpenAI shape, with retry-after on 429', async () => {
    server = await startFakeOpenAI({ script: [{ error: { status: 429, message: 'slow down' } }] });
    const res = await post('/chat/completions', { model: 'm', stream: true, messages: [user('x')] });
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBe('1');
    expect(await res.json()).toEqual({ error: { message: 'slow down', type: 'requests', param: null, code: 'rate_limit_exceeded' } });
  });

  it('fails loudly once a list script is exhausted; title requests do not consume it', async () => {
    server = await startFakeOpenAI({ script: [{ text: 'one' }] });
    const title = await post('/chat/completions', { model: 'm', messages: [{ role: 'system', content: TITLE_SYSTEM_PROMPT }, user('fix the flaky test')] });
    expect(((await title.json()) as { choices: { message: { content: string } }[] }).choices[0]?.message.content).toBe('Fix the flaky test');
    expect((await post('/chat/completions', { model: 'm', messages: [user('x')] })).status).toBe(200);
    const exhausted = await post('/chat/completions', { model: 'm', messages: [user('x')] });
    expect(exhausted.status).toBe(500);
    expect(JSON.stringify(await exhausted.json())).toContain('exhausted');
  });

  it('normalizes the conversation for function scripts', async () => {
    const seen = vi.fn(() => ({ text: 'ok' }));
    server = await startFakeOpenAI({ script: seen });
    await post('/chat/completions', {
      model: 'm',
      messages: [
        { role: 'developer', content: 'sys' },
        user('hi'),
        { role: 'assistant', content: null, tool_calls: [{ id: 'c1', type: 'function', function: { name: 'list', arguments: '{"path":"."}' } }] },
        { role: 'tool', tool_call_id: 'c1', content: 'a' },
      ],
      tools: [{ type: 'function', function: { name: 'list', description: 'd', parameters: { type: 'object' } } }],
    });
    expect(seen).toHaveBeenCalledWith(
      expect.objectContaining({
        index: 0,
        format: 'openai',
        system: 'sys',
        messages: [
          { role: 'user', text: 'hi' },
          { role: 'assistant', text: '', tool_calls: [{ id: 'c1', name: 'list', args: { path: '.' } }] },
          { role: 'tool', tool_call_id: 'c1', text: 'a' },
        ],
        tools: [{ name: 'list', description: 'd', parameters: { type: 'object' } }],
      }),
    );
  });
});

describe('fake Anthropic server', () => {
  it('streams the Messages event sequence with thinking, text and split tool input', async () => {
    server = await startFakeAnthropic({
      script: [{ reasoning: 'hmm ok', text: 'Sure', tool_calls: [{ name: 'list', args: { path: 'src' } }], usage: { input_tokens: 50, output_tokens: 9, cached_input_tokens: 20 } }],
    });
    const res = await post('/messages', { model: 'claude', stream: true, max_tokens: 100, messages: [user('x')] });
    const text = await res.text();
    const names = [...text.matchAll(/^event: (\S+)$/gm)].map((m) => m[1]);
    expect(names[0]).toBe('message_start');
    expect(names.slice(-2)).toEqual(['message_delta', 'message_stop']);
    const events = sseData(text) as AnthropicEvent[];
    expect(events[0]?.message?.usage).toMatchObject({ input_tokens: 30, cache_read_input_tokens: 20 });
    const starts = events.filter((e) => e.type === 'content_block_start').map((e) => e.content_block?.type);
    expect(starts).toEqual(['thinking', 'text', 'tool_use']);
    const json = events.flatMap((e) => (e.delta?.type === 'input_json_delta' ? [e.delta.partial_json ?? ''] : []));
    expect(json.length).toBeGreaterThan(1);
    expect(json.join('')).toBe('{"path":"src"}');
    expect(events.find((e) => e.type === 'message_delta')).toMatchObject({ delta: { stop_reason: 'tool_use' }, usage: { output_tokens: 9 } });
  });

  it('answers non-streaming requests and errors in the Anthropic shape', async () => {
    server = await startFakeAnthropic({ script: [{ text: 'Hello' }, { error: { status: 529, message: 'Overloaded' } }] });
    const ok = (await (await post('/messages', { model: 'c', max_tokens: 5, messages: [user('x')] })).json()) as Record<string, unknown>;
    expect(ok).toMatchObject({ type: 'message', content: [{ type: 'text', text: 'Hello' }], stop_reason: 'end_turn' });
    const failed = await post('/messages', { model: 'c', max_tokens: 5, messages: [user('x')] });
    expect(failed.status).toBe(529);
    expect(await failed.json()).toEqual({ type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } });
    expect((await post('/chat/completions', {})).status).toBe(404);
  });

  it('normalizes tool results inside user turns', async () => {
    server = await startFakeAnthropic({ script: [{ text: 'ok' }] });
    await post('/messages', {
      model: 'c',
      max_tokens: 5,
      system: [{ type: 'text', text: 'sys' }],
      messages: [
        user('hi'),
        { role: 'assistant', content: [{ type: 'tool_use', id: 't1', name: 'bash', input: { command: 'ls' } }] },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 't1', content: [{ type: 'text', text: 'err' }], is_error: true }, { type: 'text', text: 'and?' }] },
      ],
    });
    expect(server.parsed[0]).toMatchObject({
      system: 'sys',
      messages: [
        { role: 'user', text: 'hi' },
        { role: 'assistant', text: '', tool_calls: [{ id: 't1', name: 'bash', args: { command: 'ls' } }] },
        { role: 'tool', tool_call_id: 't1', text: 'err', is_error: true },
        { role: 'user', text: 'and?' },
      ],
    });
  });
});

describe.each(['openai', 'anthropic'] as const)('pacing and aborts (%s)', (format) => {
  const path = format === 'openai' ? '/chat/completions' : '/messages';
  const body = { model: 'm', stream: true, max_tokens: 10, messages: [user('x')] };

  it('writes each chunk on its own at the scripted rate', async () => {
    // The log interleaves writes and pauses: a pause of 1000/50 ms between every two chunks.
    const log: string[] = [];
    server = await startFakeModelServer({
      format,
      script: [{ text: ['a', 'b', 'c', 'd', 'e'], tokensPerSecond: 50 }],
      onChunkWritten: (text) => log.push(text),
      pause: async (ms) => void log.push(`pause ${ms}`),
    });
    await (await post(path, body)).text();
    expect(log).toEqual(['a', 'pause 20', 'b', 'pause 20', 'c', 'pause 20', 'd', 'pause 20', 'e']);
  });

  it('stops writing when the client disconnects mid-stream', async () => {
    const writes: string[] = [];
    // Pauses never end by themselves: only the client leaving can end the one the writer is in.
    let pauses = 0;
    server = await startFakeModelServer({
      format,
      script: [{ text: Array.from({ length: 100 }, (_, i) => `w${i} `), tokensPerSecond: 100 }],
      onChunkWritten: (text) => writes.push(text),
      pause: () => {
        pauses += 1;
        return new Promise<void>(() => undefined);
      },
    });
    const controller = new AbortController();
    const res = await post(path, body, controller.signal);
    const reader = res.body?.getReader();
    await reader?.read();
    await vi.waitFor(() => expect(pauses).toBe(1));
    controller.abort();
    await vi.waitFor(() => expect(server?.aborted).toEqual([0]));
    // The close woke the pause; the writer saw the closed exchange and returned without writing again.
    await new Promise((resolve) => setImmediate(resolve));
    expect(writes).toEqual(['w0 ']);
    expect(pauses).toBe(1);
  });

  it('keeps a hanging stream open until the client leaves, and close() ends it', async () => {
    server = await startFakeModelServer({ format, script: [{ text: 'partial', hang: true }, { hang: true }] });
    const controller = new AbortController();
    const res = await post(path, body, controller.signal);
    const reader = res.body?.getReader();
    await reader?.read();
    controller.abort();
    await vi.waitFor(() => expect(server?.aborted).toEqual([0]));
    // A second hanging request is cut by close() without being counted as a client abort.
    const pending = post(path, body).then((r) => r.text()).catch((e: unknown) => e);
    await vi.waitFor(() => expect(server?.requests).toHaveLength(2));
    await server.close();
    expect(await pending).toBeInstanceOf(Error);
    expect(server.aborted).toEqual([0]);
    server = undefined;
  });
});
