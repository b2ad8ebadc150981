import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from './log.js';

/** The part of a `ws` WebSocket the outbox uses. */
export interface FrameSocket {
  send(data: string, cb: (err?: Error) => void): void;
  readonly bufferedAmount: number;
}

interface Item {
  kind: 'live' | 'durable';
  frame?: string;
  /** A durable frame kept on disk rather than in memory. */
  file?: string;
  /** live output: task and stream, so consecutive chunks merge into one frame. */
  key?: string;
  /** live output: the merged text, turned into a frame by `build` when sent (merging stays linear). */
  data?: string;
  build?: (data: string) => string;
  sentAt?: number;
}

export const OUTBOX_LIMITS = {
  /** Durable frames larger than this go to disk at once. */
  inlineFrameBytes: 256 * 1024,
  /** In-memory durable bytes before further ones go to disk. */
  memoryBytes: 8 * 1024 * 1024,
  /** Above this many bytes buffered in the socket, the pump waits before sending more. */
  highWaterBytes: 4 * 1024 * 1024,
  /** Durable frames sent this recently are sent again after a reconnect (the gateway de-duplicates). */
  resendWindowMs: 10_000,
  resendMaxFrames: 200,
  /** One live output frame carries at most this many characters; longer runs are split. */
  liveFrameChars: 256 * 1024,
} as const;

/**
 * The runner's send queue, one FIFO so a task's output always precedes its result.
 *
 * - Durable frames (task.result, mcp.result) are never dropped: kept in memory while small and connected,
 *   else written to `dir` (one file each, atomically) and read back when sent; files left by a previous
 *   process (killed mid-way) are picked up at start. A frame is removed only after the socket accepted it;
 *   frames sent in the last `resendWindowMs` are queued again after a reconnect, because seed 004 has no
 *   acknowledgement and a frame written just before the link broke may never have arrived.
 * - Live frames (task.output) merge per task and stream while queued. Without a connection they are
 *   discarded: nobody is watching live, and the result carries the whole output.
 * - The pump sends one frame at a time, waits for the socket to take it and for its buffer to fall under
 *   the high-water mark: a full queue waits, it never drops.
 */
export class Outbox {
  private readonly queue: Item[] = [];
  private readonly recent: Item[] = [];
  private socket: FrameSocket | null = null;
  private pumping = false;
  /** A send failed on the current socket: wait for the next `attach` instead of retrying on a dying link. */
  private stalled = false;
  private memoryBytes = 0;
  private seq = 0;
  private idleWaiters: (() => void)[] = [];

  constructor(
    private readonly dir: string,
    private readonly log: Logger,
  ) {}

  /** Loads durable frames a previous process left on disk. */
  async init(): Promise<number> {
    await mkdir(this.dir, { recursive: true });
    const names = (await readdir(this.dir)).filter((n) => n.endsWith('.json')).sort();
    for (const name of names) this.queue.push({ kind: 'durable', file: path.join(this.dir, name) });
    this.seq = names.length;
    return names.length;
  }

  get pending(): number {
    return this.queue.length;
  }

  get connected(): boolean {
    return this.socket !== null;
  }

  attach(socket: FrameSocket): void {
    this.socket = socket;
    this.stalled = false;
    const cutoff = Date.now() - OUTBOX_LIMITS.resendWindowMs;
    const resend = this.recent.filter((i) => (i.sentAt ?? 0) >= cutoff);
    this.recent.length = 0;
    if (resend.length > 0) this.queue.unshift(...resend.map((i) => ({ kind: i.kind, ...(i.frame ? { frame: i.frame } : {}), ...(i.file ? { file: i.file } : {}) })));
    this.kick();
  }

  /** The link is gone: live output is dropped, durable frames in memory go to disk. */
  async detach(): Promise<void> {
    this.socket = null;
    for (let i = this.queue.length - 1; i >= 0; i -= 1) {
      if (this.queue[i]?.kind === 'live') this.queue.splice(i, 1);
    }
    for (const item of [...this.queue, ...this.recent]) {
      if (item.kind === 'durable' && item.frame !== undefined && item.file === undefined) await this.spill(item);
    }
  }

  /** Queues live output; merges with the previous chunk of the same task and stream while it waits. */
  output(key: string, data: string, build: (data: string) => string): void {
    if (this.socket === null) return;
    const last = this.queue[this.queue.length - 1];
    // The head item loses its key once the pump takes it, so nothing merges into a frame being sent.
    if (last && last.kind === 'live' && last.key === key && last.data !== undefined && last.data.length + data.length <= OUTBOX_LIMITS.liveFrameChars) {
      last.data += data;
    } else {
      this.queue.push({ kind: 'live', key, data, build });
    }
    this.kick();
  }

  /** Queues a frame that must arrive (a result). Resolves once it is queued (on disk when it has to be). */
  async durable(frame: string): Promise<void> {
    const item: Item = { kind: 'durable', frame };
    const size = Buffer.byteLength(frame, 'utf8');
    if (this.socket === null || size > OUTBOX_LIMITS.inlineFrameBytes || this.memoryBytes + size > OUTBOX_LIMITS.memoryBytes) {
      await this.spill(item);
    } else {
      this.memoryBytes += size;
    }
    this.queue.push(item);
    this.kick();
  }

  /** Resolves when nothing is left to send (for shutdown and tests). */
  idle(): Promise<void> {
    if (this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private async spill(item: Item): Promise<void> {
    if (item.frame === undefined) return;
    this.seq += 1;
    const name = `${String(Date.now()).padStart(15, '0')}-${String(this.seq).padStart(8, '0')}.json`;
    const file = path.join(this.dir, name);
    await mkdir(this.dir, { recursive: true });
    await writeFile(`${file}.tmp`, item.frame, 'utf8');
    await rename(`${file}.tmp`, file);
    this.memoryBytes = Math.max(0, this.memoryBytes - Buffer.byteLength(item.frame, 'utf8'));
    delete item.frame;
    item.file = file;
  }

  private kick(): void {
    if (this.pumping || this.stalled || this.socket === null) return;
    this.pumping = true;
    void this.pump().finally(() => {
      this.pumping = false;
      if (this.queue.length > 0 && this.socket !== null) this.kick();
    });
  }

  private async pump(): Promise<void> {
    while (this.socket !== null && this.queue.length > 0) {
      const socket = this.socket;
      const item = this.queue[0];
      if (item === undefined) break;
      let frame = item.frame;
      if (item.kind === 'live' && item.build && item.data !== undefined) frame = item.build(item.data);
      if (frame === undefined && item.file !== undefined) {
        try {
          frame = await readFile(item.file, 'utf8');
        } catch (err) {
          this.log.error({ err, file: item.file }, 'runner outbox: cannot read a spilled frame; skipping it');
          this.queue.shift();
          continue;
        }
      }
      if (frame === undefined) {
        this.queue.shift();
        continue;
      }
      // Mark the live item as taken, so later output starts a new frame instead of merging into this one.
      if (item.kind === 'live') delete item.key;
      const sent = await new Promise<boolean>((resolve) => {
        try {
          socket.send(frame, (err) => resolve(err === undefined || err === null));
        } catch {
          resolve(false);
        }
      });
      if (!sent) {
        this.stalled = true; // the socket is closing; `detach` follows and the item stays at the head
        break;
      }
      if (this.queue[0] === item) this.queue.shift();
      if (item.kind === 'durable') await this.remember(item, frame);
      while (this.socket === socket && socket.bufferedAmount > OUTBOX_LIMITS.highWaterBytes) {
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    }
    if (this.queue.length === 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
    }
  }

  /** Keeps a sent durable frame for the resend window; its file is removed once the window has passed. */
  private async remember(item: Item, frame: string): Promise<void> {
    if (item.frame !== undefined) this.memoryBytes = Math.max(0, this.memoryBytes - Buffer.byteLength(frame, 'utf8'));
    item.sentAt = Date.now();
    this.recent.push(item);
    const cutoff = Date.now() - OUTBOX_LIMITS.resendWindowMs;
    while (this.recent.length > OUTBOX_LIMITS.resendMaxFrames || ((this.recent[0]?.sentAt ?? Infinity) < cutoff)) {
      const old = this.recent.shift();
      if (old?.file) await rm(old.file, { force: true });
    }
  }

  /** Drops the resend buffer's files (clean shutdown: everything was sent). */
  async close(): Promise<void> {
    for (const item of this.recent.splice(0)) if (item.file) await rm(item.file, { force: true });
  }
}
