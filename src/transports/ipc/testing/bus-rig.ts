import { afterEach } from 'vitest';
import { GoDealer, GoSub, startBusTower, subscribed, type BusTower, type BusTowerOptions } from '../../../../test/support/fake-pando-clients.js';

/** The bus tests' setup: the test's tower and the clients it opened, all closed after each test. */
export interface BusRig {
  /** Starts the test's tower with the bus; it is closed after the test, once everything else is. */
  start(opts?: BusTowerOptions): Promise<BusTower>;
  /** A dealer on the tower's RPC socket. */
  dealer(): Promise<GoDealer>;
  /** A subscriber to every topic, returned once the bus counts it. */
  sub(): Promise<GoSub>;
  /** Something else the test opened; closed after it, newest first, before the tower. */
  cleanup(close: () => unknown): void;
}

/** Call at the top of a test file: registers the `afterEach` that closes what the tests opened. */
export function busRig(): BusRig {
  let tower: BusTower | undefined;
  const cleanups: Array<() => unknown> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
    await tower?.close();
    tower = undefined;
  });
  const running = (): BusTower => {
    if (!tower) throw new Error('busRig: start() the tower first');
    return tower;
  };
  return {
    async start(opts) {
      tower = await startBusTower(opts);
      return tower;
    },
    async dealer() {
      const d = await GoDealer.connect(running().rpc);
      cleanups.push(() => d.close());
      return d;
    },
    async sub() {
      const t = running();
      const s = GoSub.connect(t.pub);
      cleanups.push(() => s.close());
      await subscribed(s, t.bus);
      return s;
    },
    cleanup(close) {
      cleanups.push(close);
    },
  };
}
