import { describe, expect, it } from 'vitest';
import { toWire, type StoredEvent } from '../../protocol/events.js';
import type { FrameFormat } from '../../protocol/wire-frames.js';
import type { CommitEntry, Store } from '../types.js';
import { testEntry, testSessionRecord } from './fixtures.js';

/** Literal pieces with quotes, backslashes, newlines and non-ASCII: bound as text, never spliced into SQL. */
const FORMAT: FrameFormat = [{ text: "id: '" }, 'seq', { text: '"\\\nev ü😀: ' }, 'type', { text: '\ndata: ' }, 'wire', { text: '\n\n' }];

/** What the frames of stored events must be: the format applied to `JSON.stringify(toWire(event))`. */
function expectedFrames(events: readonly StoredEvent[]): string {
  let text = '';
  for (const e of events) {
    for (const piece of FORMAT) {
      text += piece === 'seq' ? e.seq : piece === 'type' ? e.type : piece === 'wire' ? JSON.stringify(toWire(e)) : piece.text;
    }
  }
  return text;
}

/**
 * Payloads the splice reproduces: text the JSON path escapes, integer keys, the empty payload, and
 * envelope names (and `__proto__`) below the top level, where real sessions have them (content parts,
 * tool schemas), or inside strings, escaped quotes included.
 */
const SPLICEABLE: Record<string, unknown>[] = [
  { content: 'plain' },
  { content: 'ünïcødé \u0000 nul \u0001\u001e\u001f controls, "quotes", \\ back\nslash\t, \u2028\u2029, \ud83d\ude00, lone \ud800 \udc00' },
  {},
  { '10': 'integer key', '2': 'another', z: [1, 2.5, -0, 1e21, 5e-324, null, true] },
  { content: 'x'.repeat(5000) },
  { content: 'c', nested: { type: 'a nested key is harmless', seq: 7, session_id: 'inner', timestamp: 't' } },
  { content: [{ type: 'text', text: 'hi' }, { type: 'image', seq: [{ type: 'deeper' }] }] },
  {
    tools: [{ type: 'function', function: { name: 'f', parameters: { type: 'object', properties: { seq: { type: 'integer' } } } } }],
    content: '{"type":"looks like a key", "seq": 1}',
  },
  { content: '"seq"', 'a"type"b': { type: 'a key with quotes in it' }, 'ends in \\': { '"type"': 1 } },
  { content: 'quote then key-like text \\"', type_: 'not an envelope name', nested: [[{ session_id: 's' }]] },
  JSON.parse('{"content": "p", "deep": {"__proto__": {"polluted": 1}}}') as Record<string, unknown>,
  { '\u001e': 'an RS key', content: 'ends in a brace }', 'x\u001ey': ['\u001e', '}', '{'] },
];

/** Payloads that are not objects (the typed API never writes them; an old or foreign row might hold one). */
const NOT_OBJECTS: unknown[] = [[1, { type: 'in an array' }], 'a string', 42, null, true, []];

/** Payloads only the object way reproduces: an envelope key or __proto__ at the top level. */
const OBJECT_WAY: Record<string, unknown>[] = [
  { content: 'x', type: 'not-the-type', seq: 'nope' },
  { nested: { type: 'a nested one too' }, seq: 3 },
  JSON.parse('{"__proto__": {"polluted": 1}, "content": "p"}') as Record<string, unknown>,
  { timestamp: 'payload timestamp', session_id: 'payload session' },
  { content: '"seq"', session_id: 'after a string that reads like a key' },
];

/**
 * `readEventFrames`: byte for byte the frames of `JSON.stringify(toWire(event))` for the rows
 * `readEventsRaw` gives, whatever the payloads. With `builds`, the store builds pages of spliceable
 * payloads itself (SQLite: the BLOB of its query, a Buffer, where the JS framing gives a plain
 * Uint8Array), so its own path is what these tests check, not the JS framing.
 */
/**
 * One page of `readEventFrames` against the frames of the events `readEvents` gives for the same window;
 * with `mustBuild`, built by the store itself (a Buffer). Resolves to the page's last seq.
 */
export async function checkFrames(store: Store, sessionId: string, afterSeq: number, limit: number, mustBuild: boolean): Promise<number> {
  const events = await store.readEvents(sessionId, afterSeq, limit);
  const framed = await store.readEventFrames(sessionId, afterSeq, limit, FORMAT);
  const where = `page after ${afterSeq}, limit ${limit}`;
  if (mustBuild && events.length > 0) expect(Buffer.isBuffer(framed.bytes), where).toBe(true);
  expect(Buffer.from(framed.bytes).toString('utf8'), where).toBe(expectedFrames(events));
  expect(Buffer.from(framed.bytes).equals(Buffer.from(expectedFrames(events), 'utf8'))).toBe(true);
  expect(framed.seqs).toEqual(events.map((e) => e.seq));
  expect(framed.deletedSeqs).toEqual(events.filter((e) => e.type === 'session_deleted').map((e) => e.seq));
  return framed.seqs.at(-1) ?? afterSeq;
}

export function describeFramesConformance(fresh: () => Promise<Store>, builds: boolean): void {
  describe('readEventFrames', () => {
    const check = checkFrames;

    it('frames spliceable rows exactly as the object path does, for any window', async () => {
      const store = await fresh();
      await store.createSession(testSessionRecord('a'));
      const entries: CommitEntry[] = SPLICEABLE.map((data, i) => ({ ...testEntry('a', i + 1), data }));
      entries.push({ ...testEntry('a', 99), type: 'session_deleted', data: {} });
      await store.commit(entries);
      const n = entries.length;
      for (const [after, limit] of [[0, 100], [0, 1], [1, 2], [2, n], [n - 1, 100]] as const) await check(store, 'a', after, limit, builds);
      for (const [id, after, limit] of [['a', n, 100], ['a', 0, 0], ['nope', 0, 100]] as const) {
        const empty = await store.readEventFrames(id, after, limit, FORMAT);
        expect(empty.bytes.byteLength).toBe(0);
        expect(empty).toMatchObject({ seqs: [], deletedSeqs: [] });
      }
    });

    it('frames a page with a payload only the object way reproduces exactly, each row its own way', async () => {
      const store = await fresh();
      for (const [i, data] of OBJECT_WAY.entries()) {
        const id = `o${i}`;
        await store.createSession(testSessionRecord(id));
        await store.commit([testEntry(id, 1), { ...testEntry(id, 2), data }, testEntry(id, 3)]);
        await check(store, id, 0, 100, false);
        await check(store, id, 2, 100, builds);
      }
    });

    it('frames payloads that are not objects the object way, beside spliced rows', async () => {
      const store = await fresh();
      await store.createSession(testSessionRecord('n'));
      const entries = NOT_OBJECTS.flatMap((data, i) => [testEntry('n', 2 * i), { ...testEntry('n', 2 * i + 1), data } as CommitEntry]);
      await store.commit(entries);
      await check(store, 'n', 0, 100, false);
      for (let after = 0; after < entries.length; ) after = await check(store, 'n', after, 3, false);
    });

    it('frames imported sessions (their own seqs, with holes) and an id that needs quoting', async () => {
      const store = await fresh();
      const events: StoredEvent[] = [1, 4, 5, 9].map((seq, i) => ({
        session_id: 'imp "q" ü',
        seq,
        type: 'agent_choice',
        data: { content: `imported ${seq}` },
        timestamp: `2025-0${i + 1}-02T03:04:05.${i}00Z`,
      }));
      await store.importSession(testSessionRecord('imp "q" ü'), [], events);
      for (const [after, limit] of [[0, 100], [1, 2], [5, 100], [6, 1]] as const) await check(store, 'imp "q" ü', after, limit, builds);
    });

    it('never quotes a timestamp that JSON would escape verbatim', async () => {
      const store = await fresh();
      const odd = (seq: number, timestamp: string): StoredEvent => ({ session_id: 't', seq, type: 'agent_choice', data: { content: 'c' }, timestamp });
      await store.importSession(testSessionRecord('t'), [], [odd(1, '2025-01-02T03:04:05.000Z'), odd(2, 'odd "ts" \\ \n \u0001 ü')]);
      await check(store, 't', 0, 100, false);
      await check(store, 't', 0, 1, builds);
    });
  });
}
