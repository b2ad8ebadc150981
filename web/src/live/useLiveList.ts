import { useEffect, useRef, useState } from 'react';
import { ApiError } from '../api/client.js';
import { useFeed } from '../context.js';
import type { LiveState, TopicName, Transport } from './feed.js';

export type ListState<S> = { state: 'loading' } | { state: 'ok'; value: S } | { state: 'unavailable' } | { state: 'error'; message: string };

export interface LiveListOptions<S, L> {
  topic: TopicName;
  /** Reads the list over HTTP. */
  load(): Promise<L>;
  /** Combines a fresh read with what the page held (keeps history such as sparkline samples). */
  merge(prev: S | undefined, loaded: L): S;
  /** Folds one topic frame; must drop what the list already holds (by seq or time). */
  fold(s: S, type: string, data: unknown, timestamp: number): S;
  /** Poll period without the hub. */
  pollMs: number;
  /** With the hub too, read again this often (what no frame announces, such as a runner gone silent). */
  refreshMs?: number;
}

export interface LiveList<S> {
  list: ListState<S>;
  live: LiveState;
  transport: Transport;
  reload(): void;
}

/**
 * A list that follows a hub topic: read over HTTP each time the topic becomes live (first time and
 * after every reconnect, since frames sent meanwhile are gone), frames folded on top. Frames that come
 * while a read is in flight wait for it, then fold over it. Without the hub it polls instead.
 */
export function useLiveList<S, L>(opts: LiveListOptions<S, L>): LiveList<S> {
  const feed = useFeed();
  const [list, setList] = useState<ListState<S>>({ state: 'loading' });
  const [live, setLive] = useState<LiveState>('connecting');
  const reader = useRef<() => Promise<void>>(undefined);
  const value = useRef<S | undefined>(undefined);
  const optsRef = useRef(opts);
  optsRef.current = opts;

  useEffect(() => {
    let stopped = false;
    let loading = false;
    let again = false;
    let waiting: [string, unknown, number][] = [];
    const show = (v: S) => {
      value.current = v;
      setList({ state: 'ok', value: v });
    };
    const read = async (): Promise<void> => {
      if (loading) {
        again = true;
        return;
      }
      loading = true;
      try {
        const loaded = await optsRef.current.load();
        if (stopped) return;
        let v = optsRef.current.merge(value.current, loaded);
        for (const [type, data, at] of waiting) v = optsRef.current.fold(v, type, data, at);
        show(v);
      } catch (e) {
        if (stopped) return;
        if (e instanceof ApiError && e.unavailable) setList({ state: 'unavailable' });
        else if (value.current === undefined) setList({ state: 'error', message: e instanceof Error ? e.message : String(e) });
      } finally {
        waiting = [];
        loading = false;
        if (again && !stopped) {
          again = false;
          void read();
        }
      }
    };
    reader.current = read;
    if (!feed.topic) {
      // No hub: poll. The merge keeps what a fold would have kept.
      setLive('live');
      let timer: ReturnType<typeof setTimeout> | undefined;
      const poll = async () => {
        await read();
        if (!stopped) timer = setTimeout(() => void poll(), optsRef.current.pollMs);
      };
      void poll();
      return () => {
        stopped = true;
        if (timer) clearTimeout(timer);
      };
    }
    const refresh = optsRef.current.refreshMs;
    const refresher = refresh ? setInterval(() => void read(), refresh) : undefined;
    const stop = feed.topic(optsRef.current.topic, {
      onState: setLive,
      onLive: () => void read(),
      onFrame: (type, data, at) => {
        if (loading || value.current === undefined) {
          waiting.push([type, data, at]);
          return;
        }
        show(optsRef.current.fold(value.current, type, data, at));
      },
    });
    return () => {
      stopped = true;
      if (refresher) clearInterval(refresher);
      stop();
    };
  }, [feed]);

  return { list, live, transport: feed.topic ? feed.transport : 'poll', reload: () => void reader.current?.() };
}
