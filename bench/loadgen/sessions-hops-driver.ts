/**
 * sessions-driver.ts with its sampled tokens' write times (the fake model's socket write) and receipt
 * times (the subscriber's chunk) kept per token, for bench/sessions-hops.ts: a `hops` request returns
 * them (`[key, written, read]` rows, keys as in bench/lib/token-hops.ts).
 */
import { machineMs } from '../lib/clock.js';
import { EVERY, HopTimes, KEY_SPAN } from '../lib/token-hops.js';
import { PacedModel } from './paced-model.js';
import { TokenFrames, type TokenSink } from './token-frames.js';
// Evaluated first (its IPC listener must be there when the parent's first request comes); the patches
// below apply to the instances it makes later.
import './sessions-driver.js';

const hops = new HopTimes(2);

interface StreamLike {
  session: number;
  next: number;
}
const paced = PacedModel.prototype as unknown as { writeDue(this: unknown, s: StreamLike, now: number): void };
const writeDue = paced.writeDue;
paced.writeDue = function (s: StreamLike, now: number): void {
  const first = s.next;
  writeDue.call(this, s, now);
  const at = machineMs();
  for (let n = first; n < s.next; n++) if (n % EVERY === 0) hops.mark(s.session * KEY_SPAN + n, 0, at);
};

/** The receipt time of the chunk being scanned. */
let readAt = 0;
const frames = TokenFrames.prototype as unknown as { push(this: { sink: TokenSink; hopped?: boolean }, chunk: Buffer): void };
const push = frames.push;
frames.push = function (chunk: Buffer): void {
  readAt = machineMs();
  if (!this.hopped) {
    this.hopped = true;
    const sink = this.sink;
    this.sink = {
      ...sink,
      choice: () => sink.choice(),
      malformed: () => sink.malformed(),
      stopped: () => sink.stopped(),
      token(session: number, n: number): void {
        if (n % EVERY === 0) hops.mark(session * KEY_SPAN + n, 1, readAt);
        sink.token(session, n);
      },
    };
  }
  push.call(this, chunk);
};

// First among the listeners; the request is then handed on as a `hangUp` (harmless after a run), whose reply goes unread.
process.prependListener('message', (raw) => {
  const msg = raw as { type: string; id: number };
  if (msg.type !== 'hops') return;
  msg.type = 'hangUp';
  process.send?.({ type: 'reply', id: msg.id, rows: hops.rows() });
});

