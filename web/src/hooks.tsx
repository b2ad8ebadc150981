import { useEffect, useRef, useState } from 'react';
import { ApiError } from './api/client.js';

export type Loaded<T> = { state: 'loading' } | { state: 'ok'; value: T } | { state: 'unavailable' } | { state: 'error'; message: string };

/**
 * Loads `fn` now and every `everyMs` (pages without a live feed of their own); with `everyMs` null,
 * only now, when `deps` change and on `reload()`. A 404 for a route the server does not have is
 * "unavailable", not an error: such a server simply lacks that feature.
 */
export function usePoll<T>(fn: () => Promise<T>, everyMs: number | null, deps: unknown[] = []): [Loaded<T>, () => void] {
  const [loaded, setLoaded] = useState<Loaded<T>>({ state: 'loading' });
  const [tick, setTick] = useState(0);
  const fnRef = useRef(fn);
  fnRef.current = fn;
  useEffect(() => {
    let stop = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const load = async () => {
      try {
        const value = await fnRef.current();
        if (!stop) setLoaded({ state: 'ok', value });
      } catch (e) {
        if (stop) return;
        if (e instanceof ApiError && e.unavailable) {
          setLoaded({ state: 'unavailable' });
          return;
        }
        setLoaded({ state: 'error', message: e instanceof Error ? e.message : String(e) });
      }
      if (!stop && everyMs !== null) timer = setTimeout(load, everyMs);
    };
    void load();
    return () => {
      stop = true;
      if (timer) clearTimeout(timer);
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [everyMs, tick, ...deps]);
  return [loaded, () => setTick((t) => t + 1)];
}

export function Unavailable({ what }: { what: string }) {
  return (
    <p className="card muted" data-testid="unavailable">
      {what} not available on this server.
    </p>
  );
}
