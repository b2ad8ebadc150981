import type { WebSocket } from 'ws';
import { writeSlices, type SliceJob, type WriteSlices } from '../write-slices.js';
import type { OutFrame } from './ws-frame.js';

/** The upgraded socket under the connection's `ws`, as far as the outbox uses it. */
export interface RawSocket {
  cork(): void;
  uncork(): void;
  write(bytes: Uint8Array, done: (err?: Error | null) => void): boolean;
}

const OPEN = 1;

/**
 * The send side of one connection. It counts frames handed to the socket and not yet written out (the
 * unsent backlog); producers that can catch up from the store wait for room instead of queueing, so a
 * reader that stops costs at most `limit` frames of memory. The oldest unsent frame's age is the write
 * wait the hub checks.
 *
 * Writes go through the process's `WriteSlices`: past a turn's write budget (a commit fanned out to many
 * connections) the frames wait here, in order, for a later turn; everything sent meanwhile queues behind
 * them. Held frames count in the backlog like written ones, so backpressure is the same either way.
 */
export class Outbox implements SliceJob {
  private pending = 0;
  /** Highest backlog seen (diagnostics, and tests pinning the memory bound). */
  maxBacklog = 0;
  /** When each write not yet done was sent, oldest first from `head`. */
  private sentAt: number[] = [];
  private head = 0;
  private waiters: (() => void)[] | undefined;
  private closed = false;
  /** Reached the limit since the last wake: whoever held back (pumps, coalesced state) hears of the room. */
  private wasFull = false;
  /** Frames held for a later slice (sent, counted, not yet handed to the socket). */
  private held: OutFrame[] | undefined;
  /** Frames in each write not yet done, by write, beside `sentAt` (1 but for a run of a commit's frames). */
  private frames: number[] = [];
  private readonly onDone = (): void => {
    this.pending -= this.frames[this.head] ?? 1;
    this.head++;
    if (this.pending === 0) {
      this.sentAt.length = 0;
      this.frames.length = 0;
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.sentAt.length) {
      this.sentAt.splice(0, this.head);
      this.frames.splice(0, this.head);
      this.head = 0;
    }
    if (this.wasFull && this.pending <= this.limit / 2) {
      this.wasFull = false;
      this.wake();
    }
  };

  constructor(
    private readonly ws: WebSocket,
    readonly limit: number,
    /** The upgraded socket under `ws`: encoded frames are written to it directly. */
    private readonly socket: RawSocket,
    private readonly slices: WriteSlices = writeSlices,
  ) {}

  /**
   * Holds what is sent until `uncork`, so that the frames of one delivery (a commit's events) leave in
   * one socket write instead of one write (a syscall) each. `ws` corks around each frame itself; corks
   * nest, so the frames go out at the outer `uncork`, in order. Call both in the same turn.
   */
  cork(): void {
    this.socket.cork();
  }

  uncork(): void {
    this.socket.uncork();
  }

  get backlog(): number {
    return this.pending;
  }

  get full(): boolean {
    return this.pending >= this.limit;
  }

  /** Age in ms of the oldest frame not yet written, 0 when none waits. */
  oldestWaitMs(now: number): number {
    return this.pending > 0 ? now - (this.sentAt[this.head] ?? now) : 0;
  }

  /**
   * JSON text goes through `ws` (which frames it); an encoded frame is written to the socket as it is.
   * Both keep their order: with compression off (the hub's `perMessageDeflate: false`) and no Blob
   * data, `ws` writes each frame to the socket synchronously, inside `send`, `ping` and `close`. Once
   * `ws` is closing nothing more is written (its close frame must be the last).
   *
   * `frames` > 1: `frame` is that many encoded frames end to end (`concatFrames`), one write that counts
   * as that many frames in the backlog.
   */
  send(frame: OutFrame, frames = 1): void {
    if (this.closed) return;
    const text = typeof frame === 'string';
    if (!text && this.ws.readyState !== OPEN) return;
    this.pending += frames;
    if (this.pending > this.maxBacklog) this.maxBacklog = this.pending;
    if (this.pending >= this.limit) this.wasFull = true;
    this.sentAt.push(Date.now());
    this.frames.push(frames);
    if (this.held) this.held.push(frame);
    else if (this.slices.admit()) this.write(frame);
    else {
      this.held = [frame];
      this.slices.defer(this);
    }
  }

  /** Hands the held frames to the socket (their slice came, or the connection is about to close). */
  runSlice(): void {
    const held = this.held;
    if (!held) return;
    if (this.closed) {
      this.held = undefined;
      return;
    }
    this.socket.cork();
    try {
      // By index: whatever a write sends on the way (a wake-up's coalesced state) is held behind the rest.
      for (let i = 0; i < held.length; i++) this.write(held[i] as OutFrame);
    } finally {
      this.held = undefined;
      this.socket.uncork();
    }
  }

  private write(frame: OutFrame): void {
    if (typeof frame === 'string') this.ws.send(frame, this.onDone);
    else if (this.ws.readyState === OPEN) this.socket.write(frame, this.onDone);
    else this.onDone();
  }

  /** Resolves once the backlog is down to half the limit (or the connection closed). */
  room(): Promise<void> {
    if (this.closed || !this.full) return Promise.resolve();
    return new Promise((resolve) => (this.waiters ??= []).push(resolve));
  }

  /** Told whenever there is room again (to send coalesced state frames). */
  onRoom: { flush(): void } | undefined;

  close(): void {
    this.closed = true;
    this.wake();
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = undefined;
    for (const w of waiters ?? []) w();
    this.onRoom?.flush();
  }
}
