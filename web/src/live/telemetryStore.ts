import { useSyncExternalStore } from 'react';
import { useTower } from '../context.js';
import type { TelemetryState } from '../folds/telemetry.js';
import type { ListState } from './useLiveList.js';
import type { Transport } from './feed.js';

export interface TelemetryView {
  list: ListState<TelemetryState>;
  transport: Transport;
}

/**
 * Telemetry readings gathered app-wide while the dashboard is open (the collector in the shell feeds
 * it), so the telemetry page shows the history of what ran while one looked at another page.
 */
export class TelemetryStore {
  private view: TelemetryView = { list: { state: 'loading' }, transport: 'hub' };
  private readonly listeners = new Set<() => void>();

  get = (): TelemetryView => this.view;

  set(view: TelemetryView): void {
    if (view.list === this.view.list && view.transport === this.view.transport) return;
    this.view = view;
    for (const fn of [...this.listeners]) fn();
  }

  subscribe = (fn: () => void): (() => void) => {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  };
}

export function useTelemetry(): TelemetryView {
  const { telemetry } = useTower();
  return useSyncExternalStore(telemetry.subscribe, telemetry.get);
}
