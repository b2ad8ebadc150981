import { describe, expect, it, vi } from 'vitest';
import { busRig } from './testing/bus-rig.js';

const rig = busRig();

type Row = [id: string, title: string];

describe('per-session refresh reads only what it needs', () => {
  it('keeps session.list right through create, rename, fork, delete and import without re-reading any conversation it does not announce', async () => {
    const t = await rig.start({ script: [{ text: 'first answer' }, { text: 'second answer' }], bus: { list: { perSessionIntervalMs: 0, maxIntervalMs: 0 } } });
    const s = await rig.sub();
    const d = await rig.dealer();
    const { commands, manager } = t.tower;
    // The bus runs its refreshes through this same CommandService: count the conversation reads, by session.
    const execute = commands.execute.bind(commands);
    const conversationReads: string[] = [];
    const tails: Array<number | undefined> = [];
    vi.spyOn(commands, 'execute').mockImplementation(((name: string, params: { session_id?: string; after_index?: number }) => {
      if (name === 'sessions.messages') {
        conversationReads.push(params.session_id ?? '');
        tails.push(params.after_index);
      }
      return execute(name as never, params as never);
    }) as typeof commands.execute);

    const stored = async (): Promise<Row[]> => ((await d.call('session.list')).result as Array<{ id: string; title: string }>).map((x) => [x.id, x.title]);
    const lastListed = (): string => JSON.stringify((s.of('session.list').at(-1)?.envelope.payload.sessions as Array<{ id: string; title: string }> | undefined)?.map((x) => [x.id, x.title]));
    const listRight = async (what: string): Promise<Row[]> => {
      await t.bus.topics.settled();
      const want = await stored();
      await s.until(() => lastListed() === JSON.stringify(want), 10_000, `session.list after ${what}`);
      expect(t.bus.topics.sessionCount).toBe(want.length);
      return want;
    };

    // A session with a turn, to fork from: its own messages are new, so they are read (and announced).
    const a = await commands.execute('sessions.create', { title: 'alpha' });
    await commands.execute('sessions.send', { session_id: a.id, content: 'hello' });
    expect(await manager.waitIdle(a.id, 10_000)).toBe(true);
    await listRight('a turn');
    expect(conversationReads.length).toBeGreaterThan(0);
    expect(new Set(conversationReads)).toEqual(new Set([a.id]));
    // A session created in view is read from its start; a second turn reads only past the first's messages.
    expect(tails[0]).toBe(-1);
    tails.length = 0;
    await commands.execute('sessions.send', { session_id: a.id, content: 'again' });
    expect(await manager.waitIdle(a.id, 10_000)).toBe(true);
    await listRight('a second turn');
    expect(tails.length).toBeGreaterThan(0);
    expect(tails.every((n) => n !== undefined && n >= 1)).toBe(true);
    expect(s.of('message.append').filter((p) => p.envelope.payload.session_id === a.id).map((p) => p.envelope.payload.content)).toEqual([
      'hello', 'first answer', 'again', 'second answer',
    ]);
    conversationReads.length = 0;

    const b = await commands.execute('sessions.create', { title: 'beta' });
    expect(await listRight('a creation')).toContainEqual([b.id, 'beta']);
    await commands.execute('sessions.update', { session_id: b.id, title: 'beta renamed' });
    expect(await listRight('a rename')).toContainEqual([b.id, 'beta renamed']);
    await commands.execute('sessions.update', { session_id: a.id, title: 'alpha renamed' });
    expect(await listRight('a rename of a session with messages')).toContainEqual([a.id, 'alpha renamed']);
    expect(conversationReads).toEqual([]);

    // A fork starts with messages copied from its parent: announced once from the fork, the parent not re-read.
    const fork = await commands.execute('sessions.fork', { session_id: a.id, message_index: 0 });
    expect((await listRight('a fork'))[0]).toEqual([fork.id, fork.title]);
    expect(conversationReads.every((id) => id === fork.id)).toBe(true);
    conversationReads.length = 0;

    await commands.execute('sessions.delete', { session_id: b.id });
    expect((await listRight('a deletion')).map(([id]) => id)).not.toContain(b.id);
    const exported = await commands.execute('sessions.export', { session_id: a.id });
    await commands.execute('sessions.delete', { session_id: a.id });
    expect((await listRight('a second deletion')).map(([id]) => id)).not.toContain(a.id);
    await commands.execute('sessions.import', { data: exported });
    await t.bus.topics.resyncList();
    expect(await listRight('an import and a resync')).toContainEqual([a.id, 'alpha renamed']);
    expect(conversationReads).toEqual([]);
    // session.update still carries the row as stored: the fork with its message count.
    expect(s.of('session.update').filter((p) => p.envelope.payload.id === fork.id).at(-1)?.envelope.payload).toMatchObject({ message_count: fork.message_count });
  });
});

describe('turn ends nobody watches cost no reads', () => {
  it('skips the row reads of message events without a subscriber, then resyncs silently when one comes', async () => {
    const t = await rig.start({ script: [{ text: 'first answer' }, { text: 'second answer' }, { text: 'third answer' }], bus: { list: { perSessionIntervalMs: 0, maxIntervalMs: 0 } } });
    const { commands, manager, store } = t.tower;
    const execute = commands.execute.bind(commands);
    // Rows come from the store's batch read, conversations through the command layer.
    const reads: string[] = [];
    const getSessions = store.getSessions.bind(store);
    vi.spyOn(store, 'getSessions').mockImplementation((ids) => {
      reads.push(`rows ${ids.length}`);
      return getSessions(ids);
    });
    vi.spyOn(commands, 'execute').mockImplementation(((name: string, params: { session_id?: string }) => {
      if (name === 'sessions.get' || name === 'sessions.messages') reads.push(name);
      return execute(name as never, params as never);
    }) as typeof commands.execute);
    const turn = async (id: string, content: string): Promise<void> => {
      await commands.execute('sessions.send', { session_id: id, content });
      expect(await manager.waitIdle(id, 10_000)).toBe(true);
      await t.bus.topics.settled();
    };

    // A creation is read (the list and the heartbeat's count need it); two turns nobody watches are not.
    const a = await commands.execute('sessions.create', { title: 'alpha' });
    await t.bus.topics.settled();
    expect(reads).toEqual(['rows 1']);
    await turn(a.id, 'hello');
    await turn(a.id, 'again');
    expect(reads).toEqual(['rows 1']);
    expect(t.bus.topics.sessionCount).toBe(1);

    // A subscriber arrives: one silent read brings the session up to date, and nothing old is announced.
    const s = await rig.sub();
    await t.bus.topics.settled();
    expect(reads).toEqual(['rows 1', 'rows 1']);
    const count = (await execute('sessions.get', { session_id: a.id })).message_count;
    expect(count).toBe(4);
    await commands.execute('sessions.update', { session_id: a.id, title: 'alpha renamed' });
    await t.bus.topics.settled();
    await s.until((all) => all.some((p) => p.topic === 'session.list') && all.some((p) => p.topic === 'session.update'), 10_000, 'session.list and session.update after a rename');
    const listed = s.of('session.list').at(-1)?.envelope.payload.sessions as Array<{ id: string; title: string; message_count: number }>;
    expect(listed).toEqual([expect.objectContaining({ id: a.id, title: 'alpha renamed', message_count: count })]);
    expect(s.of('session.update').at(-1)?.envelope.payload).toMatchObject({ id: a.id, title: 'alpha renamed', message_count: count });

    // The next turn's messages are announced from where the store was, not from where the bus stopped reading.
    await turn(a.id, 'third');
    const updated = (): number | undefined => (s.of('session.update').at(-1)?.envelope.payload as { message_count?: number } | undefined)?.message_count;
    await s.until((all) => all.filter((p) => p.topic === 'message.append').length >= 2 && updated() === count + 2, 10_000, 'the third turn');
    expect(s.of('message.append').map((p) => p.envelope.payload.content)).toEqual(['third', 'third answer']);
  });
});
