/**
 * A minimal, allocation-light SSE frame splitter for load generators: it only needs each frame's seq
 * (`id:` line) and a couple of fields, at hundreds of thousands of frames per second. Tower's own
 * SseParser (src/client) is the spec-complete one; both Tower and the bare baselines are read through this
 * same code, so client cost is identical on both sides of every ratio.
 *
 * Frames are `id: N\nevent: T\ndata: {...}\n\n`; comments (`: ping`) and `retry:` frames have no id and are
 * skipped. Text is decoded as latin1 (the benchmark payloads are ASCII).
 */
export type FrameHandler = (seq: number, text: string, start: number, end: number) => void;

export class FrameScanner {
  private rest = '';

  constructor(private readonly onFrame: FrameHandler) {}

  /** Returns the number of frames with an id completed by this chunk. */
  push(chunk: Buffer): number {
    const text = this.rest.length > 0 ? this.rest + chunk.toString('latin1') : chunk.toString('latin1');
    let start = 0;
    let frames = 0;
    for (;;) {
      const end = text.indexOf('\n\n', start);
      if (end < 0) break;
      if (text.startsWith('id: ', start)) {
        let seq = 0;
        for (let i = start + 4; i < end; i++) {
          const c = text.charCodeAt(i);
          if (c < 48 || c > 57) break;
          seq = seq * 10 + (c - 48);
        }
        frames++;
        this.onFrame(seq, text, start, end);
      }
      start = end + 2;
    }
    this.rest = start < text.length ? text.slice(start) : '';
    return frames;
  }
}

/** The event type of a frame (`event:` line), or '' when absent. */
export function frameType(text: string, start: number, end: number): string {
  const i = text.indexOf('\nevent: ', start);
  if (i < 0 || i >= end) return '';
  const nl = text.indexOf('\n', i + 8);
  return text.slice(i + 8, nl < 0 || nl > end ? end : nl);
}

/** The `content` string of a frame's JSON data (assumes no escapes, as in the benchmark payloads). */
export function frameContent(text: string, start: number, end: number): string | undefined {
  const i = text.indexOf('"content":"', start);
  if (i < 0 || i >= end) return undefined;
  const close = text.indexOf('"', i + 11);
  return text.slice(i + 11, close);
}
