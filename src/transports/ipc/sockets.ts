import { Router, XPublisher } from 'zeromq';
import { MAX_RPC_FRAME_BYTES } from '../../protocol/pando-bus.js';
import { SubscriptionInterest } from './interest.js';

export interface BusSockets {
  /** XPUB: a PUB that also reads its peers' subscriptions (`interest`). */
  pub: XPublisher;
  /** The prefixes the PUB's peers subscribed to: frames nobody would receive are not built. */
  interest: SubscriptionInterest;
  router: Router;
  pubPort: number;
  rpcPort: number;
  pubEndpoint: string;
  rpcEndpoint: string;
  close(): Promise<void>;
}

/**
 * Binds PUB and ROUTER on `host`, at the given ports or at free ones. Either bind failing closes both, so
 * a half-open bus never lingers. The ROUTER cuts off a peer sending a message four times over the parsed
 * limit (the parser refuses anything over 1 MiB with an answer; this only bounds memory).
 */
export async function bindSockets(host: string, ports: { pub: number; rpc: number } | undefined, sendHighWaterMark: number): Promise<BusSockets> {
  const pub = new XPublisher({ sendHighWaterMark, linger: 500 });
  const router = new Router({ linger: 0, maxMessageSize: MAX_RPC_FRAME_BYTES * 4, sendHighWaterMark: 10_000 });
  const hostPart = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
  try {
    await bindRetrying(pub, `tcp://${hostPart}:${ports ? ports.pub : '*'}`);
    await bindRetrying(router, `tcp://${hostPart}:${ports ? ports.rpc : '*'}`);
  } catch (err) {
    pub.close();
    router.close();
    throw err;
  }
  const pubEndpoint = pub.lastEndpoint ?? '';
  const rpcEndpoint = router.lastEndpoint ?? '';
  return {
    pub,
    interest: new SubscriptionInterest(pub),
    router,
    pubEndpoint,
    rpcEndpoint,
    pubPort: portOf(pubEndpoint),
    rpcPort: portOf(rpcEndpoint),
    close: async () => {
      router.close();
      pub.close();
    },
  };
}

const BIND_ATTEMPTS = 10;
const BIND_RETRY_MS = 100;

/**
 * A restart on the same ports can find them still held for a moment by the previous process's sockets
 * (closing is asynchronous in ZeroMQ), so a taken port is retried for about a second before giving up.
 */
async function bindRetrying(socket: XPublisher | Router, endpoint: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await socket.bind(endpoint);
      return;
    } catch (err) {
      if ((err as { code?: string }).code !== 'EADDRINUSE' || attempt >= BIND_ATTEMPTS) throw err;
      await new Promise((r) => setTimeout(r, BIND_RETRY_MS));
    }
  }
}

function portOf(endpoint: string): number {
  const port = Number(endpoint.slice(endpoint.lastIndexOf(':') + 1));
  if (!Number.isInteger(port) || port <= 0) throw new Error(`bus: cannot read the port of ${endpoint}`);
  return port;
}
