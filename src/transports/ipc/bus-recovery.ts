import { readFileSync } from 'node:fs';
import type { Logger } from '../../core/logger.js';
import type { RunningTransport, TransportHealth } from '../context.js';

/** The stable code of a bus that could not bind its ports (log lines, `/metrics`, `BusBindError`). */
export const BUS_BIND_FAILED = 'bus_bind_failed';

/** The bus could not bind its ports; `errno` is the socket's (`EADDRINUSE` when taken). */
export class BusBindError extends Error {
  override readonly name = 'BusBindError';
  readonly code = BUS_BIND_FAILED;
  constructor(
    message: string,
    readonly ports: { pub: number; rpc: number } | undefined,
    readonly errno: string | undefined,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Where the bus stands: up, or down with the reason and how often it tried since. */
export type BusStatus =
  | { state: 'up'; attempts: number }
  | { state: 'down'; code: typeof BUS_BIND_FAILED; reason: string; attempts: number; since: string };

export interface BusRetryOptions {
  /** First wait before trying again; doubles after each failure. Default 1 s. */
  initialMs?: number;
  /** Longest wait between two attempts. Default 30 s. */
  maxMs?: number;
}

/**
 * The kernel's range of ephemeral (outgoing) ports, `[low, high]`; undefined off Linux. Pando's derived
 * ports (40000-59999) mostly sit inside the usual 32768-60999, so an outgoing connection, or one of
 * thousands in TIME-WAIT, can hold the very port the bus needs.
 */
export function ephemeralRange(file = '/proc/sys/net/ipv4/ip_local_port_range'): [number, number] | undefined {
  try {
    const [low, high] = readFileSync(file, 'utf8').trim().split(/\s+/).map(Number);
    return low !== undefined && high !== undefined && Number.isInteger(low) && Number.isInteger(high) ? [low, high] : undefined;
  } catch {
    return undefined;
  }
}

/** What to tell an operator about ports that failed to bind. */
export function bindHint(ports: { pub: number; rpc: number } | undefined, range = ephemeralRange()): string {
  if (!ports) return 'no free port could be bound';
  const inside = range !== undefined && [ports.pub, ports.rpc].some((p) => p >= range[0] && p <= range[1]);
  const where = inside
    ? ` (inside the kernel's ephemeral range ${range[0]}-${range[1]}: an outgoing connection or a socket in TIME-WAIT may hold it; ` +
      `reserve them with net.ipv4.ip_local_reserved_ports=${ports.pub}-${ports.rpc}, or choose --bus-port outside the range)`
    : '';
  return `ports ${ports.pub}/${ports.rpc} are taken${where}`;
}

/**
 * The bus while it cannot bind: it tries again with a doubling wait (capped), logging each failure,
 * until it binds (then it is the running bus) or Tower closes. HTTP serves all along; the bus's state is
 * on `status()` (and `/metrics`, `tower_transport_up{transport="bus"}`), never only in a log line.
 */
export class BusRecovery<B extends RunningTransport> implements RunningTransport {
  readonly name = 'bus';
  private running: B | undefined;
  private timer: NodeJS.Timeout | undefined;
  private attempt: Promise<void> | undefined;
  private closed = false;
  private attempts = 1;
  private wait: number;
  private readonly maxMs: number;
  private current: BusStatus;
  private readonly waiters: Array<(bus: B) => void> = [];

  constructor(
    private readonly start: () => Promise<B>,
    first: BusBindError,
    private readonly logger: Logger,
    opts: BusRetryOptions = {},
  ) {
    this.wait = Math.max(1, opts.initialMs ?? 1000);
    this.maxMs = Math.max(this.wait, opts.maxMs ?? 30_000);
    this.current = { state: 'down', code: BUS_BIND_FAILED, reason: first.message, attempts: 1, since: new Date().toISOString() };
    this.schedule();
  }

  status(): BusStatus {
    return this.current;
  }

  health(): TransportHealth {
    const s = this.current;
    return s.state === 'up' ? { up: true } : { up: false, code: s.code, reason: s.reason, since: s.since };
  }

  /** The running bus, once it has bound. */
  get bus(): B | undefined {
    return this.running;
  }

  /** Resolves with the running bus when a retry binds (tests sync on it). */
  up(): Promise<B> {
    if (this.running) return Promise.resolve(this.running);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    // An attempt under way closes what it started itself once it sees `closed`.
    await this.attempt;
    await this.running?.close();
  }

  private schedule(): void {
    this.timer = setTimeout(() => {
      this.attempt = this.retry().finally(() => {
        this.attempt = undefined;
      });
    }, this.wait);
    // A Tower that is closing must not be held open by a bus that never came up.
    this.timer.unref();
  }

  private async retry(): Promise<void> {
    this.timer = undefined;
    if (this.closed) return;
    this.attempts += 1;
    try {
      const bus = await this.start();
      if (this.closed) {
        await bus.close();
        return;
      }
      this.running = bus;
      this.current = { state: 'up', attempts: this.attempts };
      this.logger.info({ code: BUS_BIND_FAILED, attempts: this.attempts }, 'instance bus up after failing to bind');
      for (const wake of this.waiters.splice(0)) wake(bus);
    } catch (err) {
      if (this.closed) return;
      const reason = err instanceof Error ? err.message : String(err);
      const since = this.current.state === 'down' ? this.current.since : new Date().toISOString();
      this.current = { state: 'down', code: BUS_BIND_FAILED, reason, attempts: this.attempts, since };
      this.wait = Math.min(this.maxMs, this.wait * 2);
      this.logger.warn({ code: BUS_BIND_FAILED, err, attempts: this.attempts, retry_in_ms: this.wait }, `instance bus still DOWN: ${reason}; retrying`);
      this.schedule();
    }
  }
}
