import { createContext, useContext } from 'react';
import type { Api } from './api/client.js';
import type { LiveFeed } from './live/feed.js';

export interface Tower {
  api: Api;
  feed: LiveFeed;
}

export const TowerContext = createContext<Tower | undefined>(undefined);

export function useTower(): Tower {
  const t = useContext(TowerContext);
  if (!t) throw new Error('useTower outside TowerContext');
  return t;
}
