import { describe, expect, it } from 'vitest';
import type { TowerEvent } from '../client/index.js';
import { createColors } from './color.js';
import { humanPrinter, jsonPrinter } from './render.js';
import { summarizeArgs } from './tool-lines.js';

const envelope = { session_id: 'ses_1', timestamp: '2025-01-01T00:00:00.000Z' };
let seq = 0;
function ev<T extends TowerEvent['type']>(type: T, fields: Omit<Extract<TowerEvent, { type: T }>, 'type' | 'seq' | 'session_id' | 'timestamp'>): TowerEvent {
  return { type, ...fields, ...envelope, seq: ++seq } as TowerEvent;
}

function render(events: TowerEvent[], sessionEvents = false): string {
  let text = '';
  const printer = humanPrinter({ out: { write: (s) => (text += s) }, colors: createColors(false), sessionEvents });
  for (const event of events) printer.print(event);
  printer.finish();
  return text;
}

const turn: TowerEvent[] = [
  ev('user_message', { content: 'list files', message_index: 0 }),
  ev('stream_started', { turn_id: 't1', model: 'fake/model' }),
  ev('agent_choice_reasoning', { content: 'Let me look.' }),
  ev('agent_choice', { content: 'Sure, ' }),
  ev('agent_choice', { content: 'listing.' }),
  ev('tool_call', { tool_call_id: 'c1', tool: 'bash', args: { command: 'ls -la', timeout: 30 } }),
  ev('tool_call_output', { tool_call_id: 'c1', stream: 'stdout', data: 'total 0\n' }),
  ev('tool_call_response', { tool_call_id: 'c1', tool: 'bash', result: 'total 0\n.\n..\nexit code 0', is_error: false }),
  ev('tool_call', { tool_call_id: 'c2', tool: 'read_file', args: { path: 'missing.txt' } }),
  ev('tool_call_response', { tool_call_id: 'c2', tool: 'read_file', result: 'ENOENT: no such file\nstack', is_error: true }),
  ev('agent_choice', { content: 'Done.\n' }),
  ev('token_usage', {
    model: 'fake/model', input_tokens: 1, output_tokens: 1, cached_input_tokens: 0, cost: 0,
    total_input_tokens: 1, total_output_tokens: 1, total_cost: 0,
  }),
  ev('session_title', { title: 'Listing files' }),
  ev('stream_stopped', { turn_id: 't1', reason: 'normal' }),
];

describe('humanPrinter', () => {
  it('renders a turn for send: text raw, one line per tool call with its outcome', () => {
    expect(render(turn)).toBe(
      'Let me look.\n' +
        'Sure, listing.\n' +
        '⚙ bash ls -la  ✓ 3 lines, exit 0\n' +
        '    total 0\n' +
        '    .\n' +
        '    ..\n' +
        '⚙ read_file missing.txt  ✗ ENOENT: no such file\n' +
        '    stack\n' +
        'Done.\n',
    );
  });

  it('adds user messages and session changes for attach', () => {
    expect(render(turn, true)).toBe(
      '> list files\n' +
        'Let me look.\n' +
        'Sure, listing.\n' +
        '⚙ bash ls -la  ✓ 3 lines, exit 0\n' +
        '    total 0\n' +
        '    .\n' +
        '    ..\n' +
        '⚙ read_file missing.txt  ✗ ENOENT: no such file\n' +
        '    stack\n' +
        'Done.\n' +
        'title: Listing files\n',
    );
  });

  it('puts a result on its own line when other output came between call and result', () => {
    const text = render([
      ev('tool_call', { tool_call_id: 'a', tool: 'bash', args: { command: 'sleep 1' } }),
      ev('tool_call', { tool_call_id: 'b', tool: 'grep', args: { pattern: 'x', path: '.' } }),
      ev('tool_call_response', { tool_call_id: 'b', tool: 'grep', result: 'no matches', is_error: false }),
      ev('tool_call_response', { tool_call_id: 'a', tool: 'bash', result: '', is_error: false }),
    ]);
    expect(text).toBe('⚙ bash sleep 1\n⚙ grep x  ✓ no matches\n✓ bash:\n');
  });

  it('shows errors and a non-normal stop on their own lines', () => {
    const text = render([
      ev('agent_choice', { content: 'Working' }),
      ev('error', { code: 'model_http_error', message: 'upstream 500' }),
      ev('stream_stopped', { turn_id: 't', reason: 'max_iterations' }),
    ]);
    expect(text).toBe('Working\nerror: upstream 500 (model_http_error)\nstopped: max iterations\n');
  });

  it('colours when asked', () => {
    let text = '';
    const printer = humanPrinter({ out: { write: (s) => (text += s) }, colors: createColors(true) });
    printer.print(ev('error', { code: 'x', message: 'boom' }));
    expect(text).toBe('\u001b[31merror: boom (x)\u001b[39m\n');
  });

  it('ignores unknown events', () => {
    const unknown: TowerEvent = { type: 'unknown', event_type: 'future', data: {}, ...envelope, seq: 99 };
    expect(render([unknown], true)).toBe('');
  });
});

describe('humanPrinter: control events', () => {
  const permissions = { allow: ['bash'], ask: [], deny: ['rm*'], policy: 'balanced' as const, auto_approve: true };
  const control: TowerEvent[] = [
    ev('user_message', { content: 'go', message_index: 0 }),
    ev('tool_call_confirmation', { tool_call_id: 'call_1', tool: 'bash', args: { command: 'git push' } }),
    ev('tool_call_confirmed', { tool_call_id: 'call_1', decision: 'approve_tool' }),
    ev('tool_call_confirmed', { tool_call_id: 'call_2', decision: 'approve', reason: 'covered by approve_tool' }),
    ev('tool_call_confirmation', { tool_call_id: 'call_3', tool: 'write_file', args: { path: 'a.txt', content: 'x' } }),
    ev('tool_call_confirmed', { tool_call_id: 'call_3', decision: 'reject', reason: 'not that file' }),
    ev('elicitation_request', { elicitation_id: 'el_1', message: 'Which\nbranch?' }),
    ev('elicitation_resolved', { elicitation_id: 'el_1', action: 'accept' }),
    ev('elicitation_resolved', { elicitation_id: 'el_2', action: 'decline' }),
    ev('message_queued', { queue: 'steer', item_id: 'q_1', content: 'also the tests', depth: 1 }),
    ev('user_message', { content: 'also the tests', message_index: 2, steered: true, queue_item_id: 'q_1' }),
    ev('message_queued', { queue: 'followup', item_id: 'q_2', content: 'then docs', depth: 1 }),
    ev('queue_cleared', { queue: 'followup', item_ids: ['q_2', 'q_3'] }),
    ev('model_changed', { model: 'fake/b', previous: 'fake/a' }),
    ev('permissions_changed', { permissions }),
  ];

  it('asks for approvals and answers with the command that answers them, in send mode too', () => {
    expect(render(control)).toBe(
      '⏸ approval needed: bash git push (id call_1) — tower approve ses_1 call_1\n' +
        '✓ approved bash (call_1) and its tool from now on\n' +
        '✓ approved call_2 — covered by approve_tool\n' +
        '⏸ approval needed: write_file a.txt (id call_3) — tower approve ses_1 call_3\n' +
        '✗ rejected write_file (call_3): not that file\n' +
        '❓ question: Which branch? (id el_1) — tower answer ses_1 el_1 <answer>\n' +
        '✓ question answered (el_1)\n' +
        '✗ question declined (el_2)\n' +
        '↪ steered: also the tests\n' +
        '⧗ queued follow-up: then docs\n',
    );
  });

  it('adds queued steers, cleared queues, model and permission changes for attach', () => {
    const text = render(control, true);
    expect(text).toContain('> go\n⏸ approval needed');
    expect(text).toContain('⧗ queued steer: also the tests\n↪ steered: also the tests\n');
    expect(text).toContain('queue cleared: 2 follow-ups dropped\n');
    expect(text).toContain('⇄ model: fake/a → fake/b\n');
    expect(text).toContain('permissions: policy balanced · auto-approve on · allow bash · deny rm*\n');
    expect(text).not.toContain('> also the tests');
  });

  it('ends streamed text before an approval line', () => {
    const text = render([
      ev('agent_choice', { content: 'Pushing now' }),
      ev('tool_call', { tool_call_id: 'c1', tool: 'bash', args: { command: 'git push' } }),
      ev('tool_call_confirmation', { tool_call_id: 'c1', tool: 'bash', args: { command: 'git push' } }),
      ev('tool_call_confirmed', { tool_call_id: 'c1', decision: 'approve' }),
      ev('tool_call_response', { tool_call_id: 'c1', tool: 'bash', result: 'done', is_error: false }),
    ]);
    expect(text).toBe(
      'Pushing now\n⚙ bash git push\n⏸ approval needed: bash git push (id c1) — tower approve ses_1 c1\n' +
        '✓ approved bash (c1)\n✓ bash: done\n',
    );
  });
});

describe('jsonPrinter', () => {
  it('prints one wire-shaped JSON line per event, unknown ones as received', () => {
    let text = '';
    const printer = jsonPrinter({ write: (s) => (text += s) });
    printer.print(ev('agent_choice', { content: 'hi' }));
    printer.print({ type: 'unknown', event_type: 'future', data: { x: 1 }, ...envelope, seq: 100 });
    const lines = text.trimEnd().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines[0]).toMatchObject({ type: 'agent_choice', content: 'hi' });
    expect(lines[1]).toEqual({ type: 'future', x: 1, seq: 100, ...envelope });
  });
});

describe('summarizeArgs', () => {
  it.each<[unknown, string]>([
    [{ command: 'ls -la' }, 'ls -la'],
    [{ only: 'value' }, 'value'],
    [{ path: 'a.ts', content: 'x\ny' }, 'a.ts'],
    [{ a: 1, b: true }, '{"a":1,"b":true}'],
    [{ message: 'Which branch?', schema: { type: 'object' } }, 'Which branch?'],
    [{ command: 'echo one\n  two' }, 'echo one two'],
    [{ command: 'x'.repeat(100) }, `${'x'.repeat(79)}…`],
    [undefined, ''],
  ])('%j → %s', (args, expected) => {
    expect(summarizeArgs(args)).toBe(expected);
  });
});
