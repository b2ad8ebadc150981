import type { CommitEntry } from '../types.js';
import type { WriterEntry } from './commit.js';

/**
 * A batch as it crosses to the writer thread. The main thread pays a structured clone per object it
 * posts (and per property of each), so the part every entry has (session id, type, timestamp, the
 * event's JSON) goes as one string and one transferred table of end offsets; only entries with more
 * than an event (a message, a patch, create/delete, state) add an object, with just those fields. The
 * thread rebuilds the `WriterEntry`s, on its own time.
 */
export interface WireBatch {
  /** Each entry's session id, type, timestamp and event JSON, concatenated in that order. */
  text: string;
  /** Four end offsets into `text` per entry: id, type, timestamp, data. */
  ends: Uint32Array;
  /** The entries with more than an event, by index in the batch. */
  extras: WireExtra[];
}

/** The fields the writer reads as they are (the thread gets them as cloned). */
const PASSED = ['create_session', 'session', 'delete_session', 'state', 'expect_state'] as const;
type Passed = Pick<WriterEntry, (typeof PASSED)[number]>;

/** An entry's fields beyond its event; messages by role, with their JSON. */
export interface WireExtra {
  i: number;
  message?: { role: string; json: string };
  replace_last_message?: { role: string; json: string };
  passed?: Passed;
}

/** The buffers to transfer with a batch (moved to the thread, not copied). */
export function transfers(batch: WireBatch): ArrayBuffer[] {
  return [batch.ends.buffer as ArrayBuffer];
}

/** On the main thread: the batch to post (with `transfers`). */
export function encodeBatch(entries: readonly CommitEntry[]): WireBatch {
  const ends = new Uint32Array(entries.length * 4);
  const extras: WireExtra[] = [];
  let text = '';
  for (let i = 0, k = 0; i < entries.length; i++) {
    const e = entries[i] as CommitEntry;
    text += e.session_id;
    ends[k++] = text.length;
    text += e.type;
    ends[k++] = text.length;
    text += e.timestamp;
    ends[k++] = text.length;
    text += e.encoded?.data ?? JSON.stringify(e.data);
    ends[k++] = text.length;
    const passed = passedOf(e);
    if (passed || e.message || e.replace_last_message) extras.push(extraOf(i, e, passed));
  }
  return { text, ends, extras };
}

function passedOf(e: CommitEntry): Passed | undefined {
  let out: Record<string, unknown> | undefined;
  for (const key of PASSED) if (e[key]) (out ??= {})[key] = e[key];
  return out as Passed | undefined;
}

function extraOf(i: number, e: CommitEntry, passed: Passed | undefined): WireExtra {
  const x: WireExtra = { i };
  if (e.message) x.message = { role: e.message.role, json: e.encoded?.message ?? JSON.stringify(e.message) };
  if (e.replace_last_message) {
    const m = e.replace_last_message;
    x.replace_last_message = { role: m.role, json: e.encoded?.replace_last_message ?? JSON.stringify(m) };
  }
  if (passed) x.passed = passed;
  return x;
}

/** In the thread: the entries the batch was made of, as the writer reads them. */
export function decodeBatch(batch: WireBatch): WriterEntry[] {
  const { text, ends } = batch;
  const entries = new Array<WriterEntry>(ends.length / 4);
  let start = 0;
  for (let i = 0, k = 0; i < entries.length; i++) {
    const idEnd = ends[k++] as number;
    const typeEnd = ends[k++] as number;
    const tsEnd = ends[k++] as number;
    const dataEnd = ends[k++] as number;
    entries[i] = {
      session_id: text.slice(start, idEnd),
      type: text.slice(idEnd, typeEnd) as WriterEntry['type'],
      timestamp: text.slice(typeEnd, tsEnd),
      encoded: { data: text.slice(tsEnd, dataEnd) },
    };
    start = dataEnd;
  }
  for (const x of batch.extras) {
    const e = entries[x.i] as WriterEntry & { encoded: { data: string; message?: string; replace_last_message?: string } };
    if (x.message) {
      e.message = { role: x.message.role };
      e.encoded.message = x.message.json;
    }
    if (x.replace_last_message) {
      e.replace_last_message = { role: x.replace_last_message.role };
      e.encoded.replace_last_message = x.replace_last_message.json;
    }
    if (x.passed) Object.assign(e, x.passed);
  }
  return entries;
}
