import type { Router } from 'zeromq';
import type { Logger } from '../../core/logger.js';
import { MAX_RPC_FRAME_BYTES } from '../../protocol/pando-bus.js';
import { dispatch, type MethodTable, type RpcAnswer } from './rpc-dispatch.js';
import { SendQueue } from './send-queue.js';

const EMPTY = Buffer.alloc(0);

/**
 * Serves JSON-RPC on a ROUTER socket. Requests of one client (one ZeroMQ identity) are answered in the
 * order they came, through a promise chain per identity; different clients never wait for each other.
 * Frames: `[identity][empty][json]` or `[identity][json]` in, always `[identity][empty][json]` out.
 */
export class RpcServer {
  private readonly chains = new Map<string, Promise<void>>();
  private loop: Promise<void> | undefined;
  private readonly replies: SendQueue<Array<Buffer | string>>;

  constructor(
    private readonly router: Router,
    private readonly methods: MethodTable,
    private readonly logger: Logger,
  ) {
    this.replies = new SendQueue((frames) => router.send(frames), 100_000, (err) => logger.warn({ err }, 'bus: rpc reply could not be sent'));
  }

  start(): void {
    this.loop = this.receive();
  }

  /** Waits for the answers already being worked on (the socket is closed by the owner afterwards). */
  async drain(): Promise<void> {
    await Promise.allSettled([...this.chains.values()]);
    await this.replies.drained();
  }

  async stopped(): Promise<void> {
    await this.loop;
  }

  private async receive(): Promise<void> {
    try {
      for await (const frames of this.router) this.onMessage(frames);
    } catch (err) {
      if (!this.router.closed) this.logger.error({ err }, 'bus: rpc receive loop ended');
    }
  }

  private onMessage(frames: Buffer[]): void {
    const [identity] = frames;
    const request = requestFrame(frames);
    if (!identity || identity.length === 0) {
      this.logger.warn({ frames: frames.length }, 'bus: rpc message without identity dropped');
      return;
    }
    const key = identity.toString('hex');
    const previous = this.chains.get(key) ?? Promise.resolve();
    const next = previous.then(async () => {
      const answer = request
        ? await dispatch(request, this.methods, this.logger)
        : shapeError(frames, this.logger);
      await this.reply(identity, answer);
    });
    this.chains.set(key, next);
    void next.finally(() => {
      if (this.chains.get(key) === next) this.chains.delete(key);
    });
  }

  /** Queued, not awaited: the next request of this client may start while the reply is on its way. */
  private async reply(identity: Buffer, answer: RpcAnswer): Promise<void> {
    if (this.router.closed) return;
    if (!this.replies.push([identity, EMPTY, JSON.stringify(answer)])) this.logger.warn('bus: reply queue full, answer dropped');
  }
}

/** The request is the last frame, after the identity and an optional empty delimiter. */
function requestFrame(frames: Buffer[]): Buffer | undefined {
  if (frames.length === 2) return frames[1];
  if (frames.length === 3 && frames[1]!.length === 0) return frames[2];
  return undefined;
}

function shapeError(frames: Buffer[], logger: Logger): RpcAnswer {
  const sizes = frames.slice(1).map((f) => f.length);
  logger.warn({ frames: frames.length }, 'bus: rpc message with an unexpected multipart shape');
  const tooBig = sizes.some((n) => n > MAX_RPC_FRAME_BYTES);
  return {
    jsonrpc: '2.0',
    id: null,
    error: {
      code: -32600,
      message: tooBig
        ? 'invalid request: frame too large'
        : `invalid request: expected [empty][json] or [json] after the identity, got ${frames.length - 1} frame(s)`,
    },
  };
}
