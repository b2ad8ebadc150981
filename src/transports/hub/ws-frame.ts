/**
 * A hub frame encoded once as a complete WebSocket text frame (header + UTF-8 payload, unmasked: the
 * server never masks), so a frame that many connections carry (a live event, a broadcast) costs one
 * encoding however many sockets it is written to, instead of one UTF-8 encoding and one header per
 * connection inside `ws`.
 */
export type EncodedFrame = Buffer & { readonly __encodedWsFrame: true };

/** What the hub hands to a connection's outbox: JSON text (sent through `ws`), or an encoded frame. */
export type OutFrame = string | EncodedFrame;

const FIN_TEXT = 0x81;

export function encodeTextFrame(text: string): EncodedFrame {
  const length = Buffer.byteLength(text);
  const head = length < 126 ? 2 : length < 65536 ? 4 : 10;
  const bytes = Buffer.allocUnsafe(head + length);
  bytes[0] = FIN_TEXT;
  if (head === 2) bytes[1] = length;
  else if (head === 4) {
    bytes[1] = 126;
    bytes.writeUInt16BE(length, 2);
  } else {
    bytes[1] = 127;
    bytes.writeUInt32BE(Math.floor(length / 2 ** 32), 2);
    bytes.writeUInt32BE(length >>> 0, 6);
  }
  bytes.write(text, head, 'utf8');
  return bytes as EncodedFrame;
}

/** The JSON text of an outbound frame (tests and diagnostics). */
export function frameText(f: OutFrame): string {
  if (typeof f === 'string') return f;
  const head = f[1] === 126 ? 4 : f[1] === 127 ? 10 : 2;
  return f.toString('utf8', head);
}
