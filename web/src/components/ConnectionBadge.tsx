import { useEffect, useState } from 'react';
import { useFeed, useTower } from '../context.js';
import type { HubStatus } from '../live/hub-socket.js';

const TEXT: Record<HubStatus, string> = {
  idle: 'offline',
  connecting: 'connecting…',
  open: 'live',
  reconnecting: 'reconnecting…',
  refused: 'live',
  unauthorized: 'signed out',
};

/**
 * How the dashboard is connected, in the top bar: over the hub, or over SSE and polling when the hub
 * is refused; "reconnecting…" while the hub is away. `data-transport` says which, for people and tests.
 */
export function ConnectionBadge() {
  const { hub } = useTower();
  const feed = useFeed();
  const [status, setStatus] = useState(hub.status);
  useEffect(() => {
    setStatus(hub.status);
    return hub.onStatus(setStatus);
  }, [hub]);
  const via = feed.transport === 'hub' ? 'hub' : 'SSE + polling';
  const state = status === 'open' || status === 'refused' ? 'live' : status === 'reconnecting' ? 'reconnecting' : 'connecting';
  return (
    <span className={`live live-${state}`} role="status" data-testid="connection" data-transport={feed.transport} data-hub={status} title={`Live updates over ${via}`}>
      {TEXT[status]} · {via}
    </span>
  );
}
