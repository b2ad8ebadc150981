/**
 * The dashboard's one WebSocket to the hub (`/hub/ws`). Browsers cannot set an Authorization header
 * on a WebSocket, so the token goes in the first frame (`auth`), never in the URL. Subscriptions are
 * remembered and sent again, each with a fresh `from_seq`, every time the socket is (re)authenticated.
 *
 * Status: `connecting` until the first `authenticated`; `open`; `reconnecting` after a drop (retried
 * with backoff); `refused` when the hub would not open twice in a row while the HTTP API answers (hub
 * disabled, WebSocket blocked by a proxy): the app then uses SSE and polling, and tries the hub again
 * now and then. `unauthorized` when the API refuses the token too (the sign-in screen takes over).
 */

export type HubStatus = 'idle' | 'connecting' | 'open' | 'reconnecting' | 'refused' | 'unauthorized';

export interface HubFrame {
  type: string;
  timestamp?: number;
  data?: Record<string, unknown>;
}

/** The part of the browser's WebSocket this uses (tests pass a fake). */
export interface SocketLike {
  onopen: (() => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: (() => void) | null;
  onerror: (() => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

export interface HubSocketOptions {
  url: string;
  token(): string | undefined;
  /** Whether the HTTP API answers: tells a refused hub from a server that is down. */
  probe(): Promise<'up' | 'down' | 'unauthorized'>;
  open?(url: string): SocketLike;
  backoffMs?: readonly number[];
  /** How long the app stays on the fallback before trying the hub again. */
  retryRefusedMs?: number;
  /** A socket that says nothing for this long after a ping is dead. */
  silenceMs?: number;
}

/** A keyed subscription (`session:<id>`, `thread:<id>`): its subscribe data is built anew on each open. */
export interface HubSub {
  subscribe(): Record<string, unknown>;
  unsubscribe: Record<string, unknown>;
  onFrame(f: HubFrame): void;
  /** The socket dropped (false); the subscription is sent again when it is back. */
  onDrop(): void;
}

export interface TopicSub {
  onFrame(f: HubFrame): void;
  /** The topic is subscribed on a (new) connection. */
  onLive(): void;
  onDrop(): void;
}

/** Broadcast frame types and the topic each belongs to. */
const TOPIC_OF: Record<string, string> = {
  session_change: 'sessions',
  thread_state: 'threads',
  runner: 'runner',
  telemetry: 'telemetry',
  inbox_message: 'inbox_message',
};

const DEFAULT_BACKOFF = [250, 500, 1000, 2000, 4000, 8000];

export class HubSocket {
  private ws: SocketLike | undefined;
  private state: HubStatus = 'idle';
  private readonly keyed = new Map<string, HubSub>();
  private readonly topics = new Map<string, Set<TopicSub>>();
  /** Topics the server confirmed on the current connection. */
  private readonly liveTopics = new Set<string>();
  private readonly listeners = new Set<(s: HubStatus) => void>();
  private attempt = 0;
  private refusals = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private pinger: ReturnType<typeof setInterval> | undefined;
  private lastHeard = 0;
  private stopped = false;

  constructor(private readonly opts: HubSocketOptions) {}

  get status(): HubStatus {
    return this.state;
  }

  onStatus(fn: (s: HubStatus) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  start(): void {
    this.stopped = false;
    if (this.state === 'idle') this.connect();
  }

  stop(): void {
    this.stopped = true;
    this.clearTimers();
    const ws = this.ws;
    this.ws = undefined;
    if (ws) {
      ws.onclose = null;
      ws.close(1000, 'done');
    }
    this.set('idle');
  }

  /** Adds a keyed subscription (replacing one under the same key); returns its removal. */
  add(key: string, sub: HubSub): () => void {
    this.keyed.set(key, sub);
    if (this.state === 'open') this.send('subscribe', sub.subscribe());
    return () => {
      if (this.keyed.get(key) !== sub) return;
      this.keyed.delete(key);
      if (this.state === 'open') this.send('unsubscribe', sub.unsubscribe);
    };
  }

  /** Sends a keyed subscription again (after a FETCH_FAILED, say) with fresh data. */
  resubscribe(key: string): void {
    const sub = this.keyed.get(key);
    if (sub && this.state === 'open') this.send('subscribe', sub.subscribe());
  }

  topic(name: string, sub: TopicSub): () => void {
    let set = this.topics.get(name);
    if (!set) {
      this.topics.set(name, (set = new Set()));
      if (this.state === 'open') this.send('subscribe', { topics: [name] });
    }
    set.add(sub);
    if (this.liveTopics.has(name)) sub.onLive();
    return () => {
      const s = this.topics.get(name);
      if (!s?.delete(sub) || s.size > 0) return;
      this.topics.delete(name);
      this.liveTopics.delete(name);
      if (this.state === 'open') this.send('unsubscribe', { topics: [name] });
    };
  }

  private set(s: HubStatus): void {
    if (this.state === s) return;
    this.state = s;
    for (const fn of [...this.listeners]) fn(s);
  }

  private send(type: string, data?: unknown): void {
    this.ws?.send(JSON.stringify({ type, timestamp: Date.now(), ...(data === undefined ? {} : { data }) }));
  }

  private connect(): void {
    if (this.stopped) return;
    if (this.state === 'idle') this.set('connecting');
    let ws: SocketLike;
    try {
      ws = (this.opts.open ?? ((u) => new WebSocket(u) as unknown as SocketLike))(this.opts.url);
    } catch {
      void this.failedToOpen();
      return;
    }
    this.ws = ws;
    let authed = false;
    ws.onopen = () => {
      const token = this.opts.token();
      this.send('auth', token ? { token } : {});
    };
    ws.onmessage = (ev) => {
      this.lastHeard = Date.now();
      if (typeof ev.data !== 'string') return;
      let f: HubFrame;
      try {
        f = JSON.parse(ev.data) as HubFrame;
      } catch {
        return;
      }
      if (f.type === 'authenticated' && !authed) {
        authed = true;
        this.opened();
        return;
      }
      this.route(f);
    };
    ws.onerror = () => undefined;
    ws.onclose = () => {
      if (this.ws !== ws) return;
      this.ws = undefined;
      this.clearTimers();
      if (authed) this.dropped();
      else void this.failedToOpen();
    };
  }

  private opened(): void {
    this.liveTopics.clear();
    this.attempt = 0;
    this.refusals = 0;
    this.set('open');
    for (const sub of this.keyed.values()) this.send('subscribe', sub.subscribe());
    if (this.topics.size) this.send('subscribe', { topics: [...this.topics.keys()] });
    this.lastHeard = Date.now();
    const silence = this.opts.silenceMs ?? 45_000;
    this.pinger = setInterval(() => {
      if (Date.now() - this.lastHeard > silence) this.ws?.close(4000, 'silent');
      else this.send('ping');
    }, silence / 3);
  }

  private dropped(): void {
    this.liveTopics.clear();
    for (const sub of this.keyed.values()) sub.onDrop();
    for (const set of this.topics.values()) for (const t of set) t.onDrop();
    this.set('reconnecting');
    this.retry();
  }

  private async failedToOpen(): Promise<void> {
    if (this.stopped) return;
    const http = await this.opts.probe();
    if (this.stopped) return;
    if (http === 'unauthorized') return this.set('unauthorized');
    if (http === 'up' && ++this.refusals >= 2) {
      this.set('refused');
      this.refusals = 0;
      this.timer = setTimeout(() => this.connect(), this.opts.retryRefusedMs ?? 30_000);
      return;
    }
    if (http === 'down') this.refusals = 0;
    if (this.state !== 'connecting' && this.state !== 'refused') this.set('reconnecting');
    this.retry();
  }

  private retry(): void {
    const backoff = this.opts.backoffMs ?? DEFAULT_BACKOFF;
    const base = backoff[Math.min(this.attempt, backoff.length - 1)] ?? 8000;
    this.attempt++;
    // Jitter: many dashboards of one restarted server do not all come back at once.
    this.timer = setTimeout(() => this.connect(), base * (0.8 + Math.random() * 0.4));
  }

  private clearTimers(): void {
    if (this.timer) clearTimeout(this.timer);
    if (this.pinger) clearInterval(this.pinger);
    this.timer = undefined;
    this.pinger = undefined;
  }

  private route(f: HubFrame): void {
    const d = f.data ?? {};
    if (f.type === 'subscribed' && Array.isArray(d.topics)) {
      for (const name of d.topics as string[]) {
        if (this.liveTopics.has(name) || !this.topics.has(name)) continue;
        this.liveTopics.add(name);
        for (const t of this.topics.get(name) ?? []) t.onLive();
      }
      return;
    }
    const topic = TOPIC_OF[f.type];
    if (topic) for (const t of this.topics.get(topic) ?? []) t.onFrame(f);
    // Broadcast frames belong to their topic only; thread_state also to its thread's subscription.
    if (topic && f.type !== 'thread_state') return;
    const key = typeof d.session_id === 'string' ? `session:${d.session_id}` : typeof d.thread_id === 'string' ? `thread:${d.thread_id}` : undefined;
    if (key) this.keyed.get(key)?.onFrame(f);
  }
}
