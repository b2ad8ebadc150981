/**
 * Whether a stored payload's text can be spliced into its event's wire JSON: the text tests behind
 * `rawWireJsonOf` and the SQL frames (store/sqlite/frames.ts), kept free of the event schemas so the
 * SQLite writer thread can decide it for each row it inserts without loading them.
 */

/**
 * One of the names below, quoted, anywhere in a text, or a `\u` escape (which could spell one): only
 * then is the key-by-key scan needed.
 */
const NAMED = /"(?:type|seq|session_id|timestamp|__proto__)"|\\u/;
const CLASHING = new Set(['type', 'seq', 'session_id', 'timestamp', '__proto__']);

/**
 * Whether payload text the splice cannot reproduce: a top-level payload key that `toWire`
 * overrides in place (an envelope name) or one `Object.assign` treats specially (`__proto__`). Only the
 * top level counts: `Object.assign` copies nested objects as they are and `JSON.stringify` writes them
 * as parsed, so a nested `"type"` (content parts, tool schemas) splices like any key. `text` is one
 * payload or a page's payloads back to back (each a JSON object). Text that has none of the names is
 * answered by one regex pass; else strings are skipped with `indexOf`, tracking depth. Text that does
 * not balance counts as unspliceable (the object way is always right).
 */
export function notSpliceable(text: string): boolean {
  if (!NAMED.test(text)) return false;
  let depth = 0;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      const end = closingQuote(text, i + 1);
      if (end < 0) return true;
      if (depth === 1 && text.charCodeAt(end + 1) === 0x3a) {
        const key = text.slice(i + 1, end);
        // An escaped key is decoded first: `"\u0074ype"` is `type` (JSON.stringify never writes it so).
        if (CLASHING.has(key.includes('\\') ? unescaped(key) : key)) return true;
      }
      i = end;
    } else if (c === 0x7b || c === 0x5b) {
      depth++;
    } else if (c === 0x7d || c === 0x5d) {
      if (--depth < 0) return true;
    }
  }
  return depth !== 0;
}

/** A key's text with its escapes decoded; one that is not valid JSON reads as `__proto__` (a clash). */
function unescaped(key: string): string {
  try {
    return JSON.parse(`"${key}"`) as string;
  } catch {
    return '__proto__';
  }
}

/** Index of the quote that ends the JSON string starting at `from` (-1 when none). */
function closingQuote(text: string, from: number): number {
  for (let j = text.indexOf('"', from); j >= 0; j = text.indexOf('"', j + 1)) {
    let k = j - 1;
    while (text.charCodeAt(k) === 0x5c) k--;
    // An even run of backslashes before it escapes only itself.
    if ((j - 1 - k) % 2 === 0) return j;
  }
  return -1;
}

/** Text `JSON.stringify` writes between quotes as it is: Tower's event types and ISO timestamps. */
const PLAIN = /^[0-9A-Za-z_:.+-]+$/;

/**
 * A stored event's splice flag (the `splice` column of SQLite's events, Postgres's too): 1 when its
 * wire JSON is the payload text minus its closing brace, then the envelope with `type` and `timestamp`
 * quoted verbatim (what the SQL frames do), 0 when only the object way gives it. `data` is the
 * payload's stored text (`JSON.stringify` output); decided once, when the row is written, so a replay
 * does not check its pages' payloads again.
 */
export function spliceFlag(data: string, type: string, timestamp: string): 0 | 1 {
  const n = data.length;
  if (n < 2 || data.charCodeAt(0) !== 0x7b || data.charCodeAt(n - 1) !== 0x7d || notSpliceable(data)) return 0;
  // Consecutive rows nearly always repeat both (a timestamp lasts a millisecond): one regex test each
  // per change, not per row.
  if (type !== plainType) {
    if (!PLAIN.test(type)) return 0;
    plainType = type;
  }
  if (timestamp !== plainStamp) {
    if (!PLAIN.test(timestamp)) return 0;
    plainStamp = timestamp;
  }
  return 1;
}

/** The last type and timestamp `spliceFlag` found plain. */
let plainType: string | undefined;
let plainStamp: string | undefined;
