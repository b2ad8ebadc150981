import { afterEach, describe, expect, it } from 'vitest';
import { createModelRegistry } from '../core/models/registry.js';
import { AiSdkStepper } from '../core/models/stepper.js';
import { generateTitle } from '../core/models/title.js';
import { DEMO_MODEL_ID } from '../core/models/demo.js';
import type { StepPart, ToolSpec } from '../core/models/types.js';
import type { ConversationMessage } from '../protocol/conversation.js';
import { compileElicitationSchema } from '../core/elicitation/schema.js';
import { DEMO_TOKENS_PER_SECOND, demoResponder } from './demo-responder.js';
import { APPROVE_COMMAND, ASK_SCHEMA, HELP_TEXT, LONG_COMMAND, LONG_SECONDS, STEER_TOKENS_PER_SECOND } from './demo-triggers.js';
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

  it('gets automatic titles', async () => {
    const { registry } = await demoRig();
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

  const user = (text: string) => ({ role: 'user' as const, text });
  const ALL = ['list', 'bash', 'ask_user'];

  it('streams at a pleasant pace', () => {
    expect(demoResponder(request([user('hi')]))?.tokensPerSecond).toBe(DEMO_TOKENS_PER_SECOND);
  });

  it('help explains every trigger', () => {
    const answer = demoResponder(request([user('help')], ALL));
    expect(answer?.tool_calls).toBeUndefined();
    for (const word of ['`help`', '`hello`', '`think', '`bash:', '`approve`', '`ask`', '`long`', '`steer`']) {
      expect(answer?.text).toContain(word);
    }
    expect(answer?.text).toBe(HELP_TEXT);
    expect(demoResponder(request([user('Help!')], ALL))?.text).toBe(HELP_TEXT);
  });

  it('think streams reasoning before the text', () => {
    const answer = demoResponder(request([user('think: why is the sky blue?')], ALL));
    expect(answer?.reasoning).toContain('why is the sky blue?');
    expect(answer?.text).toContain('why is the sky blue?');
  });

  it('approve runs a harmless bash command (bash asks for approval by default)', () => {
    expect(demoResponder(request([user('approve')], ALL))?.tool_calls).toEqual([{ name: 'bash', args: { command: APPROVE_COMMAND } }]);
  });

  it('ask puts a question with a small schema through ask_user, then reads the answer', () => {
    const first = demoResponder(request([user('ask')], ALL));
    const [call] = first?.tool_calls ?? [];
    expect(call).toMatchObject({ name: 'ask_user', args: { schema: ASK_SCHEMA } });
    expect(compileElicitationSchema(ASK_SCHEMA)).toBeDefined();
    const asked = { role: 'assistant' as const, text: '', tool_calls: [{ id: 'q', name: 'ask_user', args: call?.args }] };
    const answered = (text: string) => demoResponder(request([user('ask'), asked, { role: 'tool', tool_call_id: 'q', text }], ALL))?.text;
    expect(answered('{"action":"accept","content":{"color":"green","reason":"it is calm"}}')).toContain('You picked green because it is calm');
    expect(answered('{"action":"decline"}')).toContain('You did not answer (decline)');
  });

  it('long runs a bash command with a line of output a second, long enough to interrupt', () => {
    const [call] = demoResponder(request([user('long')], ALL))?.tool_calls ?? [];
    expect(call).toEqual({ name: 'bash', args: { command: LONG_COMMAND, timeout: LONG_SECONDS + 10 } });
    expect(LONG_COMMAND).toContain('sleep 1');
  });

  it('steer answers slowly, then takes up a steered message in the same turn', () => {
    const slow = demoResponder(request([user('steer')], ALL));
    expect(slow?.tokensPerSecond).toBe(STEER_TOKENS_PER_SECOND);
    expect(slow?.tool_calls).toBeUndefined();
    const steered = demoResponder(request([user('steer'), { role: 'assistant', text: slow?.text as string, tool_calls: [] }, user('go left')], ALL));
    expect(steered?.text).toContain('You steered me: "go left"');
  });

  it('anything else says hello and lists the directory', () => {
    expect(demoResponder(request([user('hello there')], ALL))?.tool_calls).toEqual([{ name: 'list', args: { path: '.' } }]);
    expect(demoResponder(request([user('asking nicely')], ALL))?.tool_calls?.[0]?.name).toBe('list');
  });

  it('answers in text when the tools are not offered', () => {
    expect(demoResponder(request([user('ask')], ['list']))?.text).toContain("the ask_user tool isn't available");
    expect(demoResponder(request([user('long')], ['list']))?.text).toContain("the bash tool isn't available");
    expect(demoResponder(request([{ role: 'user', text: 'hi' }], []))?.tool_calls).toBeUndefined();
    expect(demoResponder(request([{ role: 'user', text: 'bash: ls' }], ['list']))?.text).toContain("isn't available");
  });
});
