import { rawWireJsonOf, type RawStoredEvent } from './wire-json.js';

/**
 * How a transport frames each stored event of a catch-up page: literal text around the event's seq,
 * type and wire JSON (`wireJson`). A format is data, so a store can build a whole page of frames itself
 * (in SQL) without knowing the transport; the transport keeps one format object and passes it as is.
 */
export type FramePiece = { readonly text: string } | 'seq' | 'type' | 'wire';
export type FrameFormat = readonly FramePiece[];

/** A page of stored rows as one encoded run of frames (a `FrameFormat` applied to each row, in order). */
export interface FramedRows {
  /** The frames of every row, UTF-8, in seq order. */
  bytes: Uint8Array;
  /** Each row's seq, ascending. */
  seqs: readonly number[];
  /** Seqs of the rows that are `session_deleted` (at most one in a well-formed log). */
  deletedSeqs: readonly number[];
}

/** One row's frame, built from its stored text: byte for byte the format applied to `wireJson(event)`. */
export function frameText(raw: RawStoredEvent, sessionJson: string, format: FrameFormat): string {
  let text = '';
  for (const piece of format) {
    text += piece === 'seq' ? raw.seq : piece === 'type' ? raw.type : piece === 'wire' ? rawWireJsonOf(raw, sessionJson) : piece.text;
  }
  return text;
}

/** The frames of stored rows of one session, built in JS (what a store that cannot build them gives). */
export function framedRows(sessionId: string, rows: readonly RawStoredEvent[], format: FrameFormat): FramedRows {
  const sessionJson = JSON.stringify(sessionId);
  let text = '';
  const seqs: number[] = [];
  const deletedSeqs: number[] = [];
  for (const row of rows) {
    text += frameText(row, sessionJson, format);
    seqs.push(row.seq);
    if (row.type === 'session_deleted') deletedSeqs.push(row.seq);
  }
  return { bytes: new TextEncoder().encode(text), seqs, deletedSeqs };
}
