import { TowerError } from '../../protocol/errors.js';
import type { CommitEntry, EncodedEntry } from '../../store/types.js';

/**
 * Serialises an entry's JSON parts once, before it joins a batch. A value JSON cannot represent (nested
 * too deep for the serialiser's stack, a cycle, a BigInt) or one over the size limit fails here, for
 * its own append only, instead of failing the transaction it would have shared with other sessions.
 */
export function encodeEntry(entry: CommitEntry, maxBytes: number): EncodedEntry {
  const encoded: EncodedEntry = { data: stringify(entry.data, 'event data') };
  let bytes = encoded.data.length;
  if (entry.message) {
    encoded.message = stringify(entry.message, 'message');
    bytes += encoded.message.length;
  }
  if (entry.replace_last_message) {
    encoded.replace_last_message = stringify(entry.replace_last_message, 'message');
    bytes += encoded.replace_last_message.length;
  }
  // String length counts UTF-16 units: at most 3 bytes each in UTF-8, at least one. Cheap and close.
  if (bytes > maxBytes) {
    throw new TowerError('payload_too_large', `${entry.type} event is larger than ${maxBytes} bytes`, {
      session_id: entry.session_id,
    });
  }
  return encoded;
}

function stringify(value: unknown, what: string): string {
  let json: string | undefined;
  try {
    json = JSON.stringify(value);
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new TowerError('invalid_request', `${what} cannot be stored as JSON: ${reason}`);
  }
  if (json === undefined) throw new TowerError('invalid_request', `${what} cannot be stored as JSON`);
  return json;
}
