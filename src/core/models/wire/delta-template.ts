import { isRecord, type JsonRecord } from '../../../protocol/guards.js';

/** What a template's events emit: a text or a reasoning delta. */
export type DeltaKind = 'text' | 'reasoning';

/** Where a decoder finds the delta string in an event's parsed JSON. */
export type DeltaPick = (value: JsonRecord) => unknown;

/** Put in place of the delta to check a template (a value no model sends as a whole delta). */
const SENTINEL = '\u0000\u0001tower';
const SENTINEL_LITERAL = JSON.stringify(SENTINEL);
/** Templates learned beyond the events they matched: a stream whose events all differ stops the learning. */
const MAX_FUTILE_LEARNS = 4;

/** From this length on, V8's `slice` makes a view into its string (a SlicedString) instead of a copy. */
const MIN_SLICED_LENGTH = 13;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/**
 * The fast path for the events that are most of a model stream. A text (or reasoning) delta event is,
 * byte for byte, the previous one's JSON text with another string in one place: OpenAI chat chunks
 * repeat id, created, model and choice index, Anthropic's `content_block_delta` its type, index and
 * delta type. After decoding such an event in full, the decoder hands it to `learn`, which splits its
 * text around the delta's string literal into a prefix and a suffix; a later event that is prefix +
 * one JSON string literal + suffix is then that delta, read without `JSON.parse` and without building
 * the event's objects.
 *
 * Why that is exact: a JSON text is tokenised left to right, so the tokens of the fixed prefix are the
 * same whatever follows, and a valid string literal after them is one string token; the suffix's
 * tokens follow it in the same state. Every such text thus parses to the same tree with only that one
 * string changed. `learn` proves that the token is the delta (and not another string, a duplicate key's
 * overridden value, or a value inside a string) by parsing the template with a sentinel in the slot and
 * finding the sentinel where the decoder reads the delta. `match` accepts only a slot that is exactly
 * one string literal (quotes at both ends, no raw quote or control character between, escapes checked
 * by `JSON.parse` of the literal alone); anything else (another shape, junk, a cut event) returns
 * undefined and the decoder parses the event in full, as it would without the template.
 */
export class DeltaTemplate {
  private prefix = '';
  private suffix = '';
  private learnedKind: DeltaKind | undefined;
  private hits = 0;
  private learns = 0;

  /** What the matched events emit (set once a template is learned). */
  get kind(): DeltaKind {
    return this.learnedKind ?? 'text';
  }

  /** The delta string of `data` when it is the template with another string in the slot, else undefined. */
  match(data: string): string | undefined {
    if (this.learnedKind === undefined) return undefined;
    const start = this.prefix.length;
    const end = data.length - this.suffix.length;
    // Compared as slices (a length check, then a memcmp): `startsWith` on these V8 strings goes char by
    // char and took about as long as the `JSON.parse` it replaces (~1 us for a 150-character prefix).
    if (end - start < 2 || data.slice(end) !== this.suffix || data.slice(0, start) !== this.prefix) return undefined;
    if (data.charCodeAt(start) !== QUOTE || data.charCodeAt(end - 1) !== QUOTE) return undefined;
    for (let i = start + 1; i < end - 1; i++) {
      const c = data.charCodeAt(i);
      // A raw quote would end the literal early; a raw control character is invalid JSON.
      if (c === QUOTE || c < 0x20) return undefined;
      if (c === BACKSLASH) return this.escaped(data.slice(start, end));
    }
    // A slice this long would be V8's view into the whole event text and keep it alive as long as the
    // delta (the step's text, the live ring): a longer delta is read out as a string of its own.
    if (end - start - 2 >= MIN_SLICED_LENGTH) return this.escaped(data.slice(start, end));
    this.hits++;
    return data.slice(start + 1, end - 1);
  }

  /**
   * Learns from `data`, an event just decoded in full (`value`) whose only effect was a `kind` delta,
   * the string at `pick(value)`, found in the text as the value of the last `"key"`. Keeps the old
   * template when this one cannot be proven.
   */
  learn(data: string, value: JsonRecord, key: string, kind: DeltaKind, pick: DeltaPick): void {
    if (this.learns > this.hits + MAX_FUTILE_LEARNS) return;
    this.learns++;
    const slot = literalAfterKey(data, key);
    if (slot === undefined) return;
    const prefix = data.slice(0, slot.start);
    const suffix = data.slice(slot.end);
    let probe: unknown;
    try {
      probe = JSON.parse(prefix + SENTINEL_LITERAL + suffix);
    } catch {
      return;
    }
    if (!isRecord(probe) || pick(probe) !== SENTINEL || pick(value) === SENTINEL) return;
    this.prefix = prefix;
    this.suffix = suffix;
    this.learnedKind = kind;
  }

  private escaped(literal: string): string | undefined {
    let value: unknown;
    try {
      value = JSON.parse(literal);
    } catch {
      return undefined;
    }
    if (typeof value !== 'string') return undefined;
    this.hits++;
    return value;
  }
}

const isSpace = (c: number): boolean => c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;

/** The span of the string literal after the last `"key":` in `data`, if there is one. */
function literalAfterKey(data: string, key: string): { start: number; end: number } | undefined {
  const at = data.lastIndexOf(`"${key}"`);
  if (at < 0) return undefined;
  let i = at + key.length + 2;
  while (isSpace(data.charCodeAt(i))) i++;
  if (data.charCodeAt(i) !== 0x3a) return undefined;
  i++;
  while (isSpace(data.charCodeAt(i))) i++;
  if (data.charCodeAt(i) !== QUOTE) return undefined;
  const start = i;
  for (i++; i < data.length; i++) {
    const c = data.charCodeAt(i);
    if (c === BACKSLASH) i++;
    else if (c === QUOTE) return { start, end: i + 1 };
  }
  return undefined;
}
