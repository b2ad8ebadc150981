import { isTitleRequest, lastUserText, type ParsedRequest, type ScriptResponse } from '../../src/fake-models/index.js';

export const STORY = Array.from({ length: 30 }, (_, i) => `word${i}`).join(' ') + ' THE-END';
export const GREETING = 'alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi omicron pi rho sigma tau omega';
export const QUESTION_SCHEMA = {
  type: 'object',
  properties: { name: { type: 'string', title: 'Your name' }, replicas: { type: 'integer', title: 'Replicas' } },
  required: ['name'],
};

/** The scripted model the dashboard tests talk to: what it answers depends on the last user message. */
export function dashboardScript(r: ParsedRequest): ScriptResponse | undefined {
  if (isTitleRequest(r)) return undefined;
  const last = r.messages.at(-1);
  const user = lastUserText(r);
  if (last?.role === 'tool') {
    if (user === 'use a tool') return { text: 'The command printed dashboard-ok.' };
    if (user === 'ask me') {
      const answer = JSON.parse(last.text) as { content?: { name?: string; replicas?: number } };
      return { text: `Thanks, ${answer.content?.name} (${answer.content?.replicas} replicas).` };
    }
    return { text: 'Tool done.' };
  }
  switch (user) {
    case 'hello':
      return { text: GREETING, tokensPerSecond: 12, usage: { input_tokens: 120, output_tokens: 20 } };
    case 'use a tool':
      return { text: 'Running a command.', tool_calls: [{ name: 'bash', args: { command: 'echo dashboard-ok' } }] };
    case 'steer test':
      return { text: 'Waiting for approval.', tool_calls: [{ name: 'bash', args: { command: 'echo steer-step' } }] };
    case 'go left':
      return { text: 'Steered: going left.' };
    case 'hang':
      return { text: 'Thinking', hang: true };
    case 'ask me':
      return { tool_calls: [{ name: 'ask_user', args: { message: 'What is your name?', schema: QUESTION_SCHEMA } }] };
    case 'think':
      return { reasoning: 'Weighing the options first.', text: 'Thought it through.' };
    case 'story':
      return { text: STORY, tokensPerSecond: 10, usage: { input_tokens: 300, output_tokens: 31 } };
    default:
      return { text: 'ok' };
  }
}
