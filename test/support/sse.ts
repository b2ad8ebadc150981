/** A deliberately independent, minimal SSE reader for wire-level tests (not the SDK's parser). */
export interface RawFrame {
  id?: string;
  event?: string;
  data?: string;
  comment?: string;
}

export interface WireEventLike {
  seq: number;
  type: string;
  [key: string]: unknown;
}

export async function* readFrames(res: Response): AsyncGenerator<RawFrame> {
  if (!res.body) throw new Error('no body');
  const decoder = new TextDecoder();
  let buffer = '';
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    buffer += decoder.decode(chunk, { stream: true });
    let end: number;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const frame: RawFrame = {};
      for (const line of block.split('\n')) {
        if (line.startsWith(':')) frame.comment = line.slice(1).trim();
        else if (line.startsWith('id: ')) frame.id = line.slice(4);
        else if (line.startsWith('event: ')) frame.event = line.slice(7);
        else if (line.startsWith('data: ')) frame.data = (frame.data ? `${frame.data}\n` : '') + line.slice(6);
      }
      yield frame;
    }
  }
}

/**
 * Opens the events stream and collects events until `until` says stop (or the stream ends). Checks each
 * frame's `id` and `event` lines against the JSON it carries.
 */
export async function collectEvents(
  url: string,
  opts: { headers?: Record<string, string>; until: (e: WireEventLike, all: WireEventLike[]) => boolean; signal?: AbortSignal },
): Promise<WireEventLike[]> {
  const ctrl = new AbortController();
  opts.signal?.addEventListener('abort', () => ctrl.abort());
  const res = await fetch(url, { headers: opts.headers ?? {}, signal: ctrl.signal });
  if (res.status !== 200) throw new Error(`events: HTTP ${res.status}: ${await res.text()}`);
  const out: WireEventLike[] = [];
  try {
    for await (const frame of readFrames(res)) {
      if (frame.data === undefined) continue;
      const event = JSON.parse(frame.data) as WireEventLike;
      if (String(event.seq) !== frame.id || event.type !== frame.event) {
        throw new Error(`frame mismatch: id=${frame.id} event=${frame.event} data=${frame.data}`);
      }
      out.push(event);
      if (opts.until(event, out)) break;
    }
  } finally {
    ctrl.abort();
  }
  return out;
}

export const seqs = (events: Array<{ seq: number }>): number[] => events.map((e) => e.seq);
export const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i);
