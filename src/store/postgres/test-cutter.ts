import net from 'node:net';
import { TEST_PG_URL } from './test-db.js';

/** Test helper: a TCP proxy in front of the test Postgres that can lose a COMMIT's answer. */
export interface CommitCutter {
  url: string;
  /** Cut at the next COMMIT's answer; with `down`, Postgres stays unreachable from then until `up`. */
  arm: (opts?: { down?: boolean }) => void;
  up: () => void;
  cuts: () => number;
  close: () => Promise<void>;
}

/**
 * A TCP proxy in front of Postgres that, once armed, cuts the connection at the server's answer to a
 * COMMIT (its CommandComplete "COMMIT"): the transaction has committed and the client never hears it,
 * the window a real connection loss leaves open. Down, it ends every connection and refuses new ones.
 */
export async function commitCutter(): Promise<CommitCutter> {
  const target = new URL(TEST_PG_URL);
  let armed = false;
  let downAtCut = false;
  let down = false;
  let cuts = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    if (down) {
      client.destroy();
      return;
    }
    const upstream = net.connect(Number(target.port || 5432), target.hostname);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => undefined);
      s.on('close', () => sockets.delete(s));
    }
    client.pipe(upstream);
    let pending = Buffer.alloc(0);
    upstream.on('data', (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      // Whole server messages only: a type byte, then a length that counts itself.
      let at = 0;
      while (pending.length - at >= 5) {
        const length = pending.readUInt32BE(at + 1);
        if (pending.length - at < 1 + length) break;
        const message = pending.subarray(at, at + 1 + length);
        if (armed && message[0] === 0x43 && message.subarray(5).toString('latin1') === 'COMMIT\0') {
          armed = false;
          cuts++;
          client.write(pending.subarray(0, at));
          client.destroy();
          upstream.destroy();
          if (downAtCut) {
            down = true;
            for (const s of sockets) s.destroy();
          }
          return;
        }
        at += 1 + length;
      }
      client.write(pending.subarray(0, at));
      pending = pending.subarray(at);
    });
    upstream.on('close', () => client.destroy());
    client.on('close', () => upstream.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  const url = new URL(TEST_PG_URL);
  url.host = `127.0.0.1:${port}`;
  return {
    url: url.toString(),
    arm: (opts = {}) => {
      armed = true;
      downAtCut = opts.down ?? false;
    },
    up: () => (down = false),
    cuts: () => cuts,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
