import { createContext, useContext, useEffect, useState } from 'react';
import type { Api } from './api/client.js';
import type { FeedSource, LiveFeed } from './live/feed.js';
import type { HubSocket } from './live/hub-socket.js';
import type { TelemetryStore } from './live/telemetryStore.js';

export interface Tower {
  api: Api;
  feeds: FeedSource;
  hub: HubSocket;
  telemetry: TelemetryStore;
}

export const TowerContext = createContext<Tower | undefined>(undefined);

export function useTower(): Tower {
  const t = useContext(TowerContext);
  if (!t) throw new Error('useTower outside TowerContext');
  return t;
}

/** The live feed in use now; a component re-renders (and its effects re-subscribe) when it changes. */
export function useFeed(): LiveFeed {
  const { feeds } = useTower();
  const [feed, setFeed] = useState(() => feeds.current());
  useEffect(() => {
    setFeed(feeds.current());
    return feeds.onChange(() => setFeed(feeds.current()));
  }, [feeds]);
  return feed;
}
