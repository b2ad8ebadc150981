import { afterEach, describe, expect, it } from 'vitest';
import { createModelRegistry } from '../core/models/registry.js';
import { AiSdkStepper } from '../core/models/stepper.js';
import { generateTitle } from '../core/models/title.js';
import { DEMO_MODEL_ID } from '../core/models/demo.js';
import type { StepPart, ToolSpec } from '../core/models/types.js';
import type { ConversationMessage } from '../protocol/conversation.js';
import { demoResponder } from './demo-responder.js';
import { startDemoModelServer } from './demo-server.js';
import type { FakeModelServer, ParsedRequest } from './types.js';

const TOOLS: ToolSpec[] = ['read', 'write', 'list', 'glob', 'grep', 'bash'].map((name) => ({
  name,
  description: name,
  parameters: { type: 'object', properties: name === 'bash' ? { command: { type: 'string' } } : { path: { type: 'string' } } },
}));

let server: FakeModelServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function demoRig() {
  const started = await startDemoModelServer();
  server = started.server;
  const registry = createModelRegistry({ config: started.config, env: {} });
  const stepper = new AiSdkStepper(registry);
  const step = async (messages: ConversationMessage[]) => {
    const parts: StepPart[] = [];
    for await (const part of stepper.step({ model: DEMO_MODEL_ID, messages, tools: TOOLS, signal: new AbortController().signal })) {
      parts.push(part);
    }
    return parts;
  };
  return { registry, step };
}

const text = (parts: StepPart[]) => parts.flatMap((p) => (p.type === 'text' ? [p.delta] : [])).join('');
const toolCalls = (parts: StepPart[]) => parts.flatMap((p) => (p.type === 'tool_call' ? [p] : []));

describe('demoResponder through the real provider', () => {
  it('lists the directory, then summarizes the result, turn after turn', async () => {
    const { registry, step } = await demoRig();
    expect(registry.defaultModel()).toBe(DEMO_MODEL_ID);
    const history: ConversationMessage[] = [];
    for (const turn of [1, 2]) {
      history.push({ role: 'user', content: `hello, turn ${turn}` });
      const first = await step(history);
      expect(text(first)).toMatch(/look around/);
      const [call] = toolCalls(first);
      expect(call).toMatchObject({ name: 'list', args: { path: '.' } });
      if (!call) throw new Error('expected a list call');
      history.push({ role: 'assistant', content: text(first), tool_calls: [{ id: call.id, name: call.name, args: call.args }] });
      history.push({ role: 'tool', tool_call_id: call.id, tool_name: 'list', content: 'README.md\nsrc/\npackage.json', is_error: false });

      const second = await step(history);
      expect(toolCalls(second)).toEqual([]);
      expect(text(second)).toContain('3 entries: README.md, src/, package.json');
      expect(second.at(-1)).toMatchObject({ type: 'finish', finish_reason: 'stop' });
      history.push({ role: 'assistant', content: text(second) });
    }
  });

  it('runs `bash:` messages with the bash tool and shows the output', async () => {
    const { step } = await demoRig();
    const history: ConversationMessage[] = [{ role: 'user', content: 'bash: echo hi' }];
    const first = await step(history);
    const [call] = toolCalls(first);
    expect(call).toMatchObject({ name: 'bash', args: { command: 'echo hi' } });
    if (!call) throw new Error('expected a bash call');
    history.push({ role: 'assistant', content: text(first), tool_calls: [{ id: call.id, name: 'bash', args: call.args }] });
    history.push({ role: 'tool', tool_call_id: call.id, tool_name: 'bash', content: 'hi\n', is_error: false });
    expect(text(await step(history))).toContain('```\nhi\n```');
  });

  it('streams at a pleasant pace and gets automatic titles', async () => {
    const { registry, step } = await demoRig();
    const started = Date.now();
    const parts = await step([{ role: 'user', content: 'hi' }]);
    const chunks = parts.filter((p) => p.type === 'text').length;
    // ~30 chunks a second: n chunks take at least (n - 1) / 30 s.
    expect(Date.now() - started).toBeGreaterThanOrEqual(((chunks - 1) / 30) * 1000 * 0.9);
    expect(await generateTitle(registry, DEMO_MODEL_ID, 'show me the project layout please')).toBe('Show me the project layout please');
  });
});

describe('demoResponder script', () => {
  const request = (messages: ParsedRequest['messages'], tools = ['list', 'bash']): ParsedRequest => ({
    index: 0,
    format: 'openai',
    model: 'scripted',
    stream: true,
    system: undefined,
    messages,
    tools: tools.map((name) => ({ name, description: '', parameters: {} })),
    body: {},
  });

  it('reads JSON list output and tool errors', () => {
    const call = { role: 'assistant' as const, text: '', tool_calls: [{ id: 'c', name: 'list', args: { path: '.' } }] };
    const json = demoResponder(request([{ role: 'user', text: 'x' }, call, { role: 'tool', tool_call_id: 'c', text: '{"entries":[{"name":"a"},{"name":"b"}]}' }]));
    expect(json?.text).toContain('2 entries: a, b');
    const failed = demoResponder(request([{ role: 'user', text: 'x' }, call, { role: 'tool', tool_call_id: 'c', text: 'denied', is_error: true }]));
    expect(failed?.text).toContain('reported a problem: denied');
  });

  it('answers in text when the tools are not offered', () => {
    expect(demoResponder(request([{ role: 'user', text: 'hi' }], []))?.tool_calls).toBeUndefined();
    expect(demoResponder(request([{ role: 'user', text: 'bash: ls' }], ['list']))?.text).toContain("isn't available");
  });
});
