import type Database from 'better-sqlite3';
import type { FrameFormat, FramedRows } from '../../protocol/wire-frames.js';
import { NOT_SPLICEABLE } from '../../protocol/wire-json.js';

type FrameRow = [frames: Buffer | null, seqs: string | null, deleted: string | null, payloads: string | null, envelopes: string | null, odd: number | null];

/**
 * The SQL quotes each row's type and timestamp verbatim, which is `JSON.stringify` only for text that
 * needs no escaping: Tower's types and ISO timestamps are these characters; anything else (never seen
 * from the typed API) sends the page to the JS path.
 */
const NOT_PLAIN = /[^0-9A-Za-z_:.+-]/;

/**
 * Catch-up pages built by SQLite: each row's frame is one `concat()` in C (the row's wire JSON spliced
 * from its stored text as `rawWireJsonOf` does) and the page is one `group_concat` returned as a BLOB,
 * so a page costs one query result of a few values instead of an array per row, JS splicing and UTF-8
 * encoding. What the splice cannot reproduce is checked on the whole page at once: a `{...}` payload in
 * C (GLOB), `NOT_SPLICEABLE` over the page's payloads and `NOT_PLAIN` over its types and timestamps in
 * JS (one regex pass each; SQLite's instr is a memcmp per byte, and an IN list of the known types a
 * lookup per row, each costing more than the splice). Such a page is left to the JS path.
 */
export class SqliteFrames {
  private readonly statements = new WeakMap<FrameFormat, Database.Statement<Record<string, string | number>, FrameRow>>();

  constructor(private readonly db: Database.Database) {}

  read(sessionId: string, afterSeq: number, limit: number, format: FrameFormat): FramedRows | undefined {
    if (limit <= 0) return { bytes: new Uint8Array(0), seqs: [], deletedSeqs: [] };
    const params: Record<string, string | number> = { session: sessionId, session_json: JSON.stringify(sessionId), after: afterSeq, limit };
    format.forEach((piece, i) => {
      if (typeof piece === 'object') params[`t${i}`] = piece.text;
    });
    const [frames, seqText, deletedText, payloads, envelopes, odd] = this.statement(format).get(params) as FrameRow;
    if (seqText === null || frames === null) return { bytes: new Uint8Array(0), seqs: [], deletedSeqs: [] };
    if (odd || NOT_SPLICEABLE.test(payloads ?? '') || NOT_PLAIN.test(envelopes ?? '')) return undefined;
    const seqs = seqText.split(',').map(Number);
    // group_concat keeps the subquery's order; checked rather than assumed.
    for (let i = 1; i < seqs.length; i++) if (!((seqs[i] as number) > (seqs[i - 1] as number))) return undefined;
    return { bytes: frames, seqs, deletedSeqs: deletedText === null ? [] : deletedText.split(',').map(Number) };
  }

  private statement(format: FrameFormat): Database.Statement<Record<string, string | number>, FrameRow> {
    let statement = this.statements.get(format);
    if (!statement) {
      const pieces = format.map((piece, i) => (piece === 'seq' ? 'seq' : piece === 'type' ? 'type' : piece === 'wire' ? WIRE : `@t${i}`));
      statement = this.db
        .prepare<Record<string, string | number>, FrameRow>(
          `SELECT CAST(group_concat(frame, '') AS BLOB), group_concat(seq), group_concat(CASE WHEN type = 'session_deleted' THEN seq END),
             group_concat(data, ''), group_concat(type || created_at, ''), max(odd)
           FROM (SELECT concat(${pieces.join(', ')}) AS frame, seq, type, data, created_at, data NOT GLOB '{*}' AS odd
                 FROM events WHERE session_id = @session AND seq > @after ORDER BY seq LIMIT @limit)`,
        )
        .raw(true);
      this.statements.set(format, statement);
    }
    return statement;
  }
}

/** `rawWireJsonOf` in SQL: the payload's keys, then the envelope (`{}` gives the envelope alone). */
const WIRE = `CASE WHEN data = '{}' THEN '{' ELSE substr(data, 1, length(data) - 1) || ',' END, '"type":"', type, '","seq":', seq, ',"session_id":', @session_json, ',"timestamp":"', created_at, '"}'`;
