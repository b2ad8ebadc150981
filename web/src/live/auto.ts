import type { Api } from '../api/client.js';
import type { FeedSource, LiveFeed } from './feed.js';
import { HubFeed } from './hub.js';
import { HubSocket, type HubStatus } from './hub-socket.js';
import { SseFeed } from './sse.js';

/**
 * Picks the live feed: the hub while it opens (or is reconnecting after a drop), SSE and polling once
 * the hub is refused while the API answers. Pages re-subscribe when the choice changes; their folds
 * resume from what they hold, so a switch neither doubles nor drops a line.
 */
export class AutoFeed implements FeedSource {
  readonly socket: HubSocket;
  private readonly hub: HubFeed;
  private readonly sse: SseFeed;
  private readonly listeners = new Set<() => void>();
  private chosen: LiveFeed;

  constructor(api: Api) {
    const origin = `${location.protocol === 'https:' ? 'wss:' : 'ws:'}//${location.host}`;
    this.socket = new HubSocket({
      url: `${origin}/hub/ws`,
      token: () => api.currentToken,
      probe: async () => {
        try {
          const res = await api.raw('/api/models');
          return res.status === 401 ? 'unauthorized' : res.ok ? 'up' : 'down';
        } catch {
          return 'down';
        }
      },
    });
    this.hub = new HubFeed(this.socket);
    this.sse = new SseFeed(api);
    this.chosen = this.hub;
    this.socket.onStatus((s) => this.update(s));
  }

  current(): LiveFeed {
    return this.chosen;
  }

  onChange(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  private update(s: HubStatus): void {
    const next = s === 'refused' ? this.sse : s === 'open' ? this.hub : this.chosen;
    if (next === this.chosen) return;
    this.chosen = next;
    for (const fn of [...this.listeners]) fn();
  }
}
