import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { TerminalInput } from './line-input.js';

function terminal() {
  const input = new PassThrough();
  const output = new PassThrough();
  let screen = '';
  output.on('data', (chunk: Buffer) => (screen += chunk.toString('utf8')));
  let interrupts = 0;
  const line = new TerminalInput(input, output, () => interrupts++);
  let events = '';
  const out = line.wrap({ write: (text) => void (events += text) });
  return { input, line, out, screen: () => screen, events: () => events, interrupts: () => interrupts };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('TerminalInput', () => {
  it('shows the prompt and resolves with the typed line', async () => {
    const t = terminal();
    const answer = t.line.ask('approve? ', new AbortController().signal);
    await tick();
    t.input.write('yes\r');
    expect(await answer).toBe('yes');
    expect(t.screen()).toContain('approve? ');
  });

  it('resolves undefined on abort and erases the prompt', async () => {
    const t = terminal();
    const controller = new AbortController();
    const answer = t.line.ask('approve? ', controller.signal);
    await tick();
    controller.abort();
    expect(await answer).toBeUndefined();
    expect(t.screen()).toMatch(/\u001b\[2K$/);
  });

  it('turns Ctrl-C into undefined plus an interrupt', async () => {
    const t = terminal();
    const answer = t.line.ask('approve? ', new AbortController().signal);
    await tick();
    t.input.write('\u0003');
    expect(await answer).toBeUndefined();
    expect(t.interrupts()).toBe(1);
    expect(await t.line.ask('next? ', new AbortController().signal)).toBeUndefined();
  });

  it('writes complete lines above an open prompt and holds a partial one until it ends', async () => {
    const t = terminal();
    const answer = t.line.ask('approve? ', new AbortController().signal);
    await tick();
    t.out.write('partial');
    expect(t.events()).toBe('');
    t.out.write(' line\nnext');
    expect(t.events()).toBe('partial line\n');
    // The prompt is drawn again below the line.
    expect(t.screen().lastIndexOf('approve? ')).toBeGreaterThan(t.screen().indexOf('approve? '));
    t.input.write('a\r');
    await answer;
    expect(t.events()).toBe('partial line\nnext');
    t.out.write(' and more');
    expect(t.events()).toBe('partial line\nnext and more');
  });

  it('passes output straight through when no prompt is open', () => {
    const t = terminal();
    t.out.write('text');
    expect(t.events()).toBe('text');
  });
});
