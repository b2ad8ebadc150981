/**
 * The sessions benchmark's subscriber side, on bytes: splits an SSE stream into frames and reads the
 * tokens (`s17.3 `) out of each `agent_choice` frame's `content` without decoding the chunk to a string
 * or slicing one per token (the load generator reads up to 50k tokens/s from 1,000 streams, and every
 * microsecond it spends is taken from the server under test on a 2-core machine). Frames are
 * `id: N\nevent: T\ndata: {...}\n\n`, as Tower and the bare relay write them; frames without an id
 * (`retry:`, comments) are skipped.
 */

const NN = Buffer.from('\n\n');
const CONTENT = Buffer.from('"content":"');
const AGENT_CHOICE = Buffer.from('event: agent_choice\n');
const STREAM_STOPPED = Buffer.from('event: stream_stopped\n');

export interface TokenSink {
  /** Token `s<session>.<n> ` of an agent_choice frame. */
  token(session: number, n: number): void;
  /** An agent_choice frame (which may carry several tokens). */
  choice(): void;
  /** Content that is not a well-formed token list. */
  malformed(): void;
  stopped(): void;
}

const at = (buf: Buffer, pos: number, needle: Buffer, end: number): boolean => {
  if (pos + needle.length > end) return false;
  for (let i = 0; i < needle.length; i++) if (buf[pos + i] !== needle[i]) return false;
  return true;
};

export class TokenFrames {
  private carry: Buffer | undefined;

  constructor(private readonly sink: TokenSink) {}

  push(chunk: Buffer): void {
    let buf = chunk;
    if (this.carry) {
      buf = Buffer.concat([this.carry, chunk]);
      this.carry = undefined;
    }
    let start = 0;
    for (;;) {
      const end = buf.indexOf(NN, start);
      if (end < 0) break;
      this.frame(buf, start, end);
      start = end + 2;
    }
    // A frame cut by the chunk boundary (rare: Tower and the relay write whole frames); copied, so the
    // socket's buffer is not kept alive by a view of it.
    if (start < buf.length) this.carry = Buffer.from(buf.subarray(start));
  }

  private frame(buf: Buffer, start: number, end: number): void {
    if (!(buf[start] === 0x69 && buf[start + 1] === 0x64 && buf[start + 2] === 0x3a)) return; // "id:"
    const nl = buf.indexOf(0x0a, start);
    if (nl < 0 || nl >= end) return;
    if (at(buf, nl + 1, AGENT_CHOICE, end)) {
      this.sink.choice();
      const c = buf.indexOf(CONTENT, nl);
      if (c < 0 || c >= end) this.sink.malformed();
      else this.tokens(buf, c + CONTENT.length, end);
    } else if (at(buf, nl + 1, STREAM_STOPPED, end)) {
      this.sink.stopped();
    }
  }

  /** `s17.3 s17.4 "`: each token is `s`, digits, `.`, digits, a space; the list ends at the quote. */
  private tokens(buf: Buffer, i: number, end: number): void {
    while (i < end && buf[i] !== 0x22) {
      let session = -1;
      let n = -1;
      if (buf[i] === 0x73) {
        let j = i + 1;
        let a = 0;
        let digits = 0;
        for (; j < end && buf[j]! >= 0x30 && buf[j]! <= 0x39; j++, digits++) a = a * 10 + buf[j]! - 0x30;
        if (digits > 0 && buf[j] === 0x2e) {
          let b = 0;
          let k = j + 1;
          for (digits = 0; k < end && buf[k]! >= 0x30 && buf[k]! <= 0x39; k++, digits++) b = b * 10 + buf[k]! - 0x30;
          if (digits > 0 && buf[k] === 0x20) {
            session = a;
            n = b;
            i = k + 1;
          }
        }
      }
      if (session < 0) {
        this.sink.malformed();
        // Skip to the next token (or the end of the content).
        while (i < end && buf[i] !== 0x20 && buf[i] !== 0x22) i++;
        if (buf[i] === 0x20) i++;
        continue;
      }
      this.sink.token(session, n);
    }
  }
}

/**
 * Checks the scanner on Tower-shaped frames cut at every byte boundary (a wrong split would lose or
 * invent tokens and so bend the latency figures); throws on any difference. Run by the driver at start.
 */
export function selfCheck(): void {
  const frames =
    'retry: 1000\n\n: ping\n\n' +
    'id: 1\nevent: stream_started\ndata: {"type":"stream_started","seq":1,"data":{}}\n\n' +
    'id: 2\nevent: agent_choice\ndata: {"type":"agent_choice","seq":2,"data":{"content":"s12.0 "}}\n\n' +
    'id: 3\nevent: agent_choice\ndata: {"type":"agent_choice","seq":3,"data":{"content":"s12.1 s12.2 x s12.3 "},"session_id":"a"}\n\n' +
    'id: 4\nevent: stream_stopped\ndata: {"type":"stream_stopped","seq":4,"data":{"reason":"normal"}}\n\n';
  // choice() comes before its frame's tokens.
  const expected = 'choice,12.0,choice,12.1,12.2,malformed,12.3,stopped';
  const bytes = Buffer.from(frames);
  for (let cut = 0; cut <= bytes.length; cut++) {
    const seen: string[] = [];
    const scanner = new TokenFrames({
      token: (s, n) => seen.push(`${s}.${n}`),
      choice: () => seen.push('choice'),
      malformed: () => seen.push('malformed'),
      stopped: () => seen.push('stopped'),
    });
    scanner.push(bytes.subarray(0, cut));
    scanner.push(bytes.subarray(cut));
    if (seen.join(',') !== expected) throw new Error(`token-frames self-check failed at cut ${cut}: ${seen.join(',')}`);
  }
}
