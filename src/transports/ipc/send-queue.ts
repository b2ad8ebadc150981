/**
 * One socket send at a time. zeromq's `send` refuses (EBUSY, thrown synchronously) a send while another
 * is still waiting to be queued, which a PUB or ROUTER does when a peer's pipe is momentarily full. The
 * caller pushes and moves on; frames wait here, bounded, and past the bound the newest is dropped and
 * counted (a PUB may drop: subscribers recover with state.sync + message.list).
 */
export class SendQueue<M> {
  private readonly queue: M[] = [];
  private pumping: Promise<void> | undefined;
  dropped = 0;
  failed = 0;

  constructor(
    private readonly send: (message: M) => Promise<void>,
    private readonly limit: number,
    private readonly onError: (err: unknown, failures: number) => void,
  ) {}

  /** False when the queue was full and the message was dropped. */
  push(message: M): boolean {
    if (this.queue.length >= this.limit) {
      this.dropped += 1;
      return false;
    }
    this.queue.push(message);
    this.pumping ??= this.pump();
    return true;
  }

  get depth(): number {
    return this.queue.length;
  }

  /** Resolves once everything pushed so far has been handed to the socket. */
  async drained(): Promise<void> {
    while (this.pumping) await this.pumping;
  }

  private async pump(): Promise<void> {
    try {
      for (let m = this.queue.shift(); m !== undefined; m = this.queue.shift()) {
        try {
          await this.send(m);
        } catch (err) {
          this.failed += 1;
          this.onError(err, this.failed);
        }
      }
    } finally {
      this.pumping = undefined;
    }
  }
}
