import type { WebSocket } from 'ws';
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
 */
export class Outbox {
  private pending = 0;
  /** Highest backlog seen (diagnostics, and tests pinning the memory bound). */
  maxBacklog = 0;
  private sentAt: number[] = [];
  private head = 0;
  private waiters: (() => void)[] | undefined;
  private closed = false;
  /** Reached the limit since the last wake: whoever held back (pumps, coalesced state) hears of the room. */
  private wasFull = false;
  private readonly onDone = (): void => {
    this.pending--;
    this.head++;
    if (this.pending === 0) {
      this.sentAt.length = 0;
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.sentAt.length) {
      this.sentAt.splice(0, this.head);
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
   */
  send(frame: OutFrame): void {
    if (this.closed) return;
    const text = typeof frame === 'string';
    if (!text && this.ws.readyState !== OPEN) return;
    this.pending++;
    if (this.pending > this.maxBacklog) this.maxBacklog = this.pending;
    if (this.pending >= this.limit) this.wasFull = true;
    this.sentAt.push(Date.now());
    if (text) this.ws.send(frame, this.onDone);
    else this.socket.write(frame, this.onDone);
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
