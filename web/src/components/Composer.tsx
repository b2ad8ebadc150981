import { useState, type FormEvent, type KeyboardEvent } from 'react';
import { useTower } from '../context.js';
import type { TranscriptState } from '../transcript/reducer.js';

/**
 * Send when idle; while a turn runs: steer (injected into this turn), follow-up (queued for after it)
 * or interrupt. Enter sends (or steers while running), Shift+Enter is a new line.
 */
export function Composer({ id, state }: { id: string; state: TranscriptState }) {
  const { api } = useTower();
  const [text, setText] = useState('');
  const [error, setError] = useState<string>();
  const base = `/api/sessions/${encodeURIComponent(id)}`;
  const run = async (fn: () => Promise<unknown>, clear = true) => {
    try {
      await fn();
      setError(undefined);
      if (clear) setText('');
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    }
  };
  const content = text.trim();
  const send = () => content && run(() => api.post(`${base}/messages`, { content, on_busy: 'enqueue' }));
  const steer = () => content && run(() => api.post(`${base}/steer`, { messages: [{ content }] }));
  const followUp = () => content && run(() => api.post(`${base}/followup`, { messages: [{ content }] }));
  const interrupt = () => run(() => api.post(`${base}/interrupt`, {}), false);
  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    void (state.streaming ? steer() : send());
  };
  const onKey = (e: KeyboardEvent<HTMLTextAreaElement>) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.nativeEvent.isComposing) onSubmit(e);
  };
  const { steer: steerQ, followup } = state.queues;
  return (
    <form className="composer" onSubmit={onSubmit} aria-label="Composer">
      {steerQ.length + followup.length > 0 ? (
        <div className="queues" data-testid="queues">
          {steerQ.map((q) => <span key={q.itemId} className="badge">steer: {q.content}</span>)}
          {followup.map((q) => <span key={q.itemId} className="badge">follow-up: {q.content}</span>)}
        </div>
      ) : null}
      <textarea aria-label="Message" rows={3} value={text} onChange={(e) => setText(e.target.value)} onKeyDown={onKey}
        placeholder={state.streaming ? 'Steer the running turn (Enter), or queue a follow-up' : 'Message the agent (Enter to send)'} />
      {error ? <p role="alert" className="error">{error}</p> : null}
      <div className="row">
        {state.streaming ? (
          <>
            <button type="button" onClick={() => void steer()} disabled={!content}>Steer</button>
            <button type="button" onClick={() => void followUp()} disabled={!content}>Follow-up</button>
            <button type="button" className="danger" onClick={() => void interrupt()}>Interrupt</button>
          </>
        ) : (
          <>
            <button type="submit" disabled={!content}>Send</button>
            <button type="button" className="ghost" onClick={() => void followUp()} disabled={!content}>Queue follow-up</button>
          </>
        )}
      </div>
    </form>
  );
}
