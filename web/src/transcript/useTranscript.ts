import { useEffect, useRef, useState } from 'react';
import type { WireEvent } from '../api/types.js';
import { useFeed } from '../context.js';
import type { LiveState, Transport } from '../live/feed.js';
import { applyEvents, initialTranscript, type TranscriptState } from './reducer.js';

/**
 * Follows one session: events from the live feed (hub or SSE) fold into the transcript, batched per animation
 * frame so a burst of tokens (or a 10,000-event replay) renders a few times, not once per event.
 */
export function useTranscript(sessionId: string): { state: TranscriptState; live: LiveState; transport: Transport } {
  const feed = useFeed();
  const [state, setState] = useState(() => initialTranscript(sessionId));
  const [live, setLive] = useState<LiveState>('connecting');
  const ref = useRef(state);
  useEffect(() => {
    let pending: WireEvent[] = [];
    let frame: number | undefined;
    const flush = () => {
      frame = undefined;
      const batch = pending;
      pending = [];
      ref.current = applyEvents(ref.current, batch);
      setState(ref.current);
    };
    // A new session starts empty; a switch of transport (hub ↔ SSE) keeps what is folded and resumes.
    if (ref.current.sessionId !== sessionId) {
      ref.current = initialTranscript(sessionId);
      setState(ref.current);
    }
    const stop = feed.session(sessionId, {
      // Resume after what is folded: events also still pending come again, and the fold drops them.
      from: () => ref.current.applied,
      onEvents: (events) => {
        pending.push(...events);
        if (frame === undefined) frame = requestAnimationFrame(flush);
      },
      onState: setLive,
    });
    return () => {
      stop();
      if (frame !== undefined) cancelAnimationFrame(frame);
    };
  }, [feed, sessionId]);
  return { state, live, transport: feed.transport };
}
