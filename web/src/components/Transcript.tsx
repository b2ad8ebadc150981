import { useVirtualizer } from '@tanstack/react-virtual';
import { useEffect, useRef } from 'react';
import type { Item } from '../transcript/items.js';
import { TranscriptItem } from './TranscriptItem.js';

/** The transcript, virtualized: only the lines on screen are in the DOM, so 10,000 events scroll. */
export function Transcript({ items, onFork }: { items: readonly Item[]; onFork(messageIndex: number): void }) {
  const parent = useRef<HTMLDivElement>(null);
  const stick = useRef(true);
  const virtualizer = useVirtualizer({
    count: items.length,
    getScrollElement: () => parent.current,
    estimateSize: () => 56,
    overscan: 12,
    getItemKey: (i) => items[i]?.key ?? i,
  });
  // Follow the stream while the reader is at the bottom; leave them be once they scroll up.
  useEffect(() => {
    if (!stick.current || items.length === 0) return;
    virtualizer.scrollToIndex(items.length - 1, { align: 'end' });
    // Lines measured after this render can grow the list: land at the very bottom once they have.
    const frame = requestAnimationFrame(() => {
      const el = parent.current;
      if (el) el.scrollTop = el.scrollHeight;
    });
    return () => cancelAnimationFrame(frame);
  }, [items, virtualizer]);
  // Only the reader's own scrolling unsticks the view: lines measured taller than estimated move the
  // bottom away from a programmatic scroll too, and that must not stop the view following.
  const byUser = useRef(false);
  const userScroll = () => {
    byUser.current = true;
  };
  const onScroll = () => {
    const el = parent.current;
    if (!el) return;
    const atBottom = el.scrollHeight - el.scrollTop - el.clientHeight < 80;
    if (atBottom) stick.current = true;
    else if (byUser.current) stick.current = false;
    byUser.current = false;
  };
  return (
    <div ref={parent} className="transcript" onScroll={onScroll} onWheel={userScroll} onKeyDown={userScroll} onPointerDown={userScroll} onTouchMove={userScroll} role="log" aria-live="polite" aria-label="Transcript" tabIndex={0} data-testid="transcript">
      {items.length === 0 ? <p className="muted empty">Nothing here yet: send a message below.</p> : null}
      <div style={{ height: virtualizer.getTotalSize(), position: 'relative' }}>
        {virtualizer.getVirtualItems().map((v) => {
          const item = items[v.index];
          if (!item) return null;
          return (
            <div key={v.key} data-index={v.index} ref={virtualizer.measureElement} className="vrow" style={{ transform: `translateY(${v.start}px)` }}>
              <TranscriptItem item={item} onFork={onFork} />
            </div>
          );
        })}
      </div>
    </div>
  );
}
