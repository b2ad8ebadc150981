import { afterEach, describe, expect, it } from 'vitest';
import { isTitleRequest, lastUserText, type ParsedRequest, type ScriptResponse } from '../../src/fake-models/index.js';
import type { InboxMessage } from '../../src/protocol/messaging.js';
import { startHubTower, type HubTower } from '../support/hub.js';
import { waitFor } from '../support/wait.js';

let t: HubTower | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

const offered: string[][] = [];

/**
 * "delegate to <id>: <work>" makes the model hand the work off; a handoff prompt makes it answer with
 * inbox_reply using the id the prompt names; a tool result ends the turn.
 */
function script(r: ParsedRequest): ScriptResponse | undefined {
  if (isTitleRequest(r)) return undefined;
  offered.push(r.tools.map((x) => x.name));
  const last = r.messages[r.messages.length - 1];
  if (last?.role === 'tool') return { text: `ok: ${last.text.slice(0, 40)}` };
  const text = lastUserText(r);
  if (text === 'hang') return { text: 'busy', hang: true };
  const spawnNew = /^spawn (\S+): (.*)$/.exec(text);
  if (spawnNew) return { text: 'spawning', tool_calls: [{ name: 'handoff', args: { new_session: { title: spawnNew[1] }, content: spawnNew[2] } }] };
  const delegate = /^delegate to (\S+): (.*)$/.exec(text);
  if (delegate) return { text: 'handing off', tool_calls: [{ name: 'handoff', args: { to_session: delegate[1], content: delegate[2] } }] };
  const reply = /inbox_reply tool: \{"id": "([^"]+)"/.exec(text);
  if (reply) {
    const work = text.split('\n')[1] ?? '';
    return { text: 'replying', tool_calls: [{ name: 'inbox_reply', args: { id: reply[1], payload: `did: ${work}` } }] };
  }
  return { text: 'nothing to do' };
}

describe('agent handoffs through the messaging tools', () => {
  it('two sessions hand work to each other; the replies land in the senders’ inboxes under the same correlation ids', async () => {
    t = await startHubTower({ script, policy: 'autonomous' });
    const { commands } = t.tower;
    const a = await commands.execute('sessions.create', { title: 'A' });
    const b = await commands.execute('sessions.create', { title: 'B' });
    const inbox = async (id: string) => (await commands.execute('inbox.list', { inbox: id })).messages;
    const responseIn = async (id: string): Promise<InboxMessage | undefined> => (await inbox(id)).find((m) => m.message_type === 'response');

    await commands.execute('sessions.send', { session_id: a.id, content: `delegate to ${b.id}: count the files` });
    await waitFor(async () => (await responseIn(a.id)) !== undefined);
    const handoffToB = (await inbox(b.id)).find((m) => m.message_type === 'handoff');
    const replyToA = await responseIn(a.id);
    expect(handoffToB).toMatchObject({ from_agent: a.id, to_inbox: b.id, payload: 'count the files', status: 'read' });
    expect(replyToA).toMatchObject({ from_agent: b.id, to_inbox: a.id, correlation_id: handoffToB?.correlation_id, payload: 'did: count the files' });

    await waitFor(async () => (await commands.execute('sessions.get', { session_id: a.id })).status === 'idle');
    await waitFor(async () => (await commands.execute('sessions.get', { session_id: b.id })).status === 'idle');
    await commands.execute('sessions.send', { session_id: b.id, content: `delegate to ${a.id}: write the summary` });
    await waitFor(async () => (await responseIn(b.id)) !== undefined);
    const handoffToA = (await inbox(a.id)).find((m) => m.message_type === 'handoff');
    const replyToB = await responseIn(b.id);
    expect(handoffToA).toMatchObject({ from_agent: b.id, payload: 'write the summary' });
    expect(replyToB).toMatchObject({ from_agent: a.id, correlation_id: handoffToA?.correlation_id, payload: 'did: write the summary' });
    expect(handoffToA?.correlation_id).not.toBe(handoffToB?.correlation_id);

    // Both sides' logs name the correlation id: the sender's tool result and the receiver's opening message.
    const events = async (id: string) => (await t!.tower.store.readEvents(id, 0, 1000)).map((e) => JSON.stringify(e.data)).join('\n');
    const corr = handoffToB?.correlation_id ?? 'missing';
    expect(await events(a.id)).toContain(corr);
    expect(await events(b.id)).toContain(corr);
    expect(offered.every((names) => ['thread_post', 'thread_read', 'inbox_list', 'inbox_reply', 'handoff'].every((n) => names.includes(n)))).toBe(true);
  });

  it('hands off to a new session, and queues a handoff behind a busy session’s turn', async () => {
    t = await startHubTower({ script, policy: 'autonomous' });
    const { commands } = t.tower;
    const a = await commands.execute('sessions.create', { title: 'A' });
    await commands.execute('sessions.send', { session_id: a.id, content: 'spawn helper: sort the list' });
    await waitFor(async () => (await commands.execute('inbox.list', { inbox: a.id })).messages.length === 1);
    const [reply] = (await commands.execute('inbox.list', { inbox: a.id })).messages;
    expect(reply).toMatchObject({ message_type: 'response', payload: 'did: sort the list' });
    const helper = (await commands.execute('sessions.list', {})).items.find((x) => x.title === 'helper');
    expect(helper?.id).toBe(reply?.from_agent);

    const busy = await commands.execute('sessions.create', { title: 'busy' });
    await commands.execute('sessions.send', { session_id: busy.id, content: 'hang' });
    await waitFor(async () => (await commands.execute('sessions.get', { session_id: a.id })).status === 'idle');
    await commands.execute('sessions.send', { session_id: a.id, content: `delegate to ${busy.id}: later work` });
    await waitFor(async () => (await commands.execute('sessions.queue', { session_id: busy.id })).followup.depth === 1);
    await waitFor(async () => (await commands.execute('sessions.get', { session_id: a.id })).status === 'idle');
    const result = (await t.tower.store.readEvents(a.id, 0, 1000)).filter((e) => e.type === 'tool_call_response').at(-1);
    expect(JSON.parse(String(result?.data.result))).toMatchObject({ delivery: 'queued', session_id: busy.id });
    await commands.execute('sessions.interrupt', { session_id: busy.id });
    await waitFor(async () => (await commands.execute('inbox.list', { inbox: a.id })).messages.length === 2);
    expect((await commands.execute('inbox.list', { inbox: a.id })).messages[1]).toMatchObject({ from_agent: busy.id, payload: 'did: later work' });
  });

  it('messaging tools pass the permission gate: under the balanced policy a handoff waits for confirmation', async () => {
    t = await startHubTower({ script, policy: 'balanced' });
    const { commands } = t.tower;
    const a = await commands.execute('sessions.create', {});
    const b = await commands.execute('sessions.create', {});
    await commands.execute('sessions.send', { session_id: a.id, content: `delegate to ${b.id}: anything` });
    await waitFor(async () => (await commands.execute('sessions.status', { session_id: a.id })).pending_confirmations.length === 1);
    expect((await commands.execute('sessions.status', { session_id: a.id })).pending_confirmations[0]).toMatchObject({ tool: 'handoff' });
    expect((await commands.execute('inbox.list', { inbox: b.id })).messages).toEqual([]);
    await commands.execute('confirmations.answer', { session_id: a.id, tool_call_id: (await commands.execute('sessions.status', { session_id: a.id })).pending_confirmations[0]!.tool_call_id, decision: 'reject' });
    await waitFor(async () => (await commands.execute('sessions.get', { session_id: a.id })).status === 'idle');
    expect((await commands.execute('inbox.list', { inbox: b.id })).messages).toEqual([]);
  });
});
