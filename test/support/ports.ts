import { createServer } from 'node:net';

function listenable(port: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(undefined));
    server.listen(port, '127.0.0.1', () => {
      const got = (server.address() as { port: number }).port;
      server.close(() => resolve(got));
    });
  });
}

/**
 * Two consecutive free ports (PUB, RPC). Tests use them instead of Pando's derived ports, which sit in
 * Linux's ephemeral range (32768-60999): with many sockets open on a busy machine they are sometimes taken,
 * and then the bus retries its bind and `/ready` answers 503 (`transport_down`), as it should.
 */
export async function freePortPair(): Promise<number> {
  for (let i = 0; i < 50; i++) {
    const port = await listenable(0);
    if (port !== undefined && port < 65535 && (await listenable(port + 1)) !== undefined) return port;
  }
  throw new Error('no two consecutive free ports');
}
