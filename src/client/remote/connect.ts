import { discoverInstances, type DiscoverOptions } from './discover.js';
import { RemoteError } from './errors.js';
import { HttpFeed } from './http-feed.js';
import { HttpRemoteControl } from './http-control.js';
import { RemoteSession, type RemoteSessionOptions } from './remote-session.js';
import type { RemoteControl, RemoteFeed } from './types.js';
import { ZmqFeed } from './zmq-feed.js';
import { ZmqRemoteControl } from './zmq-control.js';

export type RemoteTarget =
  | { kind: 'zmq'; rpc: string; pub: string; instanceId?: string }
  | { kind: 'http'; url: string; token?: string };

/**
 * Resolves what a user names: an `http(s)://` URL (Tower's HTTP API), a `tcp://host:port` RPC endpoint
 * (PUB is the port below, Pando's convention), or an instance id (or a unique prefix of one) from the
 * registry.
 */
export function resolveTarget(target: string, opts: DiscoverOptions & { token?: string } = {}): RemoteTarget {
  if (/^https?:\/\//.test(target)) return { kind: 'http', url: target, ...(opts.token ? { token: opts.token } : {}) };
  const tcp = /^tcp:\/\/(.+):(\d{1,5})$/.exec(target);
  if (tcp) {
    const port = Number(tcp[2]);
    return { kind: 'zmq', rpc: target, pub: `tcp://${tcp[1]}:${port - 1}` };
  }
  const found = discoverInstances(opts).filter((i) => i.instance_id === target || i.instance_id.startsWith(target));
  if (found.length === 0) throw new RemoteError('not_found', `no running instance ${JSON.stringify(target)} in the registry (see \`tower instances\`)`);
  if (found.length > 1) throw new RemoteError('not_found', `${JSON.stringify(target)} names ${found.length} instances; give more of the id`);
  const i = found[0]!;
  return { kind: 'zmq', rpc: i.rpcEndpoint, pub: i.pubEndpoint, instanceId: i.instance_id };
}

export interface Remote {
  control: RemoteControl;
  /** A mirror over this remote's live feed (call `sync()` on it). */
  session(opts?: RemoteSessionOptions): RemoteSession;
  close(): Promise<void>;
}

/** Opens the control channel to a target; sessions opened from it share it and close with it. */
export function openRemote(target: RemoteTarget): Remote {
  const sessions = new Set<RemoteSession>();
  let control: RemoteControl;
  let feedFor: (o: RemoteSessionOptions) => RemoteFeed;
  if (target.kind === 'http') {
    const http = new HttpRemoteControl({ url: target.url, ...(target.token ? { token: target.token } : {}) });
    control = http;
    feedFor = (o) => {
      if (!o.sessionId) throw new RemoteError('unsupported', 'over HTTP a mirror follows one session: pass sessionId');
      return new HttpFeed(http, o.sessionId);
    };
  } else {
    control = new ZmqRemoteControl(target.rpc);
    feedFor = () => new ZmqFeed(target.pub);
  }
  return {
    control,
    session: (o = {}) => {
      const s = new RemoteSession(control, feedFor(o), o);
      sessions.add(s);
      return s;
    },
    close: async () => {
      for (const s of sessions) await s.close();
      await control.close();
    },
  };
}
