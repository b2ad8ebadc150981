import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { StoredEvent } from '../../protocol/events.js';
import type { Store } from '../../store/types.js';
import type { EventLog, EventSubscription, SinkSubscription } from '../event-log/index.js';
import type { ModelStepper } from '../models/types.js';
import type { ToolExecutor } from '../../protocol/tools.js';
import { DeferredObservations } from './deferred-observations.js';
import { EventCounters } from './event-counters.js';
import { timedExecutor, timedStepper, timedStore } from './instrument.js';
import { SubscriberTracker } from './subscribers.js';

/** What the metrics read from the running Tower at scrape time. */
export interface MetricsSources {
  /** Sessions with a running turn. */
  runningSessions(): string[];
  /** All session ids (read at most once a minute; committed creates and deletes count in between). */
  sessionIds(): Promise<string[]>;
  /** Queue depths of one session. */
  queueDepths(sessionId: string): Promise<{ steer: number; followup: number }>;
  /** The SQLite store's WAL file size (bytes) at its last checkpoint; absent for other stores. */
  walBytes?(): number | undefined;
}

/**
 * The period of the event-loop delay histogram behind `nodejs_eventloop_lag_*`. prom-client's default
 * (10 ms) is a libuv timer that wakes an idle Tower 100 times a second, most of what an idle server
 * spends; at 50 ms (Tower's bar for a blocked loop) every block of 50 ms or more still overlaps a
 * sample, and the loop wakes 20 times a second.
 */
export const EVENT_LOOP_SAMPLE_MS = 50;

export interface MetricsOptions {
  /** `/metrics` without the token (`metrics_public: true` in the config). */
  public?: boolean;
  /** Off in tests that start many Towers in one process. Default on. */
  processMetrics?: boolean;
}

const SECONDS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const LONG_SECONDS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];

/**
 * Tower's Prometheus metrics, on a registry of its own (never the global one, so several Towers in one
 * process do not collide). Most figures are derived from what already exists: committed events through
 * `EventLog.tap`, the subscriptions' own counters, and timing views of the store, the model stepper and
 * the tool executor; nothing in core calls into here.
 */
export class Metrics {
  readonly registry = new Registry();
  readonly isPublic: boolean;
  readonly subscribers = new SubscriberTracker();
  private readonly events: EventCounters;
  private readonly batchSize: Histogram;
  private readonly commitSeconds: Histogram;
  private readonly commitFailures: Counter;
  private readonly stepSeconds: Histogram<'model' | 'outcome'>;
  /** Step ends come by the hundred at once (many turns ending together): folded in at scrape time. */
  private readonly stepEnds: DeferredObservations<'model' | 'outcome'>;
  private readonly toolSeconds: Histogram<'tool' | 'outcome'>;
  private sources: MetricsSources | undefined;
  private readonly transports = new Map<string, () => boolean>();
  private untap: (() => void) | undefined;

  constructor(opts: MetricsOptions = {}) {
    this.isPublic = opts.public === true;
    const registers = [this.registry];
    this.events = new EventCounters(registers);
    this.batchSize = new Histogram({
      name: 'tower_commit_batch_size', help: 'Entries per group commit (one store transaction)', registers,
      buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096],
    });
    this.commitSeconds = new Histogram({ name: 'tower_commit_duration_seconds', help: 'Store commit (transaction) time', registers, buckets: SECONDS });
    this.commitFailures = new Counter({ name: 'tower_commit_failures_total', help: 'Store commits that failed', registers });
    const stepEnds = new DeferredObservations(() => this.stepSeconds);
    this.stepEnds = stepEnds;
    this.stepSeconds = new Histogram({
      name: 'tower_model_step_duration_seconds', help: 'One model step, first request to last part, by model and outcome',
      labelNames: ['model', 'outcome'], registers, buckets: LONG_SECONDS,
      collect: () => stepEnds.foldAll(),
    });
    this.toolSeconds = new Histogram({
      name: 'tower_tool_call_duration_seconds', help: 'Tool call execution time by tool and outcome (ok, error, aborted)',
      labelNames: ['tool', 'outcome'], registers, buckets: LONG_SECONDS,
    });
    this.liveGauges(registers);
    if (opts.processMetrics !== false) collectDefaultMetrics({ register: this.registry, eventLoopMonitoringPrecision: EVENT_LOOP_SAMPLE_MS });
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** Starts observing a running Tower: its committed events, and what the scrape-time gauges read. */
  attach(log: EventLog, sources: MetricsSources): void {
    this.sources = sources;
    this.untap?.();
    this.untap = log.tap((batch: readonly StoredEvent[]) => this.events.observe(batch));
  }

  store<S extends Store>(store: S): S {
    return timedStore(store, {
      committed: (entries, seconds) => {
        this.batchSize.observe(entries);
        this.commitSeconds.observe(seconds);
      },
      failed: () => this.commitFailures.inc(),
    });
  }

  stepper<S extends ModelStepper>(stepper: S): S {
    return timedStepper(stepper, (model, outcome, seconds) => this.stepEnds.observe({ model, outcome }, seconds));
  }

  executor<E extends ToolExecutor>(executor: E): E {
    return timedExecutor(executor, (tool, outcome, seconds) => this.toolSeconds.observe({ tool, outcome }, seconds));
  }

  /** A transport's subscription, counted among the live subscribers of `transport` until it closes. */
  subscription(transport: string, sub: EventSubscription): EventSubscription {
    return this.subscribers.track(transport, sub);
  }

  /** A transport's push subscription, counted as live until the returned untrack is called. */
  sinkSubscription(transport: string, sub: SinkSubscription): () => void {
    return this.subscribers.add(transport, sub);
  }

  /**
   * A transport's state on `/metrics` (`tower_transport_up{transport}` 1 or 0), read at each scrape, so a
   * transport that is down (a bus that could not bind) shows as down, not as absent. Returns the untrack.
   */
  transportState(transport: string, up: () => boolean): () => void {
    this.transports.set(transport, up);
    return () => {
      if (this.transports.get(transport) === up) this.transports.delete(transport);
    };
  }

  render(): Promise<string> {
    return this.registry.metrics();
  }

  close(): void {
    this.untap?.();
    this.untap = undefined;
    this.stepEnds.close();
    this.registry.clear();
  }

  private liveGauges(registers: Registry[]): void {
    const sessions = this.events.sessionCount;
    const sources = (): MetricsSources | undefined => this.sources;
    const subscribers = this.subscribers;
    const transports = this.transports;
    new Gauge({
      name: 'tower_transport_up', help: 'Transports beside HTTP: 1 running, 0 down (e.g. the bus could not bind; it retries)', labelNames: ['transport'], registers,
      collect() {
        this.reset();
        for (const [transport, up] of transports) this.set({ transport }, up() ? 1 : 0);
      },
    });
    new Gauge({
      name: 'tower_sessions', help: 'Sessions by status', labelNames: ['status'], registers,
      async collect() {
        const src = sources();
        if (!src) return;
        const total = await sessions.total(() => src.sessionIds());
        const running = src.runningSessions().length;
        this.set({ status: 'running' }, running);
        this.set({ status: 'idle' }, Math.max(0, total - running));
      },
    });
    new Gauge({
      name: 'tower_queue_depth', help: 'Messages waiting in the steer and follow-up queues, all sessions', labelNames: ['queue'], registers,
      async collect() {
        const src = sources();
        if (!src) return;
        let steer = 0;
        let followup = 0;
        // Queues hold items only around running turns (an idle session's follow-up starts a turn at once).
        for (const id of src.runningSessions()) {
          const depths = await src.queueDepths(id).catch(() => ({ steer: 0, followup: 0 }));
          steer += depths.steer;
          followup += depths.followup;
        }
        this.set({ queue: 'steer' }, steer);
        this.set({ queue: 'followup' }, followup);
      },
    });
    new Gauge({
      name: 'tower_sqlite_wal_bytes', help: 'SQLite WAL file size at the last checkpoint (bounded under sustained writes)', registers,
      collect() {
        const bytes = sources()?.walBytes?.();
        if (bytes !== undefined) this.set(bytes);
      },
    });
    new Gauge({
      name: 'tower_live_subscribers', help: 'Open live event subscriptions by transport', labelNames: ['transport'], registers,
      collect() {
        for (const s of subscribers.snapshot()) this.set({ transport: s.transport }, s.open);
      },
    });
    // Counters mirroring totals the subscriptions keep themselves: reset and re-added at each scrape.
    new Counter({
      name: 'tower_catchup_reads_total', help: 'Store reads by live subscribers catching up (start, overflow, gap)',
      labelNames: ['transport'], registers,
      collect() {
        this.reset();
        for (const s of subscribers.snapshot()) this.inc({ transport: s.transport }, s.storeReads);
      },
    });
    new Counter({
      name: 'tower_subscriber_overflows_total', help: 'Live queues dropped in favour of a store catch-up (slow consumers)',
      labelNames: ['transport'], registers,
      collect() {
        this.reset();
        for (const s of subscribers.snapshot()) this.inc({ transport: s.transport }, s.overflows);
      },
    });
  }
}
