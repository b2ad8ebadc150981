/**
 * Splits text into word-ish chunks (a word with its trailing whitespace), roughly what a tokenizer-driven
 * stream looks like. Joining the chunks gives the text back exactly.
 */
export function splitIntoChunks(text: string): string[] {
  return text.match(/\s+|\S+\s*/gy) ?? [];
}

/** Normalizes a script's `text`/`reasoning` field to chunks, dropping empty ones. */
export function toChunks(value: string | string[] | undefined): string[] {
  if (value === undefined) return [];
  const chunks = typeof value === 'string' ? splitIntoChunks(value) : value;
  return chunks.filter((chunk) => chunk.length > 0);
}

/**
 * Splits serialized tool arguments into small pieces so the client has to reassemble them, as with real
 * providers. Always at least two pieces when the JSON allows it.
 */
export function splitJson(json: string, pieceLength = 8): string[] {
  if (json.length <= 1) return [json];
  const size = Math.max(1, Math.min(pieceLength, Math.ceil(json.length / 2)));
  const pieces: string[] = [];
  for (let i = 0; i < json.length; i += size) pieces.push(json.slice(i, i + size));
  return pieces;
}
