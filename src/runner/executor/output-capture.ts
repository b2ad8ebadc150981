import { StringDecoder } from 'node:string_decoder';

export type OutputStream = 'stdout' | 'stderr';

/**
 * Collects a command's stdout and stderr, interleaved in arrival order, up to `maxBytes`, and forwards each
 * decoded chunk to `onOutput` as it arrives. Past the cap, chunks are dropped (neither kept nor forwarded:
 * a runaway `yes` must not flood the event log either) but the caller keeps draining the pipes so the
 * process never blocks on a full pipe.
 */
export class OutputCapture {
  private readonly chunks: string[] = [];
  private readonly decoders: Record<OutputStream, StringDecoder> = {
    stdout: new StringDecoder('utf8'),
    stderr: new StringDecoder('utf8'),
  };
  private bytes = 0;
  private full = false;

  constructor(
    private readonly maxBytes: number,
    private readonly onOutput?: (stream: OutputStream, data: string) => void,
  ) {}

  /** True once output beyond `maxBytes` was dropped. */
  get capped(): boolean {
    return this.full;
  }

  push(stream: OutputStream, data: Buffer): void {
    if (this.full) return;
    let chunk = data;
    if (this.bytes + chunk.length > this.maxBytes) {
      chunk = chunk.subarray(0, this.maxBytes - this.bytes);
      this.full = true;
    }
    this.bytes += chunk.length;
    // One decoder per stream: a multi-byte character split across two chunks of the same stream is joined.
    this.emit(stream, this.decoders[stream].write(chunk));
  }

  /** The whole collected output; flushes any partial character left in the decoders. */
  finish(): string {
    this.emit('stdout', this.decoders.stdout.end());
    this.emit('stderr', this.decoders.stderr.end());
    return this.chunks.join('');
  }

  private emit(stream: OutputStream, text: string): void {
    if (text === '') return;
    this.chunks.push(text);
    try {
      this.onOutput?.(stream, text);
    } catch {
      // A failing listener must not kill the command or crash the runner from inside a stream callback;
      // the full output still reaches the result.
    }
  }
}
