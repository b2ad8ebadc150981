import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TowerEvent } from '../../src/client/index.js';
import { demoResponder, type ParsedRequest } from '../../src/fake-models/index.js';
import { STEER_TOKENS_PER_SECOND } from '../../src/fake-models/demo-triggers.js';
import { startTestTower, type TestTower } from '../support/harness.js';

/**
 * The demo script behind a real Tower, as `serve --demo` runs it, each trigger played the way the README
 * shows. Pacing is off (tests wait for events, not for a reading pace), except for `steer`, whose slow
 * answer is what leaves time to steer.
 */
function testPacedDemo(request: ParsedRequest) {
  const response = demoResponder(request);
  if (response === undefined) return undefined;
  return { ...response, tokensPerSecond: response.tokensPerSecond === STEER_TOKENS_PER_SECOND ? 10 : undefined };
}

let t: TestTower;
beforeAll(async () => {
  t = await startTestTower({ script: testPacedDemo });
});
afterAll(async () => {
  await t.close();
});

/** Sends `text` to a new session and hands each event of the turn to `onEvent` until `stream_stopped`. */
async function turn(text: string, onEvent: (event: TowerEvent, id: string) => Promise<void> | void = () => undefined) {
  const session = await t.client.createSession();
  const events: TowerEvent[] = [];
  for await (const event of t.client.sendAndFollow(session.id, text)) {
    events.push(event);
    await onEvent(event, session.id);
  }
  const said = events.flatMap((e) => (e.type === 'agent_choice' ? [e.content] : [])).join('');
  const stop = events.at(-1);
  return { events, said, reason: stop?.type === 'stream_stopped' ? stop.reason : undefined, id: session.id };
}

describe('demo mode, trigger by trigger', () => {
  it('help lists the triggers', async () => {
    const { said, reason } = await turn('help');
    expect(reason).toBe('normal');
    for (const word of ['`think', '`approve`', '`ask`', '`long`', '`steer`']) expect(said).toContain(word);
  });

  it('think streams reasoning before the text', async () => {
    const { events } = await turn('think: why SSE?');
    const first = events.findIndex((e) => e.type === 'agent_choice_reasoning');
    expect(first).toBeGreaterThan(-1);
    expect(first).toBeLessThan(events.findIndex((e) => e.type === 'agent_choice'));
  });

  it('approve waits for an approval, then runs', async () => {
    const { events, said } = await turn('approve', async (event, id) => {
      if (event.type === 'tool_call_confirmation') await t.client.approve(id, event.tool_call_id);
    });
    expect(events.some((e) => e.type === 'tool_call_confirmed')).toBe(true);
    expect(said).toContain('this command ran because you approved it');
  });

  it('ask puts a question with a schema, and reads the answer back', async () => {
    const { said } = await turn('ask', async (event, id) => {
      if (event.type === 'elicitation_request') {
        expect(event.schema).toMatchObject({ required: ['color'] });
        await t.client.answerElicitation(id, event.elicitation_id, 'accept', { color: 'green' });
      }
    });
    expect(said).toContain('You picked green');
  });

  it('long streams bash output live and stops on interrupt', async () => {
    let interrupted = false;
    const { events, reason } = await turn('long', async (event, id) => {
      if (event.type === 'tool_call_confirmation') await t.client.approve(id, event.tool_call_id);
      if (event.type === 'tool_call_output' && !interrupted) {
        interrupted = true;
        await t.client.interrupt(id);
      }
    });
    expect(reason).toBe('canceled');
    expect(events.find((e) => e.type === 'tool_call_output')).toMatchObject({ data: expect.stringContaining('step 1 of') });
  });

  it('steer: a message steered into the slow answer is taken up in the same turn', async () => {
    let steered = false;
    const { said, reason, events } = await turn('steer', async (event, id) => {
      if (event.type === 'agent_choice' && !steered) {
        steered = true;
        await t.client.steer(id, 'go left');
      }
    });
    expect(reason).toBe('normal');
    expect(events.filter((e) => e.type === 'stream_started')).toHaveLength(1);
    expect(said).toContain('You steered me: "go left"');
  });
});
