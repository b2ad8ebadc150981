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

/**
 * Encoded frames laid end to end in one buffer, written to a socket as one (a commit's event frames to a
 * caught-up connection: one write, the bytes the frames would be one after another).
 */
export function concatFrames(frames: readonly EncodedFrame[]): EncodedFrame {
  return Buffer.concat(frames) as EncodedFrame;
}

/** The payload length and header size of the encoded frame starting at `at`. */
function lengthAt(f: Buffer, at: number): { head: number; length: number } {
  const b = (f[at + 1] as number) & 0x7f;
  if (b < 126) return { head: 2, length: b };
  if (b === 126) return { head: 4, length: f.readUInt16BE(at + 2) };
  return { head: 10, length: f.readUInt32BE(at + 2) * 2 ** 32 + f.readUInt32BE(at + 6) };
}

/** The JSON text of an outbound frame (tests and diagnostics). */
export function frameText(f: OutFrame): string {
  if (typeof f === 'string') return f;
  const { head, length } = lengthAt(f, 0);
  return f.toString('utf8', head, head + length);
}

/** The JSON texts of what one `send` carried: one frame, or the frames of a `concatFrames` run. */
export function frameTexts(f: OutFrame): string[] {
  if (typeof f === 'string') return [f];
  const out: string[] = [];
  for (let at = 0; at < f.length; ) {
    const { head, length } = lengthAt(f, at);
    out.push(f.toString('utf8', at + head, at + head + length));
    at += head + length;
  }
  return out;
}
