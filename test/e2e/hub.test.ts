import { describe, expect, it } from 'vitest';
import { hubRig, type Frame, type HubTower } from '../support/hub.js';

const rig = hubRig();

const post = (tt: HubTower, p: string, body: unknown) =>
  fetch(`${tt.url}${p}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

const seqsOf = (frames: Frame[], threadId: string): number[] =>
  frames.flatMap((f) => {
    if (f.type === 'batch' && f.data?.thread_id === threadId) return (f.data.messages as { message_seq: number }[]).map((m) => m.message_seq);
    if (f.type === 'message' && f.data?.thread_id === threadId) return [f.data.message_seq as number];
    return [];
  });

async function thread(tt: HubTower, id: string, n: number): Promise<void> {
  expect((await post(tt, '/api/threads', { id, title: id })).status).toBe(201);
  for (let i = 1; i <= n; i++) expect((await post(tt, `/api/threads/${id}/messages`, { content: `m${i}`, from_type: 'agent', from_id: 'a1' })).status).toBe(201);
}

describe('hub frames', () => {
  it('answers ping with pong and frames carry type, timestamp and data', async () => {
    const t = await rig.start();
    const c = await rig.connect(t);
    c.send('ping');
    const pong = await c.next((f) => f.type === 'pong');
    expect(typeof pong.timestamp).toBe('number');
  });

  it('subscribe to a thread: thread_state, batches of 50 with has_more, then live messages; unsubscribe stops them', async () => {
    const t = await rig.start();
    await thread(t, 'th', 120);
    const c = await rig.connect(t);
    c.send('subscribe', { thread_id: 'th', from_seq: 0 });
    expect((await c.next((f) => f.type === 'thread_state')).data).toMatchObject({ thread_id: 'th', status: 'active', last_seq: 120 });
    await c.next((f) => f.type === 'batch' && f.data?.has_more === false);
    const batches = c.frames.filter((f) => f.type === 'batch');
    expect(batches.map((b) => (b.data?.messages as unknown[]).length)).toEqual([50, 50, 20]);
    expect(batches.map((b) => b.data?.has_more)).toEqual([true, true, false]);
    await post(t, '/api/threads/th/messages', { content: 'live' });
    const live = await c.next((f) => f.type === 'message');
    expect(live.data).toMatchObject({ thread_id: 'th', message_seq: 121, content: 'live' });
    await c.next((f) => f.type === 'thread_state' && f.data?.last_seq === 121);
    await post(t, '/api/threads/th/status', { status: 'paused' });
    await c.next((f) => f.type === 'thread_state' && f.data?.status === 'paused');
    expect(seqsOf(c.frames, 'th')).toEqual(Array.from({ length: 121 }, (_, i) => i + 1));
    c.send('unsubscribe', { thread_id: 'th' });
    await c.next((f) => f.type === 'unsubscribed');
    await post(t, '/api/threads/th/messages', { content: 'after' });
    c.send('ping');
    const mark = c.frames.length;
    await c.next((f) => f.type === 'pong', mark - 1);
    expect(c.frames.some((f) => f.type === 'message' && f.data?.content === 'after')).toBe(false);
  });

  const junk: [string, string | Buffer, string, boolean?][] = [
    ['not JSON', '{nope', 'PARSE_ERROR'],
    ['not an object', '[1,2]', 'PARSE_ERROR'],
    ['a bare string', '"subscribe"', 'PARSE_ERROR'],
    ['no type', '{"data":{}}', 'PARSE_ERROR'],
    ['unknown type', '{"type":"explode","data":{}}', 'UNKNOWN_EVENT'],
    ['subscribe without a target', '{"type":"subscribe","data":{}}', 'INVALID_SUBSCRIBE'],
    ['subscribe with a string from_seq', '{"type":"subscribe","data":{"thread_id":"th","from_seq":"1"}}', 'INVALID_SUBSCRIBE'],
    ['negative from_seq', '{"type":"subscribe","data":{"thread_id":"th","from_seq":-1}}', 'INVALID_SUBSCRIBE'],
    ['huge from_seq', '{"type":"subscribe","data":{"thread_id":"th","from_seq":1e300}}', 'INVALID_SUBSCRIBE'],
    ['from_seq past the end', '{"type":"subscribe","data":{"thread_id":"th","from_seq":999}}', 'INVALID_SUBSCRIBE'],
    ['unknown thread', '{"type":"subscribe","data":{"thread_id":"nope"}}', 'SUBSCRIBE_FAILED'],
    ['unknown session', '{"type":"subscribe","data":{"session_id":"nope"}}', 'SUBSCRIBE_FAILED'],
    ['unknown topic', '{"type":"subscribe","data":{"topics":["secrets"]}}', 'INVALID_SUBSCRIBE'],
    ['ack without seq', '{"type":"ack","data":{"thread_id":"th"}}', 'INVALID_ACK'],
    ['ack with a float', '{"type":"ack","data":{"thread_id":"th","ack_seq":1.5}}', 'INVALID_ACK'],
    ['ack without client_id', '{"type":"ack","data":{"thread_id":"th","ack_seq":1}}', 'INVALID_ACK'],
    ['command without request_id', '{"type":"command","data":{"op":"send"}}', 'INVALID_COMMAND'],
    ['command with an unknown op', '{"type":"command","data":{"request_id":"r","op":"format_disk"}}', 'INVALID_COMMAND'],
    ['a binary frame', Buffer.from('{"type":"ping"}'), 'PARSE_ERROR', true],
  ];

  it('answers every junk frame with its documented code and stays usable, the store unchanged', async () => {
    const t = await rig.start();
    await thread(t, 'th', 3);
    const before = await (await fetch(`${t.url}/api/threads/th/messages`)).json();
    const c = await rig.connect(t);
    for (const [name, payload, code, binary] of junk) {
      const from = c.frames.length;
      c.raw(payload, binary === true);
      const f = await c.next((x) => x.type === 'error', from);
      expect(f.data?.code, name).toBe(code);
      expect(typeof f.data?.message, name).toBe('string');
    }
    c.send('ping');
    await c.next((f) => f.type === 'pong');
    expect(await (await fetch(`${t.url}/api/threads/th/messages`)).json()).toEqual(before);
  });

  it('an 11 KB frame gets FRAME_TOO_LARGE and close 1009', async () => {
    const t = await rig.start();
    const c = await rig.connect(t);
    c.raw(JSON.stringify({ type: 'ping', data: { pad: 'x'.repeat(11 * 1024) } }));
    expect((await c.next((f) => f.type === 'error')).data?.code).toBe('FRAME_TOO_LARGE');
    expect((await c.closed).code).toBe(1009);
  });

  it('500 frames in one second: RATE_LIMITED, the excess is not processed, the connection stays', async () => {
    const t = await rig.start();
    const c = await rig.connect(t);
    for (let i = 0; i < 500; i++) c.send('ping');
    await c.next((f) => f.type === 'error' && f.data?.code === 'RATE_LIMITED');
    // Keep pinging until one lands in a later window: then the connection is processing again.
    for (let got = false; !got; ) {
      const from = c.frames.length;
      c.send('ping');
      got = await c.next((f) => f.type === 'pong', from, 300).then(() => true, () => false);
    }
    const pongs = c.frames.filter((f) => f.type === 'pong').length;
    expect(pongs).toBeGreaterThanOrEqual(100);
    expect(pongs).toBeLessThan(300);
    expect(c.frames.filter((f) => f.type === 'error' && f.data?.code === 'RATE_LIMITED').length).toBeLessThanOrEqual(2);
  });
});
