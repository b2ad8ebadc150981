/**
 * The sessions benchmark's model server: OpenAI chat-completions streams paced at N tokens/s, every one
 * written by a single scheduler pass, not a timer, a promise and a wake-up closure per stream per token as
 * in src/fake-models (whose pacing is built for tests, a handful of streams). At 1,000 streams x 50 tok/s
 * that per-token machinery was most of the load generator's CPU, and the generator fell short of the load
 * asked (30.5k of 50k tok/s): its streams slept 20 ms after each late write, so lateness accumulated.
 *
 * The wire bytes are src/fake-models' own: each stream's opening and closing frames come from
 * `openaiFormat.streamFrames`, and a token's frame is that format's content frame with the token spliced
 * in (`selfCheck` compares a whole response byte for byte). Token k of a stream is due at its start +
 * k / tokensPerSecond: a pass that comes late writes every token due at once (as a real server that fell
 * behind would flush what it has), so the offered rate holds; each token's write time is read after its
 * write, so the latency clock starts when the bytes were handed to the socket, whatever the lateness.
 */
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { openaiFormat } from '../../src/fake-models/openai-format.js';
import { planResponse } from '../../src/fake-models/plan.js';
import { autoTitle, isTitleRequest, lastUserText, type ParsedRequest } from '../../src/fake-models/index.js';
import { machineMs } from '../lib/clock.js';
import { Histogram } from '../lib/hist.js';

/** How stream starts are placed: all at once (phase-locked bursts), or spread evenly over one token period. */
export type Phases = 'spread' | 'aligned';

export interface PacedModelOptions {
  tokensPerSecond: number;
  /** Tokens per stream: `s17.0 `, `s17.1 `, … for the session tagged `s17`. */
  tokens: number;
  /** Called once when the held streams start. */
  onRelease?: () => void;
}

interface Stream {
  res: http.ServerResponse;
  session: number;
  tag: string;
  /** Next token to write, and when it is due (token n: `start + n * period`). */
  next: number;
  start: number;
  due: number;
  opening: string;
  head: string;
  tail: string;
  closing: string;
  done: boolean;
}

const MARK = '\u0001TOKEN\u0001';
const MARK_JSON = JSON.stringify(MARK).slice(1, -1);

/** The frames of one paced answer, from the real format: opening, a token's frame around the token, closing. */
function template(request: ParsedRequest, tokens: number): { opening: string; head: string; tail: string; closing: string } {
  const plan = planResponse(request, { text: [MARK], usage: { input_tokens: 10, output_tokens: tokens } });
  const frames = openaiFormat.streamFrames(plan, request.body, true);
  const at = frames.findIndex((f) => f.content === MARK);
  const content = frames[at];
  if (!content) throw new Error('paced-model: the OpenAI format has no content frame');
  const split = content.data.indexOf(MARK_JSON);
  return {
    opening: frames
      .slice(0, at)
      .map((f) => f.data)
      .join(''),
    head: content.data.slice(0, split),
    tail: content.data.slice(split + MARK_JSON.length),
    closing: frames
      .slice(at + 1)
      .map((f) => f.data)
      .join(''),
  };
}

const SSE_HEAD = { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' };
const token = (tag: string, n: number): string => `${tag}.${n} `;

export class PacedModel {
  /** Write time of token n of session i, in `writtenAt[i * tokens + n]` (wall ms; 0 = not written). */
  writtenAt = new Float64Array(0);
  /** Write time minus due time of every token (how far the generator itself lagged). */
  lateness = new Histogram();
  written = 0;
  requests = 0;
  releasedAt = 0;
  releasedWith = 0;
  private readonly periodMs: number;
  private streams: Stream[] = [];
  private waiting: Stream[] = [];
  private sessions = 0;
  private phases: Phases = 'spread';
  private timer: NodeJS.Timeout | undefined;
  private server: http.Server | undefined;

  constructor(private readonly opts: PacedModelOptions) {
    this.periodMs = 1000 / opts.tokensPerSecond;
  }

  get tokensPerStream(): number {
    return this.opts.tokens;
  }

  /** With `tls` (PEM key and certificate) the server speaks HTTPS (bench/model-stream.ts `--tls`). */
  async listen(tls?: { key: string; cert: string }): Promise<string> {
    const handler = (req: http.IncomingMessage, res: http.ServerResponse) => this.handle(req, res);
    this.server = tls ? https.createServer(tls, handler) : http.createServer(handler);
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return `${tls ? 'https' : 'http'}://127.0.0.1:${(this.server.address() as AddressInfo).port}/v1`;
  }

  /** A new run of sessions `s0`..: forget what was written, hold answers until every session's request is in. */
  reset(sessions: number, phases: Phases): void {
    this.writtenAt = new Float64Array(sessions * this.opts.tokens);
    this.sessions = sessions;
    this.lateness = new Histogram();
    this.written = 0;
    this.requests = 0;
    this.releasedAt = 0;
    this.releasedWith = 0;
    this.phases = phases;
    this.streams = [];
    this.waiting = [];
  }

  /** Starts every held stream (the barrier is complete, or its time ran out). */
  release(): void {
    if (this.releasedAt !== 0) return;
    this.releasedAt = machineMs();
    this.releasedWith = this.waiting.length;
    const n = this.waiting.length;
    this.waiting.forEach((s, i) => this.begin(s, this.releasedAt + (this.phases === 'spread' ? (i / n) * this.periodMs : 0)));
    this.streams.push(...this.waiting);
    this.waiting = [];
    this.opts.onRelease?.();
    this.schedule(0);
  }

  async close(): Promise<void> {
    clearTimeout(this.timer);
    if (!this.server) return;
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let body: unknown;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
      } catch {
        res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify(openaiFormat.errorBody(400, 'bad JSON')));
        return;
      }
      const request = openaiFormat.parseRequest(body, this.requests++);
      const tag = lastUserText(request).trim();
      const session = /^s(\d+)$/.exec(tag);
      if (isTitleRequest(request) || !session || Number(session[1]) >= this.sessions) {
        this.answerAtOnce(res, request, isTitleRequest(request) ? autoTitle(request) : `unknown session ${tag}`);
        return;
      }
      const t = template(request, this.opts.tokens);
      // The real fake writes the role frame together with the first token, once its script answers.
      const stream: Stream = { res, session: Number(session[1]), tag, next: 0, start: 0, due: 0, ...t, done: false };
      res.on('close', () => (stream.done = true));
      res.writeHead(200, SSE_HEAD);
      if (this.releasedAt !== 0) {
        this.begin(stream, machineMs());
        this.streams.push(stream);
        this.schedule(0);
      } else {
        this.waiting.push(stream);
        if (this.waiting.length >= this.sessions) this.release();
      }
    });
  }

  private answerAtOnce(res: http.ServerResponse, request: ParsedRequest, text: string): void {
    const plan = planResponse(request, { text });
    if (!request.stream) {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(openaiFormat.completion(plan)));
      return;
    }
    res.writeHead(200, SSE_HEAD);
    res.end(
      openaiFormat
        .streamFrames(plan, request.body, true)
        .map((f) => f.data)
        .join(''),
    );
  }

  private begin(s: Stream, at: number): void {
    s.start = at;
    s.due = at;
  }

  private schedule(ms: number): void {
    if (this.timer === undefined) this.timer = setTimeout(this.pass, ms);
  }

  /** One pass over every stream: writes what is due, then sleeps until the next token is. */
  private readonly pass = (): void => {
    this.timer = undefined;
    const now = machineMs();
    let nextDue = Infinity;
    let finished = 0;
    for (const s of this.streams) {
      if (!s.done && s.due <= now) this.writeDue(s, now);
      if (s.done) finished++;
      else if (s.due < nextDue) nextDue = s.due;
    }
    if (finished > 64 && finished * 2 > this.streams.length) this.streams = this.streams.filter((s) => !s.done);
    if (nextDue !== Infinity) this.schedule(Math.max(0, nextDue - machineMs()));
  };

  private writeDue(s: Stream, now: number): void {
    const first = s.next;
    let out = first === 0 ? s.opening : '';
    while (s.next < this.opts.tokens && s.due <= now) {
      out += s.head + token(s.tag, s.next) + s.tail;
      s.next++;
      s.due = s.start + s.next * this.periodMs;
    }
    const last = s.next === this.opts.tokens;
    if (last) {
      s.done = true;
      s.res.end(out + s.closing);
    } else {
      s.res.write(out);
    }
    const at = machineMs();
    const base = s.session * this.opts.tokens;
    for (let n = first; n < s.next; n++) {
      this.writtenAt[base + n] = at;
      this.lateness.record(at - (s.start + n * this.periodMs));
    }
    this.written += s.next - first;
  }
}

/**
 * Fails loudly when the spliced frames are not the real fake's bytes (the format changed under the
 * template), so the sessions benchmark never measures a wire Tower's provider does not see in tests.
 */
export function selfCheck(tokens = 5): void {
  const body = { model: 'fake-model', stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 's3' }] };
  const request = openaiFormat.parseRequest(body, 7);
  const text = Array.from({ length: tokens }, (_, n) => token('s3', n));
  const real = openaiFormat
    .streamFrames(planResponse(request, { text, usage: { input_tokens: 10, output_tokens: tokens } }), body, true)
    .map((f) => f.data)
    .join('');
  const t = template(request, tokens);
  const spliced = t.opening + text.map((x) => t.head + x + t.tail).join('') + t.closing;
  if (spliced !== real) throw new Error(`paced-model self-check: spliced frames differ from openaiFormat's\n${spliced}\n---\n${real}`);
}
